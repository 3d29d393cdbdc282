"""How long one inference of each model variant takes on this device: measured once, then cached.

The same model costs 5 to 20 times more on a Pi Zero 2 W than on a Pi 5, and int8 pays on some
CPUs and not on others, so the only trustworthy latency is the one measured here, with the
configured number of threads.  Measuring every variant takes from under a second (x86) to tens of
seconds (Pi Zero 2 W), so the result is kept in ``<state dir>/model-timings.json`` under a key
made of the model file's sha256, the thread count and the device's fingerprint (CPU model, CPUs
this process may use, its cgroup CPU quota, the TFLite runtime and Ronda versions).  A start with
an unchanged key reads the file and measures nothing; an upgrade of Ronda or of the runtime, a
rebuilt model, another board or a new ``CPUQuota=`` changes the key and the variant is timed again.

``$RONDA_MODEL_TIMINGS`` (``name=ms,name=ms``) replaces the measurement altogether: for tests,
which must not depend on the speed of the machine they run on, and for fleets of identical cameras.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import platform
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import camera
from camera.detect.errors import ModelError
from camera.detect.manifest import ModelSpec
from camera.detect.runtime import interpreter_class

log = logging.getLogger(__name__)

CACHE_NAME = "model-timings.json"
TIMINGS_ENV = "RONDA_MODEL_TIMINGS"
CHILD_TIMEOUT_S = 600.0
"""A Pi Zero 2 W takes seconds per float32 inference; this is only a guard against a hang."""
CGROUP_V1 = Path("/sys/fs/cgroup/cpu")
CGROUP_V2 = Path("/sys/fs/cgroup")

Measure = Callable[[ModelSpec, int], float]
"""``(variant, threads) -> milliseconds`` for one inference."""


@dataclass(frozen=True, slots=True)
class DeviceTimings:
    """Latency per variant name on this device, and where the numbers came from."""

    timings_ms: dict[str, float]
    threads: int
    device: str
    source: Literal["measured", "cached", "cached+measured", "environment"]
    failed: dict[str, str] = field(default_factory=dict)
    """Variants whose timing failed, with the one-line reason: they are not used."""


def measure_latency(spec: ModelSpec, threads: int) -> float:
    """One variant's latency, measured in a child process (``python -m camera.detect.measure``).

    Loading a model costs the process its memory for good (a float32 416 model adds about 75 MB
    of RSS once XNNPACK has packed it, and freed heap is rarely handed back), and the camera
    keeps only its ladder; timing every variant in the camera's own process would leave its peak
    memory at the sum.  The child exits and returns all of it.
    """
    command = [sys.executable, "-m", "camera.detect.measure", str(spec.path), str(spec.input_size)]
    try:
        done = subprocess.run(
            [*command, str(threads)], capture_output=True, text=True, timeout=CHILD_TIMEOUT_S
        )
    except (OSError, subprocess.TimeoutExpired) as error:
        raise ModelError(f"timing {spec.name} failed: {error}") from None
    lines = done.stdout.strip().splitlines()
    if done.returncode != 0 or not lines:
        reason = " ".join(done.stderr.split())[-200:] or f"exit {done.returncode}"
        raise ModelError(f"timing {spec.name} failed: {reason}")
    return float(lines[-1])


def device_timings(
    specs: Sequence[ModelSpec],
    threads: int,
    cache_dir: Path | None,
    measure: Measure = measure_latency,
) -> DeviceTimings:
    """Every variant's latency: from ``$RONDA_MODEL_TIMINGS``, the cache, or measured now.

    A variant whose measurement fails (the runtime cannot load its file, the child crashes) is
    left out and listed in ``failed``: the loader decides whether that is fatal (a pinned
    variant) or one line (any other); nothing about it is cached, so it is tried at every start."""
    device = fingerprint()
    override = os.environ.get(TIMINGS_ENV)
    if override:
        return DeviceTimings(_parse_override(override, specs), threads, device, "environment")
    cache = _read_cache(cache_dir / CACHE_NAME) if cache_dir is not None else {}
    timings: dict[str, float] = {}
    failed: dict[str, str] = {}
    measured = []
    for spec in specs:
        key = _key(spec, threads, device)
        entry = cache.get(key)
        if isinstance(entry, dict) and isinstance(entry.get("ms"), int | float):
            timings[spec.name] = float(entry["ms"])
            continue
        log.info("timing %s on this device (%d threads, once)", spec.name, threads)
        try:
            timings[spec.name] = measure(spec, threads)
        except ModelError as error:
            failed[spec.name] = str(error)
            continue
        measured.append(spec.name)
        cache[key] = {"variant": spec.name, "ms": round(timings[spec.name], 2), "at": time.time()}
    if measured and cache_dir is not None:
        keep = {_key(s, threads, device) for s in specs}
        _write_cache(cache_dir / CACHE_NAME, {k: v for k, v in cache.items() if k in keep})
    source: Literal["measured", "cached", "cached+measured"] = "cached+measured"
    if not measured:
        source = "cached"
    elif len(measured) == len(specs):
        source = "measured"
    return DeviceTimings(timings, threads, device, source, failed)


def fingerprint() -> str:
    """What makes two latency measurements comparable: the CPU, the CPUs and quota this process
    gets, the TFLite runtime and Ronda's version."""
    backend = _runtime_version()
    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return (
        f"{_cpu_model()}; {platform.machine()}; {cpus} cpus; quota {cpu_quota() or 'none'}; "
        f"{backend}; ronda {camera.__version__}"
    )


def cpu_quota() -> str | None:
    """This process's cgroup CPU limit as ``quota/period`` microseconds, or None if unlimited."""
    for quota_file, period_file in _cgroup_files():
        try:
            quota = quota_file.read_text().split()
            period = period_file.read_text().split() if period_file != quota_file else quota[1:]
        except (OSError, IndexError):
            continue
        if quota and quota[0] not in ("-1", "max") and period:
            return f"{quota[0]}/{period[0]}"
        return None
    return None


def _cgroup_files() -> list[tuple[Path, Path]]:
    """The quota files of this process's own cgroup (v1 ``cpu`` controller, or v2 ``cpu.max``)."""
    try:
        lines = Path("/proc/self/cgroup").read_text().splitlines()
    except OSError:
        return []
    found = []
    for line in lines:
        _, controllers, path = line.split(":", 2)
        relative = path.lstrip("/")
        if "cpu" in controllers.split(","):
            folder = CGROUP_V1 / relative
            found.append((folder / "cpu.cfs_quota_us", folder / "cpu.cfs_period_us"))
        elif controllers == "":
            v2 = CGROUP_V2 / relative / "cpu.max"
            found.append((v2, v2))
    return found


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            key = line.split(":", 1)[0].strip().lower()
            if key in ("model name", "hardware", "model", "cpu part"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown cpu"


def _runtime_version() -> str:
    try:
        name, _ = interpreter_class()
    except ModelError:
        return "no runtime"
    try:
        from importlib.metadata import version

        return f"{name} {version(name.replace('_', '-'))}"
    except Exception:  # a runtime installed without metadata still has a name
        return name


TIMING_METHOD = "sustained>=1s"
"""How ``camera.detect.measure`` times (part of the cache key: a new method re-times)."""


def _key(spec: ModelSpec, threads: int, device: str) -> str:
    text = f"{spec.sha256}|{threads}|{device}|{TIMING_METHOD}"
    return hashlib.sha256(text.encode()).hexdigest()[:24]


def _parse_override(text: str, specs: Sequence[ModelSpec]) -> dict[str, float]:
    timings: dict[str, float] = {}
    for item in text.split(","):
        name, _, value = item.strip().partition("=")
        try:
            timings[name.strip()] = float(value)
        except ValueError:
            raise ModelError(f"${TIMINGS_ENV}: {item.strip()!r} is not name=milliseconds") from None
    missing = [s.name for s in specs if s.name not in timings]
    if missing:
        raise ModelError(f"${TIMINGS_ENV} has no latency for {', '.join(missing)}")
    return timings


def _read_cache(path: Path) -> dict[str, object]:
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    except (OSError, ValueError) as error:
        log.warning("ignoring unreadable %s (%s): the variants are timed again", path, error)
        return {}
    entries = document.get("entries") if isinstance(document, dict) else None
    return dict(entries) if isinstance(entries, dict) else {}


def _write_cache(path: Path, entries: dict[str, object]) -> None:
    """Atomic write; a read-only state directory costs a re-measurement next time, nothing more."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_suffix(".tmp")
        partial.write_text(json.dumps({"schema": 1, "entries": entries}, indent=1) + "\n")
        partial.replace(path)
    except OSError as error:
        log.warning("cannot cache model timings in %s (%s): they are measured at every start",
                    path, error)  # fmt: skip
