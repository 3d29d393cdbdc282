"""Which accelerators this Pi has, found without importing anything that drives them.

``detector.backend: auto`` asks at every start; ``ronda doctor`` and ``ronda models`` print
the answer.  Each probe looks where the kernel shows the device and where Raspberry Pi OS puts
the network files, then only checks that the Python module that drives it could be imported
(``importlib.util.find_spec``: nothing is loaded, so a machine without the accelerator pays
nothing, and picamera2 stays unimported until a camera is opened):

- **AI Camera**: a V4L2 sub-device whose driver module is ``imx500`` (the way picamera2's own
  ``IMX500`` class finds it), the network ``.rpk`` file, and ``picamera2``;
- **Hailo**: ``/dev/hailo0`` (the ``hailo_pci`` driver), a ``.hef`` file, ``hailo_platform``
  (HailoRT's Python binding) and ``picamera2``.
"""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass
from pathlib import Path

from camera.accelerators import IMX500_FIRMWARE, hailo_present, imx500_subdevice, under
from camera.detect.config import HAILO_MODELS, DetectorConfig

HAILO_DEFAULT_HEFS = ("yolov8s_h8l.hef", "yolov8s.hef", "yolov6n_h8l.hef", "yolov6n.hef")
"""Raspberry Pi OS's ``hailo-models`` names (Hailo-8L builds first: the AI Kit and the 13 TOPS
AI HAT+ carry a Hailo-8L); the first one present is used when ``detector.hailo.hef`` is null."""


@dataclass(frozen=True, slots=True)
class Probe:
    """One accelerator: is it usable here, and if not, why (one line)."""

    kind: str
    usable: bool
    detail: str
    """What was found (``AI Camera at v4l-subdev2, network …rpk``) or what is missing."""
    model: Path | None = None
    """The network file that would run (under ``detector.device_root``)."""


def _module_present(name: str) -> bool:
    try:
        return importlib.util.find_spec(name) is not None
    except (ImportError, ValueError):
        return False


def probe_imx500(config: DetectorConfig) -> Probe:
    root = config.device_root
    subdevice = imx500_subdevice(root)
    if subdevice is None:
        return Probe("imx500", False, "no AI Camera (no V4L2 sub-device driven by imx500)")
    network = under(root, config.imx500.network)
    if not network.is_file():
        return Probe(
            "imx500",
            False,
            f"AI Camera at {subdevice}, but its network {config.imx500.network} is missing "
            "(sudo apt install imx500-all)",
        )
    missing = [f"/{f}" for f in IMX500_FIRMWARE if not under(root, f).is_file()]
    if missing:
        return Probe(
            "imx500",
            False,
            f"AI Camera at {subdevice}, but its firmware {', '.join(missing)} is missing "
            "(sudo apt install imx500-all)",
        )
    if not _module_present("picamera2"):
        return Probe("imx500", False, f"AI Camera at {subdevice}, but picamera2 is not installed")
    return Probe(
        "imx500",
        True,
        f"AI Camera at {subdevice}, network {config.imx500.network.name}",
        network,
    )


def hailo_hef(config: DetectorConfig) -> Path | None:
    """The configured ``.hef``, else the first of Raspberry Pi OS's that is installed."""
    if config.hailo.hef is not None:
        return config.hailo.hef
    for name in HAILO_DEFAULT_HEFS:
        if under(config.device_root, HAILO_MODELS / name).is_file():
            return HAILO_MODELS / name
    return None


def probe_hailo(config: DetectorConfig) -> Probe:
    root = config.device_root
    if not under(root, "dev/hailo0").exists():
        if hailo_present(root):
            return Probe(
                "hailo",
                False,
                "a Hailo chip is on the PCI bus but its driver is not loaded (/dev/hailo0 "
                "absent): sudo apt install hailo-all, then reboot",
            )
        return Probe("hailo", False, "no Hailo accelerator (/dev/hailo0 absent)")
    hef = hailo_hef(config)
    if hef is None or not under(root, hef).is_file():
        wanted = hef or f"{HAILO_MODELS}/{HAILO_DEFAULT_HEFS[0]}"
        return Probe(
            "hailo",
            False,
            f"Hailo at /dev/hailo0, but no network {wanted} (sudo apt install hailo-all)",
        )
    for module, package in (("hailo_platform", "hailo-all"), ("picamera2", "python3-picamera2")):
        if not _module_present(module):
            return Probe(
                "hailo",
                False,
                f"Hailo at /dev/hailo0, but {module} is not installed (sudo apt install {package})",
            )
    return Probe("hailo", True, f"Hailo at /dev/hailo0, network {hef.name}", under(root, hef))


NAMES = {"imx500": "AI Camera", "hailo": "Hailo"}


@dataclass(frozen=True, slots=True)
class BackendPlan:
    """What ``ronda run`` would run here, and what was found."""

    kind: str
    """``imx500``, ``hailo`` or ``cpu``."""
    probe: Probe | None
    """The chosen accelerator's probe (None for the CPU)."""
    fallback: str | None
    """Why an accelerator asked for does not run (then ``kind`` is cpu)."""
    probes: tuple[Probe, ...]

    def lines(self) -> tuple[str, ...]:
        return tuple(f"{NAMES[p.kind]}: {p.detail}" for p in self.probes)

    def missing(self) -> str:
        """Why ``auto`` found no accelerator (each probe's line)."""
        return "; ".join(p.detail for p in self.probes if not p.usable)


def plan(config: DetectorConfig, pi_camera: bool) -> BackendPlan:
    """``load_detector``'s choice for ``config``, decided from the probes alone."""
    imx500 = probe_imx500(config)
    if not pi_camera and imx500.usable:
        imx500 = Probe("imx500", False, f"{imx500.detail}; not with a source other than picamera2")
    probes = (imx500, probe_hailo(config))
    wanted = config.backend
    order = [wanted] if wanted in NAMES else (["imx500", "hailo"] if wanted == "auto" else [])
    for probe in probes:
        if probe.kind in order and probe.usable:
            return BackendPlan(probe.kind, probe, None, probes)
    fallback = None
    if wanted in NAMES:
        probe = next(p for p in probes if p.kind == wanted)
        fallback = f"{NAMES[wanted]}: {probe.detail}"
    return BackendPlan("cpu", None, fallback, probes)
