"""The device picks its own model: timing tables in, normal variant and governor ladder out.

The tables are injected (a test must not depend on this machine's speed); one test times the real
320 px model to show the measuring and the cache work for real.
"""

from __future__ import annotations

import json
import threading
from pathlib import Path

import pytest

import camera
from camera.app import RunOptions, Runtime
from camera.config import ConfigError, parse_config
from camera.detect import DetectorConfig, ModelError, load_detector
from camera.detect import memory as memory_module
from camera.detect import timing as timing_module
from camera.detect.manifest import ModelSpec, bundled_manifest, read_manifest
from camera.detect.memory import device_memory_bytes
from camera.detect.selection import select
from camera.detect.timing import CACHE_NAME, TIMINGS_ENV
from camera.sources import open_replay
from camera.types import Precision
from tests.conftest import footage
from tests.test_detect_errors import one_variant_manifest


def spec(name: str, precision: Precision, size: int) -> ModelSpec:
    return ModelSpec(name, Path(name), "0" * 64, 1, precision, size, "uint8", "nanodet", {}, {})


F416, I416 = spec("f416", "float32", 416), spec("i416", "int8", 416)
F320, I320 = spec("f320", "float32", 320), spec("i320", "int8", 320)
SPECS = [I416, F416, I320, F320]  # manifest order does not matter

PI5 = {"f416": 80.0, "i416": 35.0, "f320": 50.0, "i320": 22.0}
"""int8 pays (NEON dot products) and float32 416 fits a 100 ms budget."""
PI4 = {"f416": 260.0, "i416": 95.0, "f320": 160.0, "i320": 60.0}
ZERO2W = {"f416": 900.0, "i416": 330.0, "f320": 540.0, "i320": 200.0}
NO_VNNI = {"f416": 51.0, "i416": 47.0, "f320": 31.0, "i320": 29.0}
"""An x86 whose int8 kernels run at float speed: int8 is no rung there."""


@pytest.mark.parametrize(
    ("table", "normal", "ladder"),
    [
        (PI5, "f416", ["f416", "i416", "i320"]),
        (PI4, "i416", ["i416", "i320"]),
        (ZERO2W, "i320", ["i320"]),  # nothing fits 100 ms: the fastest
        (NO_VNNI, "f416", ["f416", "f320"]),  # a 3 % saving is no reason to lose precision
    ],
)
def test_auto_picks_the_most_accurate_variant_within_budget(table, normal, ladder) -> None:
    selection = select(SPECS, table, "auto", 100.0)
    assert selection.normal.name == normal
    assert [s.name for s in selection.ladder] == ladder
    assert not selection.pinned and "auto" in selection.reason


def test_the_budget_moves_the_choice() -> None:
    assert select(SPECS, PI4, "auto", 300.0).normal.name == "f416"
    assert select(SPECS, PI4, "auto", 60.0).normal.name == "i320"


def test_a_pinned_variant_wins_over_the_budget() -> None:
    selection = select(SPECS, ZERO2W, "f416", 100.0)  # far too slow, but the owner said so
    assert selection.normal.name == "f416" and selection.pinned
    assert [s.name for s in selection.ladder] == ["f416", "i416", "i320"]
    with pytest.raises(ModelError, match="'f999' is not in the models manifest; use auto or one"):
        select(SPECS, PI5, "f999", 100.0)


def test_an_old_config_pinning_nanodet_is_told_what_to_write_now() -> None:
    picodet = [spec("picodet-s416-int8", "int8", 416)]
    with pytest.raises(ModelError) as error:
        select(picodet, {"picodet-s416-int8": 50.0}, "nanodet-g416-int8", 300.0)
    assert "write `variant: picodet-s416-int8` or `variant: auto`" in str(error.value)
    shipped = [spec("picodet-s416-float32", "float32", 416)]
    with pytest.raises(ModelError) as error:  # only float32 ships at 416: its twin is named
        select(shipped, {"picodet-s416-float32": 50.0}, "nanodet-g416-int8", 300.0)
    assert "write `variant: picodet-s416-float32`" in str(error.value)


def test_with_less_than_a_gigabyte_auto_leaves_float32_out() -> None:
    zero = 512 * 2**20
    small = select(SPECS, PI4, "auto", 300.0, memory_bytes=zero)  # f416 would fit the budget
    assert small.normal.name == "i416" and [s.name for s in small.ladder] == ["i416", "i320"]
    assert "float32 left out with 512 MB of memory" in small.reason
    assert select(SPECS, PI4, "auto", 300.0, memory_bytes=4 * 2**30).normal.name == "f416"
    pinned = select(SPECS, PI4, "f416", 300.0, memory_bytes=zero)  # the owner's choice stands
    assert [s.name for s in pinned.ladder] == ["f416", "i416", "i320"]


def test_device_memory_is_the_smaller_of_ram_and_the_cgroup_limit(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    meminfo = tmp_path / "meminfo"
    meminfo.write_text("MemTotal:        3884832 kB\nMemFree:  1000 kB\n")
    cgroup = tmp_path / "cgroup"
    cgroup.write_text("0::/system.slice/ronda.service\n")
    monkeypatch.setattr(memory_module, "CGROUP_ROOT", tmp_path)
    unit = tmp_path / "system.slice" / "ronda.service"
    unit.mkdir(parents=True)
    (unit / "memory.max").write_text("max\n")
    assert device_memory_bytes(meminfo, cgroup) == 3884832 * 1024
    (unit / "memory.max").write_text(f"{400 * 2**20}\n")  # MemoryMax=400M
    assert device_memory_bytes(meminfo, cgroup) == 400 * 2**20
    assert device_memory_bytes(tmp_path / "none", tmp_path / "none") is None


def test_a_variant_without_timing_is_an_error() -> None:
    with pytest.raises(ModelError, match="no latency measured for model variant"):
        select(SPECS, {"f416": 1.0}, "auto", 100.0)


# -- timing at start, cached per model file and device ---------------------------------------


@pytest.fixture
def measured(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """No timing override: the loader measures (through ``fake_measure``) and caches."""
    monkeypatch.delenv(TIMINGS_ENV)
    return []


def fake_measure(calls: list[str], table: dict[str, float]):
    def measure(spec: ModelSpec, threads: int) -> float:
        calls.append(spec.name)
        return table[spec.name]

    return measure


BUNDLED = {s.name: s for s in read_manifest(bundled_manifest())}
PI5_BUNDLED = {
    name: {"float32": 80.0, "int8": 35.0}[s.precision] * (s.input_size / 416) ** 2
    for name, s in BUNDLED.items()
}


def test_timed_once_then_read_from_the_cache(measured: list[str], tmp_path: Path) -> None:
    measure = fake_measure(measured, PI5_BUNDLED)
    first = load_detector(DetectorConfig(), cache_dir=tmp_path, measure=measure)
    assert sorted(measured) == sorted(BUNDLED)  # every variant timed once
    assert first.variant == "picodet-s416-float32" and first.precision == "float32"
    assert first.timings is not None and first.timings.source == "measured"
    first_ladder = [m.name for m in first.ladder]
    first.close()
    cache = json.loads((tmp_path / CACHE_NAME).read_text())
    assert len(cache["entries"]) == len(BUNDLED)
    second = load_detector(DetectorConfig(), cache_dir=tmp_path, measure=measure)
    assert len(measured) == len(BUNDLED)  # nothing timed at the second start
    assert second.timings is not None and second.timings.source == "cached"
    assert second.variant == first.variant
    assert [m.name for m in second.ladder] == first_ladder
    second.close()


def test_an_upgrade_times_again(
    measured: list[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    measure = fake_measure(measured, PI5_BUNDLED)
    load_detector(DetectorConfig(), cache_dir=tmp_path, measure=measure).close()
    monkeypatch.setattr(camera, "__version__", "9.9.9")
    load_detector(DetectorConfig(), cache_dir=tmp_path, measure=measure).close()
    assert len(measured) == 2 * len(BUNDLED)
    monkeypatch.setattr(timing_module, "cpu_quota", lambda: "25000/100000")  # a new CPUQuota=
    load_detector(DetectorConfig(), cache_dir=tmp_path, measure=measure).close()
    assert len(measured) == 3 * len(BUNDLED)


def test_real_timing_of_a_real_model(measured: list[str], tmp_path: Path) -> None:
    (tmp_path / "models").mkdir()
    manifest = one_variant_manifest(tmp_path / "models")
    detector = load_detector(DetectorConfig(manifest=manifest), cache_dir=tmp_path)
    assert detector.timings is not None and detector.timings.source == "measured"
    ((name, ms),) = detector.timings.timings_ms.items()
    assert name == "picodet-s320-float32" and 0.0 < ms < 60_000
    assert detector.selection is not None and detector.selection.normal.name == name
    detector.close()
    assert json.loads((tmp_path / CACHE_NAME).read_text())["entries"]


def test_unusable_override_is_one_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(TIMINGS_ENV, "picodet-s416-float32=fast")
    with pytest.raises(ModelError, match="is not name=milliseconds"):
        load_detector(DetectorConfig())


# -- configuration ---------------------------------------------------------------------------


def test_old_precision_settings_say_what_to_write() -> None:
    with pytest.raises(ConfigError) as error:
        parse_config({"detector": {"precision": "float32"}}, "ronda.yaml")
    assert "detector.precision was replaced by detector.variant" in str(error.value)
    assert "variant: auto" in str(error.value)
    with pytest.raises(ConfigError) as error:
        parse_config({"governor": {"heat": {"warm": {"at": 70, "precision": "int8"}}}})
    assert "governor.heat.warm" in str(error.value) and "model_step: 1" in str(error.value)


def test_a_pinned_variant_runs_and_the_policy_names_it(tmp_path: Path) -> None:
    config = parse_config(
        {
            "store": {"path": str(tmp_path)},
            "detector": {"variant": "picodet-s416-float32"},
            "governor": {"sensors": {"sysfs_root": str(tmp_path / "no-sys"), "vcgencmd": "/no"}},
        }
    )
    seen = []
    runtime = Runtime(config, RunOptions(use_mqtt=False, hooks=[lambda o: seen.append(o.policy)]))
    assert runtime.detector.variant == "picodet-s416-float32"
    assert runtime.stats_payload()["variant"] == "picodet-s416-float32"
    stop = threading.Event()
    source = open_replay(footage("stills"))
    try:
        runtime.run_source(source, stop)
    finally:
        runtime.close()
    assert seen and {p.variant for p in seen} == {"picodet-s416-float32"}
    assert {p.precision for p in seen} == {"float32"}


def test_only_the_rungs_the_governor_can_reach_are_loaded(tmp_path: Path) -> None:
    def ladder(governor: dict) -> list[str]:
        config = parse_config(
            {
                "store": {"path": str(tmp_path)},
                "detector": {"variant": "picodet-s416-float32"},
                "governor": governor,
            }
        )
        runtime = Runtime(config, RunOptions(use_mqtt=False))
        names = [m.name for m in runtime.detector.ladder]
        runtime.close()
        return names

    full = ["picodet-s416-float32", "picodet-s320-float32"]
    assert ladder({}) == full  # warm and hot run 320 px; the paused levels run nothing
    assert ladder({"enabled": False}) == full[:1]  # no governor, no other model in memory
    no_step = {"model_step": 0}  # a level's unset keys keep their defaults
    levels = {"heat": {"warm": no_step, "hot": no_step}, "battery": {"low": no_step}}
    assert ladder(levels) == full[:1]
