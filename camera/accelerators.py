"""Which accelerators this Pi has, as the kernel shows them, and which Raspberry Pi OS packages
they need: standard library only, because the installer runs on a bare system Python and the
detector's probe (``camera.detect.devices``) asks the same questions at every start.

- **AI Camera** (Sony IMX500): a V4L2 sub-device whose driver module is ``imx500`` (how
  picamera2's own ``IMX500`` class finds it).  It needs ``imx500-all``: the sensor's firmware
  in ``/lib/firmware`` (the kernel loads it when the camera starts) and the networks in
  ``/usr/share/imx500-models``.
- **Hailo** (AI HAT+, AI Kit): ``/dev/hailo0`` once the ``hailo_pci`` driver runs, or before
  that a PCI device of Hailo's vendor id.  It needs ``hailo-all``: the driver, its firmware,
  HailoRT and its Python binding, and the networks in ``/usr/share/hailo-models``.

Every path is taken under a ``root`` (``/`` for the real thing), so tests and the installer's
``--root`` look at a scratch tree.
"""

from __future__ import annotations

import grp
import os
import stat
from pathlib import Path

IMX500_DRIVER = "imx500"
IMX500_FIRMWARE = ("lib/firmware/imx500_loader.fpk", "lib/firmware/imx500_firmware.fpk")
IMX500_MODELS = "usr/share/imx500-models"
HAILO_DEVICE = "dev/hailo0"
HAILO_MODELS = "usr/share/hailo-models"
HAILO_PCI_VENDOR = "0x1e60"
"""Hailo Technologies' PCI vendor id: the chip is there even before its driver is."""
PACKAGES = {"imx500": "imx500-all", "hailo": "hailo-all"}


def under(root: Path, path: str | Path) -> Path:
    return root / str(path).lstrip("/")


def imx500_subdevice(root: Path) -> str | None:
    """The V4L2 sub-device (``v4l-subdev2``) driven by the imx500 module, or None."""
    folder = under(root, "sys/class/video4linux")
    try:
        names = sorted(os.listdir(folder))
    except OSError:
        return None
    for name in names:
        try:
            if name.startswith("v4l-subdev") and IMX500_DRIVER in os.readlink(
                folder / name / "device" / "driver" / "module"
            ):
                return name
        except OSError:
            continue
    return None


def hailo_present(root: Path) -> bool:
    """``/dev/hailo0``, or a Hailo chip on the PCI bus whose driver is not installed yet."""
    if under(root, HAILO_DEVICE).exists():
        return True
    devices = under(root, "sys/bus/pci/devices")
    try:
        names = os.listdir(devices)
    except OSError:
        return False
    for name in names:
        try:
            if (devices / name / "vendor").read_text().strip().lower() == HAILO_PCI_VENDOR:
                return True
        except OSError:
            continue
    return False


def hailo_group(root: Path) -> str | None:
    """The group the service user must be in to open ``/dev/hailo0``: None when the node is
    world read-write (HailoRT's own udev rule) or absent, or only root's."""
    try:
        info = os.stat(under(root, HAILO_DEVICE))
    except OSError:
        return None
    if info.st_mode & (stat.S_IROTH | stat.S_IWOTH) == stat.S_IROTH | stat.S_IWOTH:
        return None
    try:
        name = grp.getgrgid(info.st_gid).gr_name
    except KeyError:
        return None
    return None if name == "root" else name


def present(root: Path) -> list[str]:
    """The accelerators here: ``imx500``, ``hailo``."""
    found = []
    if imx500_subdevice(root) is not None:
        found.append("imx500")
    if hailo_present(root):
        found.append("hailo")
    return found


def _software_installed(kind: str, root: Path) -> bool:
    if kind == "imx500":
        return (
            all(under(root, f).is_file() for f in IMX500_FIRMWARE)
            and under(root, IMX500_MODELS).is_dir()
        )
    binding = any(under(root, "usr/lib/python3/dist-packages").glob("hailo_platform*"))
    return under(root, HAILO_DEVICE).exists() and under(root, HAILO_MODELS).is_dir() and binding


def missing_packages(root: Path) -> list[str]:
    """The apt packages the accelerators here still need (none when there is none)."""
    return [PACKAGES[kind] for kind in present(root) if not _software_installed(kind, root)]
