"""The "nanodet" decoder family of manifests written before the GFL decoder was shared: NanoDet's
head is a GFL head, decoded by ``camera.detect.families.gfl`` (cell centres)."""

from camera.detect.families.gfl import GflDecoder as NanoDetDecoder
from camera.detect.families.gfl import from_spec

__all__ = ["NanoDetDecoder", "from_spec"]
