"""The table of bad inputs the command line must survive: one line, the right exit code.

Each case builds its own files in a fresh directory and names the ``ronda`` arguments, the
environment, the exit code it must end with and a few words the error line must contain.  The
table is used twice: in-process through ``camera.cli.main`` (fast, every case that cannot hang a
test process) and as real ``ronda`` subprocesses (FIFOs, devices, other users, signals).

Exit codes (``camera/cli/__init__.py``): 0 fine, 1 something on disk or in the world is
unusable, 2 the text of the configuration or the command line is invalid, 3 alerts still queued.
"""

from __future__ import annotations

import json
import math
import os
import shutil
import sqlite3
import subprocess
import time
import types
import typing
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import yaml
from pydantic import BaseModel

from tests.conftest import CANARY_PASSWORD, FOOTAGE

REPO = Path(__file__).resolve().parent.parent
MODELS = REPO / "models"
NOBODY = 65534
UNUSED_PORT = 9  # discard: nothing listens there on loopback in the test machines


@dataclass
class Setup:
    """What to run: ``ronda ARGV`` with extra environment variables, optionally as ``nobody``."""

    argv: list[str]
    env: dict[str, str] = field(default_factory=dict)
    as_nobody: bool = False


@dataclass(frozen=True)
class Case:
    id: str
    kind: str  # config | value | cli | env | video | state | model
    build: Callable[[Workspace], Setup]
    code: int | frozenset[int]
    says: str = ""
    """Lower-case words the one error line must contain (nothing checked when empty)."""
    process: bool = False
    """Only as a real subprocess: a FIFO or device would block a test process, or it needs
    another user or its own environment."""

    def codes(self) -> frozenset[int]:
        return self.code if isinstance(self.code, frozenset) else frozenset({self.code})


class Workspace:
    """A case's own directory with helpers to make the files it needs."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.state = root / "state"

    def path(self, name: str) -> Path:
        return self.root / name

    def write(self, name: str, data: bytes | str) -> Path:
        path = self.root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(data, bytes):
            path.write_bytes(data)
        else:
            path.write_text(data, encoding="utf-8")
        return path

    def fifo(self, name: str) -> Path:
        path = self.root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        os.mkfifo(path)
        return path

    def loop(self, name: str) -> Path:
        """A symlink pointing at itself."""
        path = self.root / name
        path.symlink_to(path)
        return path

    def config(self, text: str | None = None, **sections: Any) -> Path:
        """The test config: state here, the canary password, no reachable broker, merged with
        ``sections``; or ``text`` verbatim."""
        path = self.root / "ronda.yaml"
        if text is not None:
            path.write_text(text, encoding="utf-8")
            return path
        data: dict[str, Any] = {
            "camera": {"name": "test"},
            "store": {"path": str(self.state)},
            "mqtt": {
                "host": "127.0.0.1",
                "port": UNUSED_PORT,
                "password": CANARY_PASSWORD,
                "drain_timeout_s": 0.5,
                "reconnect_max_s": 1.0,
            },
        }
        for name, values in sections.items():
            _merge(data.setdefault(name, {}), values)
        path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
        return path

    def video(self, name: str = "tiny.avi", frames: int = 6, size: tuple[int, int] = (160, 120)):
        """A short MJPG clip of a moving square (decodes everywhere OpenCV does)."""
        path = self.root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        width, height = size
        writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), 10.0, size)
        for index in range(frames):
            image = np.full((height, width, 3), 90, np.uint8)
            x = (index * 7) % max(1, width - 8)
            image[height // 4 : height // 4 + 8, x : x + 8] = 250
            writer.write(image)
        writer.release()
        return path

    def images(self, folder: str, good: int = 0, corrupt: int = 0) -> Path:
        directory = self.root / folder
        directory.mkdir(parents=True, exist_ok=True)
        for index in range(good):
            image = np.full((120, 160, 3), 80 + index, np.uint8)
            cv2.imwrite(str(directory / f"frame{index:03d}.png"), image)
        for index in range(corrupt):
            (directory / f"frame{good + index:03d}.jpg").write_bytes(os.urandom(2048))
        return directory

    def database(self, sql: str = "") -> Path:
        """A real state database made by Ronda's own schema, then ``sql`` run on it."""
        from camera.store import Database

        self.state.mkdir(parents=True, exist_ok=True)
        path = self.state / "ronda.sqlite3"
        Database(path).close()
        if sql:
            with sqlite3.connect(path) as db:
                db.executescript(sql)
        return path

    def manifest(self, mutate: Callable[[dict[str, Any]], None]) -> Path:
        """A copy of the bundled manifest (model paths made absolute), changed by ``mutate``."""
        document = json.loads((MODELS / "manifest.json").read_text())
        for variant in document["variants"]:
            variant["file"] = str(MODELS / variant["file"])
        mutate(document)
        return self.write("models/manifest.json", json.dumps(document))

    def model_copy(self) -> Path:
        """The bundled models copied here (to be damaged), with their manifest."""
        folder = self.root / "models"
        folder.mkdir(parents=True, exist_ok=True)
        for item in ("manifest.json", "labels.txt"):
            shutil.copy(MODELS / item, folder / item)
        for variant in json.loads((MODELS / "manifest.json").read_text())["variants"]:
            shutil.copy(MODELS / variant["file"], folder / variant["file"])
        return folder / "manifest.json"


def _merge(target: dict[str, Any], values: dict[str, Any]) -> None:
    for key, value in values.items():
        if isinstance(value, dict) and isinstance(target.get(key), dict):
            _merge(target[key], value)
        else:
            target[key] = value


def nested(path: str, value: Any) -> dict[str, Any]:
    """``nested("a.b.c", 1)`` -> ``{"a": {"b": {"c": 1}}}``."""
    data: Any = value
    for key in reversed(path.split(".")):
        data = {key: data}
    return data


# -- builders ------------------------------------------------------------------------------------
def events(ws: Workspace, config: Path | None = None, *extra: str) -> Setup:
    return Setup(["events", "--config", str(config or ws.config()), *extra])


def replay(ws: Workspace, video: Path | str, *extra: str, config: Path | None = None) -> Setup:
    return Setup(
        ["replay", str(video), "--no-mqtt", "--config", str(config or ws.config()), *extra]
    )


def value_case(path: str, value: Any, says: str = "", code: int = 2) -> Case:
    """``ronda events`` with one option set to ``value``: refused (or accepted) at load."""
    top, _, rest = path.partition(".")

    def build(ws: Workspace) -> Setup:
        return events(ws, ws.config(**{top: nested(rest, value)}) if rest else ws.config())

    label = f"{value!r}"[:24]
    return Case(f"value:{path}={label}", "value", build, code, says or path)


def _tls_files(ws: Workspace) -> dict[str, Path]:
    """A CA, a certificate signed by it and its key, and a second key that matches nothing."""

    def ssl(*args: str) -> None:
        subprocess.run(["openssl", *args], cwd=ws.root, check=True, capture_output=True)

    ssl(
        "req",
        "-x509",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-days",
        "2",
        "-subj",
        "/CN=ca",
        "-keyout",
        "ca.key",
        "-out",
        "ca.pem",
    )
    ssl(
        "req",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-subj",
        "/CN=client",
        "-keyout",
        "client.key",
        "-out",
        "client.csr",
    )
    ssl(
        "x509",
        "-req",
        "-in",
        "client.csr",
        "-CA",
        "ca.pem",
        "-CAkey",
        "ca.key",
        "-CAcreateserial",
        "-days",
        "2",
        "-out",
        "client.pem",
    )
    ssl("genpkey", "-algorithm", "RSA", "-out", "other.key")
    return {n: ws.path(n) for n in ("ca.pem", "client.pem", "client.key", "other.key")}


def tls_case(name: str, files: Callable[[Workspace], dict[str, Any]], says: str) -> Case:
    def build(ws: Workspace) -> Setup:
        tls = {"enabled": True, **files(ws)}
        return Setup(["flush", "--timeout", "1", "--config", str(ws.config(mqtt={"tls": tls}))])

    return Case(f"config:tls-{name}", "config", build, 2, says)


def _garbage(ws: Workspace) -> Path:
    return ws.write("garbage.pem", os.urandom(700))


def _long(ws: Workspace, suffix: str = "") -> str:
    return str(ws.root / ("x" * 300 + suffix))


# -- the table -----------------------------------------------------------------------------------
def config_file_cases() -> Iterator[Case]:
    def file(name: str, make: Callable[[Workspace], Path | str], code: int, says: str, **kw: Any):
        return Case(
            f"config:{name}", "config", lambda ws: events(ws, Path(make(ws))), code, says, **kw
        )

    yield file("random-bytes", lambda ws: ws.write("c.yaml", os.urandom(4000)), 2, "utf-8")
    yield file(
        "utf16-bom",
        lambda ws: ws.write("c.yaml", "camera:\n  name: test\n".encode("utf-16")),
        2,
        "utf-8",
    )
    yield file("utf8-bom", lambda ws: ws.write("c.yaml", "\ufeffcamera:\n  name: t\n"), 0, "")
    yield file("empty", lambda ws: ws.write("c.yaml", ""), 0, "")
    yield file("directory", lambda ws: ws.root, 2, "directory")
    yield file("missing", lambda ws: ws.path("nope.yaml"), 2, "does not exist")
    yield file("symlink-loop", lambda ws: ws.loop("loop.yaml"), 2, "symbolic links")
    yield file("fifo", lambda ws: ws.fifo("c.yaml"), 2, "not a regular file", process=True)
    yield file("dev-zero", lambda ws: "/dev/zero", 2, "not a regular file", process=True)
    yield file("dev-null", lambda ws: "/dev/null", 2, "not a regular file", process=True)
    yield file(
        "huge",
        lambda ws: ws.write("c.yaml", "# padding\n" * 2_000_000),
        2,
        "too large",
    )
    yield file("a-list", lambda ws: ws.write("c.yaml", "- camera\n- mqtt\n"), 2, "mapping")
    yield file("a-scalar", lambda ws: ws.write("c.yaml", "hello\n"), 2, "mapping")
    yield file("int-key", lambda ws: ws.write("c.yaml", "1: 2\n"), 2, "should be strings")
    yield file("tab-indent", lambda ws: ws.write("c.yaml", "mqtt:\n\thost: x\n"), 2, "line")
    yield file("unclosed", lambda ws: ws.write("c.yaml", "mqtt: {host: [x\n"), 2, "line")
    laughs = "a: &a [1, 1, 1, 1, 1, 1, 1, 1, 1, 1]\n" + "".join(
        f"{chr(98 + i)}: &{chr(98 + i)} [{', '.join([f'*{chr(97 + i)}'] * 10)}]\n" for i in range(8)
    )
    yield file(
        "billion-laughs",
        lambda ws: ws.write("c.yaml", laughs + "motion:\n  masks: *i\n"),
        2,
        "too large",
    )
    yield file(
        "deep-nesting",
        lambda ws: ws.write("c.yaml", "motion:\n  masks: " + "[" * 5000 + "]" * 5000 + "\n"),
        2,
        "nested",
    )
    yield file("nul-in-path", lambda ws: str(ws.root) + "/c\0.yaml", 2, "nul")
    yield file("empty-path", lambda ws: "", 2, "")
    yield file("long-name", lambda ws: _long(ws, ".yaml"), 2, "too long")
    yield Case(
        "config:unreadable-by-user",
        "config",
        lambda ws: _as_nobody(ws, events(ws, _private(ws.config()))),
        2,
        "permission denied",
        process=True,
    )


def _private(path: Path) -> Path:
    path.chmod(0o600)
    path.parent.chmod(0o755)
    return path


def config_value_cases() -> Iterator[Case]:
    yield Case(
        "value:mqtt-section-error-hides-password",
        "value",
        lambda ws: events(ws, ws.config(mqtt={"port": "not-a-port"})),
        2,
        "mqtt.port",
    )
    yield Case(
        "value:mqtt-section-not-a-mapping",
        "value",
        lambda ws: events(ws, ws.config(f"mqtt: [{CANARY_PASSWORD}, 1883]\n")),
        2,
        "mqtt",
    )
    yield Case(
        "value:mqtt-validator-hides-password",
        "value",
        lambda ws: events(ws, ws.config(mqtt={"password_file": str(ws.path("nope"))})),
        2,
        "password_file",
    )
    yield Case(
        "value:password-of-wrong-type",
        "value",
        lambda ws: events(ws, ws.config(mqtt={"password": {"x": CANARY_PASSWORD}})),
        2,
        "mqtt.password",
    )
    for prefix, says in (
        ("ronda/+/x", "topic_prefix"),
        ("ronda/#", "topic_prefix"),
        ("ron\0da", "topic_prefix"),
        ("$SYS/ronda", "topic_prefix"),
        ("ronda/", "topic_prefix"),
        ("x" * 70_000, "topic_prefix"),
        ("é" * 40_000, "topic_prefix"),  # 80,000 UTF-8 bytes, 40,000 characters
    ):
        yield value_case("mqtt.topic_prefix", prefix, says)
    yield value_case("mqtt.topic_prefix", "maison/caméra-1", code=0)
    for name in ("a/b", "", "x" * 300, "a+b", "a#b"):
        yield value_case("camera.name", name)
    for client in ("", "x" * 70_000, "a\0b"):
        yield value_case("mqtt.client_id", client, "client_id")
    for host in ("", "x" * 70_000, "a\0b", "bad host", "host/path"):
        yield value_case("mqtt.host", host, "host")
    yield value_case("mqtt.username", "x" * 70_000, "username")
    yield value_case("mqtt.discovery.prefix", "home/+/x", "discovery.prefix")
    yield value_case("mqtt.password_env", "", code=0)  # no environment variable then
    yield value_case("store.path", "", "store.path")
    yield value_case("store.path", "st\0ate", "store.path")
    yield value_case("detector.manifest", "m\0.json", "detector.manifest")
    yield value_case("mqtt.password_file", "p\0w", "password_file")
    yield value_case("mqtt.tls.ca_file", "c\0a", "ca_file")
    yield value_case("source.uri", "cam\0", "source.uri")
    yield value_case("governor.sensors.vcgencmd", "vcgencmd 'unbalanced", "vcgencmd")
    yield value_case("governor.sensors.temperature.path", "t\0emp", "temperature.path")
    yield value_case("governor.sensors.sysfs_root", "", "sysfs_root")
    # Partial overrides: one nested option alone keeps the rest of its defaults.
    yield value_case("governor.heat.hot.fps", 3, code=0)
    yield value_case("governor.battery.low.at", 25, code=0)
    yield value_case("governor.heat.critical.detect", True, code=0)
    yield value_case("tracker.labels.pet.threshold", 0.4, code=0)
    yield value_case("mqtt.tls.insecure", True, code=0)
    yield value_case("governor.heat.hot.at", 90.0, "heat thresholds must rise")
    # Numbers: NaN and infinities are refused everywhere (generated below for every float).
    yield from float_field_cases()
    yield value_case("motion.masks", [[[math.nan, 0], [1, 0], [0, 1]]], "motion.masks")
    yield value_case("zones.door", {"points": [[0, 0], [math.inf, 0], [0, 1]]}, "zones.door")
    yield value_case("zones.door", {"points": [[0, 0], [1, 0]]}, "zones.door")
    yield value_case("store.max_events", 10**30, "store.max_events")
    yield value_case("mqtt.keepalive_s", -5, "mqtt.keepalive_s")


def float_fields(model: type[BaseModel], prefix: str = "") -> Iterator[str]:
    """Every float option of the config model, as a dotted path."""
    for name, info in model.model_fields.items():
        annotation = info.annotation
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            yield from float_fields(annotation, f"{prefix}{name}.")
        elif float in _plain_types(annotation):
            yield f"{prefix}{name}"


def _plain_types(annotation: Any) -> set[Any]:
    """``float | None`` and ``Annotated[float, ...] | None`` -> ``{float, NoneType}``."""
    if typing.get_origin(annotation) is typing.Annotated:
        return _plain_types(typing.get_args(annotation)[0])
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        return set().union(*(_plain_types(a) for a in typing.get_args(annotation)))
    return {annotation}


def float_field_cases() -> Iterator[Case]:
    from camera.config import RondaConfig

    for path in sorted(set(float_fields(RondaConfig))):
        for value in (math.nan, math.inf, -math.inf):
            yield value_case(path, value, path)


def cli_cases() -> Iterator[Case]:
    def args(name: str, make: Callable[[Workspace], list[str]], code: int, says: str, **kw: Any):
        def build(ws: Workspace) -> Setup:
            argv = make(ws)
            if "--config" not in argv and argv and argv[0] not in ("--version", "bogus"):
                argv = [*argv, "--config", str(ws.config())]
            return Setup(argv)

        return Case(f"cli:{name}", "cli", build, code, says, **kw)

    yield args("no-command", lambda ws: [], 2, "")
    yield args("unknown-command", lambda ws: ["bogus"], 2, "bogus")
    yield args("unknown-option", lambda ws: ["events", "--frobnicate"], 2, "frobnicate")
    yield args("limit-not-a-number", lambda ws: ["events", "--limit", "x"], 2, "--limit")
    yield args("limit-negative", lambda ws: ["events", "--limit", "-1"], 2, "--limit")
    yield args("limit-zero", lambda ws: ["events", "--limit", "0"], 2, "--limit")
    yield args("limit-huge", lambda ws: ["events", "--limit", "1" + "0" * 30], 2, "--limit")
    for value in ("nan", "inf", "-inf", "-1", "1e308"):
        yield args(
            f"flush-timeout-{value}", lambda ws, v=value: ["flush", "--timeout", v], 2, "--timeout"
        )
        yield args(
            f"status-timeout-{value}",
            lambda ws, v=value: ["status", "--timeout", v],
            2,
            "--timeout",
        )
    yield args(
        "doctor-frame-timeout-nan",
        lambda ws: ["doctor", "--frame-timeout", "nan"],
        2,
        "--frame-timeout",
    )
    yield args("web-port-huge", lambda ws: ["web", "--port", "99999"], 2, "--port")
    yield args(
        "web-passwd-empty-state-dir",
        lambda ws: ["web", "passwd", "--state-dir", ""],
        2,
        "--state-dir",
    )
    yield args("models-runs-zero", lambda ws: ["models", "--runs", "0"], 2, "--runs")
    yield args("models-runs-huge", lambda ws: ["models", "--runs", "1000000000"], 2, "--runs")
    yield args("status-limit-negative", lambda ws: ["status", "--limit", "-3"], 2, "--limit")
    yield args("replay-no-video", lambda ws: ["replay", "--no-mqtt"], 2, "video")
    yield args("state-dir-empty", lambda ws: ["events", "--state-dir", ""], 2, "--state-dir")
    yield args("state-dir-nul", lambda ws: ["events", "--state-dir", "a\0b"], 2, "--state-dir")
    yield args(
        "state-dir-is-a-file",
        lambda ws: [
            "replay",
            str(ws.video()),
            "--no-mqtt",
            "--state-dir",
            str(ws.write("file", "x")),
        ],
        1,
        "state",
    )
    yield args(
        "state-dir-under-a-file",
        lambda ws: [
            "replay",
            str(ws.video()),
            "--no-mqtt",
            "--state-dir",
            str(ws.write("file", "x") / "sub"),
        ],
        1,
        "state",
    )
    yield args(
        "state-dir-long-name",
        lambda ws: ["replay", str(ws.video()), "--no-mqtt", "--state-dir", _long(ws)],
        1,
        "too long",
    )
    yield args(
        "state-dir-in-proc",
        lambda ws: ["replay", str(ws.video()), "--no-mqtt", "--state-dir", "/proc/ronda"],
        1,
        "state",
    )
    yield args(
        "demo-state-dir-is-a-file",
        lambda ws: ["demo", "--state-dir", str(ws.write("file", "x"))],
        1,
        "demo scene",
    )
    yield args(
        "events-of-a-missing-state-dir",
        lambda ws: ["events", "--state-dir", str(ws.path("none"))],
        0,
        "",
    )
    for name, target, code, says in (
        ("a-directory", lambda ws: ws.root, 1, "directory"),
        ("under-a-file", lambda ws: ws.write("f", "x") / "e.jsonl", 1, "events-jsonl"),
        ("long-name", lambda ws: _long(ws, ".jsonl"), 1, "too long"),
        ("nul", lambda ws: str(ws.root) + "/e\0.jsonl", 2, "nul"),
        ("empty", lambda ws: "", 2, "events-jsonl"),
    ):
        yield args(
            f"events-jsonl-{name}",
            lambda ws, t=target: [
                "replay",
                str(ws.video()),
                "--no-mqtt",
                "--events-jsonl",
                str(t(ws)),
            ],
            code,
            says,
        )
    yield args(
        "events-jsonl-full-device",
        lambda ws: ["replay", str(ws.video()), "--no-mqtt", "--events-jsonl", "/dev/full"],
        frozenset({0, 1}),
        "",
        process=True,
    )
    yield Case(
        "cli:events-jsonl-unwritable",
        "cli",
        lambda ws: _as_nobody(
            ws, replay(ws, ws.video(), "--events-jsonl", str(_readonly_dir(ws) / "e.jsonl"))
        ),
        1,
        "permission denied",
        process=True,
    )
    yield args(
        "events-jsonl-full-device-mid-replay",
        lambda ws: [
            "replay",
            str(ws.images("f", good=40)),
            "--no-mqtt",
            "--events-jsonl",
            "/dev/full",
        ],
        frozenset({0, 1}),
        "",
        process=True,
    )


def _readonly_dir(ws: Workspace) -> Path:
    """A directory nobody may write into; the case runs as ``nobody`` with its state writable."""
    folder = ws.root / "readonly"
    folder.mkdir()
    folder.chmod(0o555)
    return folder


def env_cases() -> Iterator[Case]:
    def run_as(name: str, make: Callable[[Workspace], Setup], code: int, says: str, **kw: Any):
        return Case(f"env:{name}", "env", make, code, says, **kw)

    def no_state(ws: Workspace, **env: str) -> Setup:
        config = ws.config("camera: {name: test}\nmqtt: {enabled: false}\n")
        return Setup(["replay", str(ws.video()), "--no-mqtt", "--config", str(config)], env=env)

    def home(ws: Workspace) -> Setup:
        private = ws.root / "home"
        private.mkdir(mode=0o700)
        return _as_nobody(ws, no_state(ws, HOME=str(private), XDG_DATA_HOME=""), own_state=False)

    yield run_as("home-unreadable", home, 1, "state", process=True)

    def home_without_config(ws: Workspace) -> Setup:
        private = ws.root / "home"
        private.mkdir(mode=0o700)
        setup = Setup(["events"], env={"HOME": str(private), "XDG_DATA_HOME": ""})
        return _as_nobody(ws, setup, own_state=False)

    # The default search (~/.config/ronda/ronda.yaml) refused by the system: one line, not a
    # traceback; the long name is the same refusal where root bypasses permissions.
    yield run_as(
        "home-unreadable-no-config", home_without_config, 1, "permission denied", process=True
    )
    yield run_as(
        "home-name-too-long-no-config",
        lambda ws: Setup(["events"], env={"HOME": "/" + "h" * 300, "XDG_DATA_HOME": ""}),
        1,
        "file name too long",
    )
    yield run_as(
        "xdg-data-home-is-a-file",
        lambda ws: no_state(ws, XDG_DATA_HOME=str(ws.write("f", "x")), STATE_DIRECTORY=""),
        1,
        "state",
        process=True,
    )
    yield run_as(
        "state-directory-under-a-file",
        lambda ws: no_state(ws, STATE_DIRECTORY=str(ws.write("f", "x") / "s")),
        1,
        "state",
        process=True,
    )
    yield run_as(
        "run-source-fifo",
        lambda ws: Setup(
            [
                "run",
                "--config",
                str(
                    ws.config(
                        source={"uri": str(ws.fifo("camera"))},
                        mqtt={"enabled": False},
                        logging={"level": "WARNING"},
                    )
                ),
            ]
        ),
        1,
        "fifo",
        process=True,
    )
    yield run_as(
        "password-env-too-long",
        lambda ws: Setup(
            ["flush", "--timeout", "1", "--config", str(ws.config())],
            env={"RONDA_MQTT_PASSWORD": "p" * 70_000},
        ),
        2,
        "RONDA_MQTT_PASSWORD",
    )
    yield run_as(
        "ronda-config-fifo",
        lambda ws: Setup(["events"], env={"RONDA_CONFIG": str(ws.fifo("c.yaml"))}),
        2,
        "not a regular file",
        process=True,
    )
    yield run_as(
        "ronda-config-directory",
        lambda ws: Setup(["events"], env={"RONDA_CONFIG": str(ws.root)}),
        2,
        "directory",
        process=True,
    )
    yield run_as(
        "models-dir-garbage",
        lambda ws: Setup(
            ["replay", str(ws.video()), "--no-mqtt", "--config", str(ws.config())],
            env={"RONDA_MODELS_DIR": str(ws.write("m/manifest.json", "{garbage").parent)},
        ),
        1,
        "manifest",
        process=True,
    )


def video_cases() -> Iterator[Case]:
    def video(name: str, make: Callable[[Workspace], Path | str], code: Any, says: str, **kw: Any):
        return Case(f"video:{name}", "video", lambda ws: replay(ws, make(ws)), code, says, **kw)

    yield video("missing", lambda ws: ws.path("none.mp4"), 1, "not found")
    yield video("empty-file", lambda ws: ws.write("e.mp4", b""), 1, "empty")
    yield video("random-bytes", lambda ws: ws.write("r.mp4", os.urandom(5000)), 1, "decode")
    yield video("text-file", lambda ws: ws.write("t.mp4", "hello\n" * 100), 1, "decode")
    yield video(
        "truncated-mp4",
        lambda ws: ws.write(
            "t.mp4", (FOOTAGE / "clips/intel_car-detection.mp4").read_bytes()[:4000]
        ),
        1,
        "decode",
    )
    yield video("empty-folder", lambda ws: ws.images("f"), 1, "no images")
    yield video("all-images-corrupt", lambda ws: ws.images("f", corrupt=4), 1, "no readable")
    yield video("some-images-corrupt", lambda ws: ws.images("f", good=3, corrupt=2), 0, "")
    yield video("a-directory-loop", lambda ws: ws.loop("loop.mp4"), 1, "symbolic links")
    yield video("long-name", lambda ws: _long(ws, ".mp4"), 1, "too long")
    yield video("nul-in-name", lambda ws: str(ws.root) + "/v\0.mp4", 2, "nul")
    yield video("unicode-name", lambda ws: ws.video("vidéo 🎥.avi"), 0, "")
    yield video("one-frame", lambda ws: ws.video(frames=1), 0, "")
    yield video("tiny-frames", lambda ws: ws.video(size=(8, 8)), 0, "")
    yield video("one-pixel-image", lambda ws: _one_image(ws, np.zeros((1, 1, 3), np.uint8)), 0, "")
    yield video(
        "gray-16bit-png", lambda ws: _one_image(ws, np.full((60, 80), 40000, np.uint16)), 0, ""
    )
    yield video("rgba-png", lambda ws: _one_image(ws, np.zeros((60, 80, 4), np.uint8)), 0, "")
    yield video("mixed-sizes", _mixed_sizes, 0, "")
    yield video("a-still-image", lambda ws: FOOTAGE / "stills/opencvcourse_cat.jpg", 0, "")
    yield video("image-is-a-folder", _folder_named_jpg, 1, "no readable")
    yield video("fifo", lambda ws: ws.fifo("v.mp4"), 1, "not a regular file", process=True)
    yield video("dev-zero", lambda ws: "/dev/zero", 1, "not a regular file", process=True)
    yield video("dev-null", lambda ws: "/dev/null", 1, "not a regular file", process=True)
    yield video(
        "fifo-in-folder",
        lambda ws: (ws.fifo("f/frame000.jpg"), ws.images("f", good=2))[1],
        0,
        "",
        process=True,
    )
    yield Case(
        "video:unreadable-by-user",
        "video",
        lambda ws: _as_nobody(ws, replay(ws, _private(ws.video()))),
        1,
        "permission denied",
        process=True,
    )
    yield Case(
        "video:second-one-missing",
        "video",
        lambda ws: Setup(
            [
                "replay",
                str(ws.video()),
                str(ws.path("no.mp4")),
                "--no-mqtt",
                "--config",
                str(ws.config()),
            ]
        ),
        1,
        "not found",
    )


def _one_image(ws: Workspace, image: np.ndarray) -> Path:
    folder = ws.root / "one"
    folder.mkdir()
    cv2.imwrite(str(folder / "a.png"), image)
    return folder


def _mixed_sizes(ws: Workspace) -> Path:
    folder = ws.root / "mixed"
    folder.mkdir()
    for index, (height, width) in enumerate([(120, 160), (240, 320), (90, 90), (120, 160)]):
        cv2.imwrite(str(folder / f"f{index}.png"), np.full((height, width, 3), 60, np.uint8))
    return folder


def _folder_named_jpg(ws: Workspace) -> Path:
    folder = ws.root / "f"
    (folder / "a.jpg").mkdir(parents=True)
    return folder


def _as_nobody(ws: Workspace, setup: Setup, *, own_state: bool = True) -> Setup:
    """Run as ``nobody``, who can reach the workspace and (``own_state``) owns its state."""
    if own_state:
        ws.state.mkdir(exist_ok=True)
        os.chown(ws.state, NOBODY, NOBODY)
    for path in (ws.root, *ws.root.parents):
        if path.stat().st_mode & 0o005 != 0o005:
            path.chmod(path.stat().st_mode | 0o005)
    setup.as_nobody = True
    return setup


def state_cases() -> Iterator[Case]:
    def state(
        name: str,
        prepare: Callable[[Workspace], object],
        code: Any,
        says: str,
        command: str = "replay",
        **kw: Any,
    ):
        def build(ws: Workspace) -> Setup:
            prepare(ws)
            if command == "replay":
                return replay(ws, ws.video())
            wait = ["--timeout", "1"] if command in ("flush", "status") else []
            return Setup([command, "--config", str(ws.config()), *wait])

        return Case(f"state:{name}-{command}", "state", build, code, says, **kw)

    def db_bytes(data: bytes) -> Callable[[Workspace], object]:
        def prepare(ws: Workspace) -> None:
            ws.state.mkdir(parents=True, exist_ok=True)
            (ws.state / "ronda.sqlite3").write_bytes(data)

        return prepare

    for command in ("replay", "events", "flush", "status"):
        # Writers move a damaged file aside and carry on; ``events`` only reports it.
        code, says = (1, "damaged") if command == "events" else (0, "")
        yield state("db-random-bytes", db_bytes(os.urandom(8192)), code, says, command)
        # What could be read of the outbox was carried over: ``flush`` cannot deliver it here.
        pages_code = 3 if command == "flush" else code
        yield state("db-overwritten-pages", _overwrite_pages, pages_code, says, command)
        yield state("db-foreign-schema", _foreign, code, says, command)
    yield state("db-empty-file", db_bytes(b""), 0, "")
    yield state(
        "db-is-a-directory",
        lambda ws: (ws.state / "ronda.sqlite3").mkdir(parents=True),
        1,
        "state database",
    )
    yield state(
        "db-symlink-loop",
        lambda ws: (ws.state.mkdir(), ws.loop("state/ronda.sqlite3")),
        1,
        "state database",
    )
    yield state(
        "db-fifo",
        lambda ws: (ws.state.mkdir(), ws.fifo("state/ronda.sqlite3")),
        1,
        "state database",
        process=True,
    )
    yield state("db-garbage-wal", _garbage_wal, 0, "")
    yield state("bad-event-row", _bad_rows, 0, "", "events")
    yield state("bad-event-row", _bad_rows, 0, "", "status")
    yield state("thumbnails-is-a-file", lambda ws: ws.write("state/thumbnails", "x"), 0, "")
    yield state(
        "thumbnails-is-a-file", lambda ws: ws.write("state/thumbnails", "x"), 0, "", "events"
    )
    yield state("thumbnails-immutable", _immutable_thumbnails, 0, "")
    yield state("state-is-a-file", lambda ws: ws.write("state", "x"), 1, "state")
    yield state("state-is-a-file", lambda ws: ws.write("state", "x"), 1, "state", "flush")
    yield Case(
        "state:read-only-db-as-user-events",
        "state",
        lambda ws: _readonly_db(ws, "events"),
        0,
        "",
        process=True,
    )
    yield Case(
        "state:read-only-db-as-user-replay",
        "state",
        lambda ws: _readonly_db(ws, "replay"),
        1,
        "state",
        process=True,
    )


def _immutable_thumbnails(ws: Workspace) -> None:
    """``chattr +i`` (even root cannot write into it); where chattr cannot, a plain folder."""
    folder = ws.state / "thumbnails"
    folder.mkdir(parents=True)
    subprocess.run(["chattr", "+i", str(folder)], capture_output=True, check=False)


def _overwrite_pages(ws: Workspace) -> None:
    """A database with events and queued alerts whose later pages were overwritten."""
    path = ws.database()
    with sqlite3.connect(path) as db:
        for n in range(300):
            db.execute(
                "INSERT INTO outbox(topic, payload, qos, retain, event_id, created_at) "
                "VALUES (?, ?, 1, 0, ?, ?)",
                (f"ronda/test/events/{n}", b"x" * 1500, f"e{n}", time.time()),
            )
        db.commit()
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")  # every page in the main file
    data = bytearray(path.read_bytes())
    page = 4096
    for offset in range(3 * page, len(data), 5 * page):
        data[offset : offset + page] = os.urandom(page)
    path.write_bytes(bytes(data))


def _foreign(ws: Workspace) -> None:
    ws.state.mkdir(parents=True, exist_ok=True)
    with sqlite3.connect(ws.state / "ronda.sqlite3") as db:
        db.executescript(
            "CREATE TABLE events (id INTEGER PRIMARY KEY, what TEXT);"
            "INSERT INTO events(what) VALUES ('someone else''s data');"
            "CREATE TABLE outbox (seq INTEGER PRIMARY KEY, body TEXT);"
        )


def _garbage_wal(ws: Workspace) -> None:
    ws.database()
    (ws.state / "ronda.sqlite3-wal").write_bytes(os.urandom(9000))


EVENT_ROW = (
    "INSERT INTO events(id, camera, label, subclass, score, box, start_time, end_time,"
    " last_type, motion_only, source, thumbnail, recorded_at) VALUES "
)
"""The columns every version wrote (later ones add columns with defaults: zones, alerted)."""


def _bad_rows(ws: Workspace) -> None:
    rows = (
        "('good', 'test', 'person', 'person', 0.9, '[1, 2, 3, 4]',"
        " 10.0, 12.0, 'end', 0, 'v.mp4', NULL, 1e9)",
        "('bad-box', 'test', 'person', 'person', 0.9, 'not json',"
        " 10.0, NULL, 'start', 0, 'v.mp4', NULL, 1e9 + 1)",
        "('bad-score', 'test', 'pet', 'cat', 'high', '[1, 2, 3, 4]',"
        " 'soon', NULL, 'start', 0, 'v.mp4', NULL, 1e9 + 2)",
        "(X'FF00', 'test', 'pet', 'cat', 0.5, '[1, 2, 3, 4]',"
        " 1.0, NULL, 'start', 0, X'FFFE', NULL, 1e9 + 3)",
        "('bad-text', 'test', 'pet', 'cat', 0.5, '[1, 2, 3, 4]',"
        " 1.0, NULL, 'start', 0, CAST(X'FFFE' AS TEXT), NULL, 1e9 + 4)",
    )
    ws.database("".join(f"{EVENT_ROW}{row};" for row in rows))


def _readonly_db(ws: Workspace, command: str) -> Setup:
    ws.database(
        EVENT_ROW + "('good', 'test', 'person', 'person', 0.9, '[1, 2, 3, 4]',"
        " 10.0, 12.0, 'end', 0, 'v.mp4', NULL, 1e9);"
    )
    setup = replay(ws, ws.video()) if command == "replay" else events(ws)
    return _as_nobody(ws, setup, own_state=False)  # root's database: nobody may only read it


PINNED_VARIANT = "picodet-s320-float32"
"""The variant the model cases pin and damage (the others, unpinned, would only be skipped)."""
PINNED_FILE = "picodet_s320_float32.tflite"


def model_cases() -> Iterator[Case]:
    def model(
        name: str, manifest: Callable[[Workspace], Path | str], code: int, says: str, **kw: Any
    ) -> Case:
        def build(ws: Workspace) -> Setup:
            detector = {"manifest": str(manifest(ws))}
            if name.startswith("model-file-"):
                # Pinned: any other variant that cannot be used is skipped with one line.
                detector["variant"] = PINNED_VARIANT
            config = ws.config(detector=detector)
            return replay(ws, ws.video(), config=config)

        return Case(f"model:{name}", "model", build, code, says, **kw)

    def damaged(change: Callable[[Path], None]) -> Callable[[Workspace], Path]:
        def make(ws: Workspace) -> Path:
            manifest = ws.model_copy()
            change(manifest.parent / PINNED_FILE)
            return manifest

        return make

    def edit(mutate: Callable[[dict[str, Any]], None]) -> Callable[[Workspace], Path]:
        return lambda ws: ws.manifest(mutate)

    yield model("manifest-missing", lambda ws: ws.path("none.json"), 1, "not found")
    yield model("manifest-garbage", lambda ws: ws.write("m.json", os.urandom(300)), 1, "manifest")
    yield model("manifest-empty", lambda ws: ws.write("m.json", ""), 1, "manifest")
    yield model("manifest-a-directory", lambda ws: ws.root, 1, "manifest")
    yield model("manifest-a-list", lambda ws: ws.write("m.json", "[1, 2]"), 1, "manifest")
    yield model("manifest-no-variants", edit(lambda d: d.update(variants=[])), 1, "no variants")
    yield model("manifest-bad-label", edit(_bad_label), 1, "person or pet")
    yield model(
        "manifest-fifo", lambda ws: ws.fifo("m.json"), 1, "not a regular file", process=True
    )
    yield model("model-file-missing", damaged(lambda p: p.unlink()), 1, "missing")
    yield model(
        "model-file-truncated",
        damaged(lambda p: p.write_bytes(p.read_bytes()[:1000])),
        1,
        "corrupt",
    )
    yield model("model-file-flipped-byte", damaged(_flip_byte), 1, "sha256")
    yield model(
        "model-file-a-directory", damaged(lambda p: (p.unlink(), p.mkdir())), 1, "model file"
    )
    yield model(
        "model-file-garbage-with-its-hash",
        lambda ws: ws.manifest(lambda d: _point_at(d, ws.write("g.tflite", os.urandom(4000)))),
        1,
        "model file",
    )
    yield model(
        "model-file-fifo",
        lambda ws: ws.manifest(lambda d: _point_at(d, ws.fifo("model.tflite"))),
        1,
        "not a regular file",
        process=True,
    )


def _bad_label(document: dict[str, Any]) -> None:
    document["variants"][0]["labels"]["0"]["label"] = "car"


def _flip_byte(path: Path) -> None:
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))


def _point_at(document: dict[str, Any], target: Path) -> None:
    import hashlib

    for variant in document["variants"]:
        if variant["name"] == PINNED_VARIANT:
            variant["file"] = str(target)
            if target.is_file():
                data = target.read_bytes()
                variant["size"] = len(data)
                variant["sha256"] = hashlib.sha256(data).hexdigest()
            else:
                variant["size"] = 0
                variant["sha256"] = hashlib.sha256(b"").hexdigest()


def sensor_cases() -> Iterator[Case]:
    """Sensors read during the replay: a bad one is "unknown", the replay still finishes."""

    def sensed(name: str, governor: Callable[[Workspace], dict[str, Any]], **kw: Any) -> Case:
        def build(ws: Workspace) -> Setup:
            return replay(ws, ws.video(frames=30), config=ws.config(governor=governor(ws)))

        return Case(f"sensor:{name}", "config", build, 0, "", **kw)

    def temperature(make: Callable[[Workspace], Path | str]):
        return lambda ws: {
            "interval_s": 0.1,
            "sensors": {"temperature": {"source": "sysfs", "path": str(make(ws))}},
        }

    yield sensed("temperature-fifo", temperature(lambda ws: ws.fifo("temp")), process=True)
    yield sensed("temperature-dev-zero", temperature(lambda ws: "/dev/zero"), process=True)
    yield sensed("temperature-directory", temperature(lambda ws: ws.root))
    yield sensed("temperature-binary", temperature(lambda ws: ws.write("t", os.urandom(64))))
    yield sensed("temperature-huge", temperature(lambda ws: ws.write("t", "5" * 20_000_000)))
    yield sensed("temperature-loop", temperature(lambda ws: ws.loop("t")))
    yield sensed(
        "thermal-zone-fifo",
        lambda ws: {
            "interval_s": 0.1,
            "sensors": {"sysfs_root": str(_zone_fifo(ws)), "temperature": {"source": "sysfs"}},
        },
        process=True,
    )
    yield sensed(
        "battery-capacity-fifo",
        lambda ws: {"interval_s": 0.1, "sensors": {"sysfs_root": str(_battery_fifo(ws))}},
        process=True,
    )
    yield sensed(
        "vcgencmd-hangs",
        lambda ws: {
            "interval_s": 0.1,
            "sensors": {
                "vcgencmd": f"{shutil.which('sleep')} 30",
                "command_timeout_s": 0.2,
                "temperature": {"source": "vcgencmd"},
            },
        },
    )
    yield sensed(
        "vcgencmd-is-a-directory",
        lambda ws: {"sensors": {"vcgencmd": str(ws.root), "temperature": {"source": "vcgencmd"}}},
    )
    yield sensed(
        "vcgencmd-binary-output",
        lambda ws: {
            "sensors": {
                "vcgencmd": f"{shutil.which('head')} -c 64 /dev/urandom",
                "temperature": {"source": "vcgencmd"},
            }
        },
    )


def _zone_fifo(ws: Workspace) -> Path:
    zone = ws.root / "sys/class/thermal/thermal_zone0"
    zone.mkdir(parents=True)
    (zone / "type").write_text("cpu-thermal\n")
    os.mkfifo(zone / "temp")
    return ws.root / "sys"


def _battery_fifo(ws: Workspace) -> Path:
    supply = ws.root / "sys/class/power_supply/BAT0"
    supply.mkdir(parents=True)
    (supply / "type").write_text("Battery\n")
    os.mkfifo(supply / "capacity")
    return ws.root / "sys"


def all_cases() -> list[Case]:
    cases = [
        *config_file_cases(),
        *config_value_cases(),
        *cli_cases(),
        *env_cases(),
        *video_cases(),
        *state_cases(),
        *model_cases(),
        *sensor_cases(),
        *tls_cases(),
        *password_file_cases(),
    ]
    ids = [case.id for case in cases]
    duplicates = {i for i in ids if ids.count(i) > 1}
    assert not duplicates, duplicates
    return cases


def tls_cases() -> Iterator[Case]:
    """TLS files need openssl; kept apart so the table can be listed without running it."""
    yield tls_case("ca-garbage", lambda ws: {"ca_file": str(_garbage(ws))}, "ca_file")
    yield tls_case(
        "cert-garbage",
        lambda ws: {"cert_file": str(_garbage(ws)), "key_file": str(_tls_files(ws)["client.key"])},
        "cert_file",
    )
    yield tls_case(
        "key-garbage",
        lambda ws: {"cert_file": str(_tls_files(ws)["client.pem"]), "key_file": str(_garbage(ws))},
        "key_file",
    )
    yield tls_case(
        "key-mismatch",
        lambda ws: {
            "cert_file": str((files := _tls_files(ws))["client.pem"]),
            "key_file": str(files["other.key"]),
        },
        "does not match",
    )
    yield tls_case("ca-directory", lambda ws: {"ca_file": str(ws.root)}, "ca_file")
    yield tls_case("ca-empty", lambda ws: {"ca_file": str(ws.write("e.pem", ""))}, "ca_file")


def password_file_cases() -> Iterator[Case]:
    def pw(name: str, make: Callable[[Workspace], Path], says: str, **kw: Any) -> Case:
        def build(ws: Workspace) -> Setup:
            config = ws.config(mqtt={"password_file": str(make(ws))})
            return Setup(["flush", "--timeout", "1", "--config", str(config)])

        return Case(f"config:password-file-{name}", "config", build, 2, says, **kw)

    yield pw("binary", lambda ws: ws.write("pw", b"\xff\xfe\x00" + os.urandom(30)), "password_file")
    yield pw("directory", lambda ws: ws.root, "password_file")
    yield pw("empty", lambda ws: ws.write("pw", ""), "empty")
    yield pw("huge", lambda ws: ws.write("pw", "p" * 5_000_000), "password_file")
    yield pw("fifo", lambda ws: ws.fifo("pw"), "not a regular file", process=True)
