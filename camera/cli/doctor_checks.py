"""``ronda doctor``'s checks: is this camera able to work?  One line per check, a fix for each
failure (the command and its options: ``camera.cli.doctor``).

Each check exercises the real thing rather than inspecting settings: the config is loaded and
validated, every model file is hashed, the detector is loaded and runs one timed inference,
the source is opened and must deliver a frame, the broker gets a real MQTT login with the
configured credentials and TLS, the sensors are read, the state directory's disk is measured.
The MQTT password is never printed: messages name where it came from, not what it is.

Exit code 1 when any check FAILs (warnings do not fail), so it can gate a script.
"""

from __future__ import annotations

import argparse
import shutil
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Literal

import numpy as np

from camera.cli.startup import load_service_config, quiet_logs
from camera.config import ConfigError, RondaConfig
from camera.types import Frame

if TYPE_CHECKING:  # loading TFLite is the runtime check's job, not the import's
    from camera.detect.tflite import TFLiteDetector

Status = Literal["ok", "warn", "FAIL", "skip"]
CHECKS = (
    "config", "models", "detector", "runtime", "camera", "broker", "outbox", "sensors", "disk",
)  # fmt: skip
SLOW_INFERENCE_MS = 1000.0
DISK_WARN_BYTES = 1 << 30
DISK_FAIL_BYTES = 100 << 20
BROKER_TIMEOUT_S = 10.0


@dataclass(frozen=True)
class Check:
    name: str
    status: Status
    detail: str
    fix: str = ""
    more: tuple[str, ...] = ()
    """Indented lines printed under the check (the model table)."""

    def line(self) -> str:
        text = f"{self.status:<4}  {self.name:<8} {self.detail}"
        text = f"{text}  -> fix: {self.fix}" if self.fix else text
        return "\n".join([text, *(f"              {extra}" for extra in self.more)])


def run_doctor(args: argparse.Namespace, out: Callable[[str], None]) -> int:
    """Run every check not skipped, print its line, return 1 if any failed."""
    with quiet_logs():
        results = list(_checks(args, set(args.skip)))
    for result in results:
        out(result.line())
    failed = [r.name for r in results if r.status == "FAIL"]
    out(f"{len(failed)} check(s) failed: {', '.join(failed)}" if failed else "all checks passed")
    return 1 if failed else 0


def _checks(args: argparse.Namespace, skip: set[str]) -> Iterator[Check]:
    try:
        config, path = load_service_config(args.config, args.state_dir)
    except ConfigError as error:
        yield Check(
            "config",
            "FAIL",
            " / ".join(str(error).splitlines()),
            "correct the file (every option is described in config/ronda.example.yaml)",
        )
        for name in CHECKS[1:]:
            yield Check(name, "skip", "needs a valid configuration")
        return
    yield _config_check(config, path)
    for name, check in (
        ("models", check_models),
        ("detector", check_detector),
        ("runtime", check_runtime),
        ("camera", lambda c: check_camera(c, args.frame_timeout)),
        ("broker", check_broker),
        ("outbox", check_outbox),
        ("sensors", check_sensors),
        ("disk", check_disk),
    ):
        if name in skip:
            yield Check(name, "skip", "--skip")
            continue
        try:
            yield check(config)
        except Exception as error:  # a check must never stop the others
            yield Check(name, "FAIL", f"unexpected {type(error).__name__}: {error}", "report it")


def _config_check(config: RondaConfig, path: Path | None) -> Check:
    where = f"camera {config.camera.name!r}, source {config.source.kind}, state {_state(config)}"
    if path is None:
        return Check(
            "config",
            "warn",
            f"no config file, built-in defaults ({where})",
            "sudo python3 -m camera.service install writes /etc/ronda/ronda.yaml",
        )
    return Check("config", "ok", f"{path} ({where})")


def _state(config: RondaConfig) -> Path:
    return config.store.directory()


def check_models(config: RondaConfig) -> Check:
    from camera.detect import ModelError
    from camera.detect.manifest import bundled_manifest, read_manifest, verify_file

    manifest = config.detector.manifest or bundled_manifest()
    try:
        specs = read_manifest(manifest)
        for spec in specs:
            verify_file(spec)
    except ModelError as error:
        return Check(
            "models",
            "FAIL",
            str(error),
            "reinstall the models: sudo python3 -m camera.service install (from the checkout)",
        )
    variants = ", ".join(f"{s.name} ({s.size / 1e6:.1f} MB)" for s in specs)
    return Check("models", "ok", f"sha256 ok: {variants} in {manifest.parent}")


def check_detector(config: RondaConfig) -> Check:
    """Where ``ronda run`` detects: the accelerators found, and a Hailo's one inference."""
    from camera.detect.report import backend_check

    status, detail, fix, more = backend_check(config.detector, config.source.pi_camera())
    return Check("detector", status, detail, fix, more)


def check_runtime(config: RondaConfig) -> Check:
    from camera.detect import ModelError
    from camera.detect.loader import load_cpu_detector
    from camera.detect.report import inference_ms

    try:
        # The same timings `ronda run` uses: read from the state directory, measured if absent.
        detector = load_cpu_detector(config.detector, cache_dir=_state(config))
    except ModelError as error:
        return Check(
            "runtime", "FAIL", str(error), "see the models line; pip install ai-edge-litert"
        )
    try:
        size = detector.input_size
        image = np.zeros((config.source.height, config.source.width, 3), np.uint8)
        ms = inference_ms(detector, image, size)
    finally:
        detector.close()
    detail = f"{detector.backend}, {detector.variant}, one {size}px inference in {ms:.0f} ms"
    role = cpu_role(config)
    detail += f" ({role})" if role else ""
    table = model_table(detector, "<- runs" if role is None else "<- fallback")
    if detector.skipped:
        return Check(
            "runtime",
            "warn",
            f"{detail}; without {', '.join(detector.skipped)}, which cannot be used",
            "see the models line",
            table,
        )
    if ms > SLOW_INFERENCE_MS:
        return Check(
            "runtime",
            "warn",
            f"{detail}: slow",
            "pin a cheaper detector.variant (ronda models), and fewer threads if the Pi throttles",
            table,
        )
    return Check("runtime", "ok", detail, more=table)


def cpu_role(config: RondaConfig) -> str | None:
    """What the CPU model is for when ``ronda run`` detects on an accelerator (None: it is
    the detector), so the table does not say it runs when it only stands by."""
    from camera.detect.devices import NAMES, plan

    kind = plan(config.detector, config.source.pi_camera()).kind
    if kind == "cpu":
        return None
    assist = kind == "imx500" and config.detector.imx500.cpu_assist
    return f"the {NAMES[kind]}'s fallback" + (" and its cpu_assist" if assist else "")


def model_table(detector: TFLiteDetector, marker: str = "<- runs") -> tuple[str, ...]:
    """Each variant's latency on this device, the one ``marker`` points at (the one that
    runs, or stands by for an accelerator) and the governor's ladder."""
    selection, timings = detector.selection, detector.timings
    if selection is None or timings is None:
        return ()
    rungs = [s.name for s in selection.ladder]
    lines = [
        f"{name:<24} {ms:>8.1f} ms"
        + (f"  {marker}" if name == selection.normal.name else "")
        + (f"  (ladder rung {rungs.index(name)})" if name in rungs[1:] else "")
        for name, ms in selection.timings_ms.items()
    ]
    lines.append(f"{selection.reason}; timings {timings.source}, {timings.threads} thread(s)")
    return tuple(lines)


def check_camera(config: RondaConfig, timeout: float) -> Check:
    from camera.sources import SourceError, open_source

    kind = config.source.kind
    fix = (
        "check the ribbon cable and `rpicam-hello --list-cameras`; while the service runs it "
        "holds the camera: sudo systemctl stop ronda (or ronda doctor --skip camera)"
        if kind in ("picamera2", "auto") and config.source.uri == "picamera2"
        else "check source.uri and that the device or stream is reachable"
    )
    try:
        source = open_source(config.source, config.motion.resolve().height)
    except SourceError as error:
        if "python3-picamera2" in str(error):
            fix = "sudo apt install python3-picamera2, then reinstall the service"
        return Check("camera", "FAIL", str(error), fix)
    network, sensor = _camera_network(config, source)
    started = time.monotonic()
    frame, problem = first_frame(source, timeout)
    if frame is None:
        why = f": {problem}" if problem else ""
        if network is not None:
            fix = (
                "the AI Camera's first start uploads its network firmware (minutes): "
                "ronda doctor --frame-timeout 600, or start the service and watch its log"
            )
        return Check("camera", "FAIL", f"{source.name}: no frame within {timeout:g} s{why}", fix)
    width, height = frame.size
    lores = "" if frame.gray_small is None else f", motion plane {frame.gray_small.shape[1]}x"
    lores += "" if frame.gray_small is None else f"{frame.gray_small.shape[0]}"
    detail = f"{source.name}: {width}x{height} frame in {time.monotonic() - started:.1f} s{lores}"
    if network is not None:
        seen = "with" if getattr(network, "outputs", 0) else "without (yet)"
        detail += f", {seen} the AI Camera's network output ({sensor})"
    return Check("camera", "ok", detail)


def _camera_network(config: RondaConfig, source: object) -> tuple[object | None, str]:
    """The AI Camera's network, attached to the source when ``ronda run`` would run it (so
    the camera opens as the service opens it); None otherwise, or when it cannot be opened
    (the detector line says why)."""
    from camera.detect import ModelError
    from camera.detect.devices import plan
    from camera.detect.imx500 import Imx500Network

    chosen = plan(config.detector, config.source.pi_camera())
    if chosen.kind != "imx500" or chosen.probe is None or chosen.probe.model is None:
        return None, ""
    try:
        network = Imx500Network(config.detector, chosen.probe.model)
    except ModelError:
        return None, ""
    source.attach_network(network)  # type: ignore[attr-defined]
    return network, network.name


def first_frame(source: object, timeout: float) -> tuple[Frame | None, str | None]:
    """The first frame of ``source`` within ``timeout`` s, read in a thread; then closed."""
    got: list[Frame] = []
    problems: list[str] = []

    def read() -> None:
        frames = source.frames()  # type: ignore[attr-defined]
        try:
            got.extend([next(frames)])
        except StopIteration:
            problems.append("the source ended")
        except Exception as error:
            problems.append(str(error))
        finally:
            frames.close()

    reader = threading.Thread(target=read, name="doctor-camera", daemon=True)
    reader.start()
    reader.join(timeout)
    source.close()  # type: ignore[attr-defined]
    reader.join(2.0)
    return (got[0] if got else None), (problems[0] if problems else None)


def check_broker(config: RondaConfig) -> Check:
    from camera.mqtt.config import CredentialsError
    from camera.mqtt.probe import probe_link, wait_connected

    mqtt = config.mqtt
    if not mqtt.enabled:
        return Check("broker", "skip", "mqtt.enabled is false")
    try:
        _, password_source = mqtt.resolve_password()
        who = f"user {mqtt.username or '(none)'}, password from {password_source}"
        tls = "TLS" if mqtt.tls.enabled else "no TLS"
        with probe_link(mqtt, config.client_id, config.topic_prefix, "doctor") as link:
            link.start()
            if wait_connected(link, BROKER_TIMEOUT_S):
                return Check("broker", "ok", f"logged in to {link.broker} ({tls}, {who})")
            error = link.last_error or f"no answer from {link.broker} in {BROKER_TIMEOUT_S:g} s"
    except CredentialsError as problem:
        return Check("broker", "FAIL", str(problem), "correct the file the line names")
    return Check("broker", "FAIL", error, _broker_fix(error))


def _broker_fix(error: str) -> str:
    """The fix for the link's error line (its wording is in camera.mqtt.wording)."""
    if "refused the login" in error:
        return (
            "check mqtt.username and the password (mqtt.password_file or $RONDA_MQTT_PASSWORD) "
            "against the broker's password file; its log names the refused user"
        )
    if "TLS" in error or "certificate" in error:
        return "check mqtt.tls.ca_file (the CA that signed the broker's certificate) and mqtt.host"
    if "cannot be resolved" in error:
        return "check mqtt.host (a name this Pi can resolve, or the broker's IP address)"
    return (
        "check mqtt.host and mqtt.port, that the broker runs (systemctl status mosquitto) "
        "and listens on that address, not only on localhost"
    )


def check_outbox(config: RondaConfig) -> Check:
    """Alerts waiting for the broker, and dead letters (alerts that could not be delivered)."""
    from camera.store import DATABASE_NAME, Database, Outbox
    from camera.store.database import DamagedDatabase, DatabaseError

    path = _state(config) / DATABASE_NAME
    if not path.exists():
        return Check("outbox", "ok", "empty (no state yet)")
    try:
        database = Database(path, readonly=True)  # the service may be running: only look
    except DamagedDatabase as error:
        return Check("outbox", "FAIL", str(error), "restart the service: it recovers the file")
    except DatabaseError as error:
        return Check("outbox", "FAIL", str(error), "the service's files belong to ronda: sudo")
    try:
        outbox = Outbox(database, config.mqtt.outbox)
        queued, dead = outbox.depth(), outbox.dead.count()
        detail = f"{queued} queued, {dead} dead letter(s)"
        if dead:
            return Check(
                "outbox",
                "warn",
                f"{detail}; latest: {outbox.dead.latest_reason()}",
                "ronda outbox list; fix the cause (broker ACL, topic), then ronda outbox retry "
                "--all (or drop them)",
            )
        return Check("outbox", "ok", detail)
    finally:
        database.close()


def check_sensors(config: RondaConfig) -> Check:
    from camera.governor import build_sensors

    sensors = build_sensors(config.governor.sensors)
    readings = sensors.read()
    status = sensors.status()
    parts = []
    if readings.soc_temp_c is not None:
        parts.append(f"SoC {readings.soc_temp_c:.1f} °C ({readings.temp_source})")
    flags = readings.throttle
    if flags is not None:
        parts.append(
            f"throttled={flags.hex}" + (f" ({', '.join(flags.names)})" if flags.names else "")
        )
    if readings.battery is not None:
        charging = ", charging" if readings.battery.charging else ""
        parts.append(f"battery {readings.battery.percent:.0f} %{charging}")
    unknown = [f"{name} {state}" for name, state in status.items() if state.startswith("unknown")]
    detail = "; ".join(parts + unknown) or "no sensor configured"
    if flags is not None and flags.under_voltage:
        return Check(
            "sensors",
            "warn",
            f"{detail}: under-voltage now",
            "use a supply that holds 5 V under load (the official one) and a short, thick cable",
        )
    if readings.soc_temp_c is not None and readings.soc_temp_c >= config.governor.heat.hot.at:
        return Check("sensors", "warn", f"{detail}: hot", "add a heatsink or airflow; shade it")
    if readings.soc_temp_c is None and status.get("temperature") != "off":
        return Check(
            "sensors",
            "warn",
            detail,
            "without the SoC temperature the governor cannot protect the Pi: "
            "see governor.sensors.temperature",
        )
    return Check("sensors", "ok", detail)


def check_disk(config: RondaConfig) -> Check:
    state = _state(config)
    existing = next((p for p in (state, *state.parents) if p.exists()), Path("/"))
    free = shutil.disk_usage(existing).free
    detail = f"{free / 1e9:.1f} GB free for {state}"
    if not state.exists():
        detail += " (created at the first run)"
    if free < DISK_FAIL_BYTES:
        return Check(
            "disk",
            "FAIL",
            detail,
            "free space: old thumbnails, journal (journalctl --vacuum-size=50M)",
        )
    if free < DISK_WARN_BYTES:
        return Check("disk", "warn", detail, "lower store.retention_days or free space")
    return Check("disk", "ok", detail)
