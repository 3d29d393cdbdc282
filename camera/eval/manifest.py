"""The labelled-footage manifest ``ronda eval`` reads (format in ``docs/eval.md``).

It is the repository's own ``tests/footage/manifest.json`` format, so that file is read as-is:

```json
{"items": [
  {"path": "clips/porch-evening.mp4",
   "labels": {"person": [[60, 202], [227, 451]], "pet": [[500, 540]]}}
]}
```

``path`` is relative to the manifest (a video file or a folder of numbered images); each range
``[first, last]`` (frame indices, 0-based, inclusive, in decode order) is one *visit*: one
person or pet passing, which should make exactly one alert.  Labels other than ``person`` and
``pet`` (``vehicle``, ``nuisance``, ``empty``, ``dog``...) are notes for people and are ignored:
everything outside the person and pet visits is a time when nothing should alert.  An image
folder may give its ``fps`` (default 10).  Items that are single photos (``frames: 1`` or an
image file) are skipped: there is nothing to track in them.

``still`` lists things in view that never move and must never alert however much moves next to
them (a statue, a coat on a hook, a cushion): ``{"what": "statue", "box": [x1, y1, x2, y2]}`` in
frame pixels.  An alert on one of them is counted apart (``still_alerts``), not matched to the
visit of whoever walked past at the time.

``light`` says how the scene was lit (``day``, ``dusk``, ``night``: dark colour, ``ir``: infrared
night, monochrome); the report splits its numbers into *day* (day, dusk) and *night* (night, ir).
``footage`` says where the pictures come from: ``real`` (a camera's recording, maybe trimmed,
scaled or re-encoded), ``re-rendered`` (real footage with light or rain put on it), ``composed``
(cut-outs moved over a scene); the report gives each apart.  Both default to what an owner's
own recordings are: ``day`` and ``real``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from camera.sources.video import IMAGE_SUFFIXES

VISIT_LABELS = ("person", "pet")
LIGHTS = ("day", "dusk", "night", "ir")
NIGHT_LIGHTS = ("night", "ir")
FOOTAGE_KINDS = ("real", "re-rendered", "composed")


def light_group(light: str) -> str:
    """``night`` for a dark or infrared scene, else ``day`` (dusk is still colour and lit)."""
    return "night" if light in NIGHT_LIGHTS else "day"


class ManifestError(Exception):
    """A manifest that cannot be used; ``str()`` is one line naming the file and the problem."""


@dataclass(frozen=True, slots=True)
class LabelledVisit:
    """Frames ``first``..``last`` (inclusive) in which one ``label`` is in view."""

    label: str
    first: int
    last: int


@dataclass(frozen=True, slots=True)
class StillThing:
    """Something in view all along that must never alert (``what`` is for people)."""

    what: str
    box: tuple[float, float, float, float]


@dataclass(frozen=True, slots=True)
class LabelledClip:
    """One recording and its visits; ``fps`` only for image folders (videos carry theirs)."""

    name: str
    path: Path
    visits: tuple[LabelledVisit, ...]
    fps: float | None = None
    still: tuple[StillThing, ...] = ()
    light: str = "day"
    footage: str = "real"

    @property
    def groups(self) -> tuple[str, str]:
        """The report's groups this clip counts in: its light (day/night) and its footage."""
        return light_group(self.light), self.footage


@dataclass(frozen=True, slots=True)
class Manifest:
    clips: tuple[LabelledClip, ...]
    skipped: tuple[str, ...]
    """Items left out, each with the reason (``"stills/cat.jpg: a single photo"``)."""


def load_manifest(path: Path) -> Manifest:
    """Read and check ``path``; raises ``ManifestError`` with one line on any problem."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ManifestError(f"manifest {path} does not exist") from None
    except OSError as error:
        raise ManifestError(f"cannot read manifest {path}: {error.strerror}") from None
    except json.JSONDecodeError as error:
        raise ManifestError(f"manifest {path} line {error.lineno}: {error.msg}") from None
    items = data.get("items") if isinstance(data, dict) else None
    if not isinstance(items, list):
        raise ManifestError(f'manifest {path}: expected {{"items": [...]}} at the top level')
    clips: list[LabelledClip] = []
    skipped: list[str] = []
    for number, item in enumerate(items):
        where = f"manifest {path}: items[{number}]"
        if not isinstance(item, dict) or not isinstance(item.get("path"), str):
            raise ManifestError(f'{where}: each item needs a "path" string')
        clip_path = (path.parent / item["path"]).resolve()
        if item.get("frames") == 1 or clip_path.suffix.lower() in IMAGE_SUFFIXES:
            skipped.append(f"{item['path']}: a single photo, nothing to track")
            continue
        if not clip_path.exists():
            raise ManifestError(f"{where}: {clip_path} does not exist")
        fps = item.get("fps") if clip_path.is_dir() else None
        if fps is not None and (not isinstance(fps, int | float) or not 0 < fps <= 240):
            raise ManifestError(f"{where}: fps must be a number of frames per second (got {fps!r})")
        clips.append(
            LabelledClip(
                name=item["path"],
                path=clip_path,
                visits=_visits(item.get("labels", {}), where),
                fps=float(fps) if fps is not None else None,
                still=_still(item.get("still", []), where),
                light=_choice(item, "light", LIGHTS, where),
                footage=_choice(item, "footage", FOOTAGE_KINDS, where),
            )
        )
    if not clips:
        raise ManifestError(f"manifest {path}: no clip to replay (only photos, or no items)")
    return Manifest(tuple(clips), tuple(skipped))


def _choice(item: dict, key: str, allowed: tuple[str, ...], where: str) -> str:
    value = item.get(key, allowed[0])
    if value not in allowed:
        raise ManifestError(f"{where}: {key} must be one of {', '.join(allowed)} (got {value!r})")
    return str(value)


def _still(things: object, where: str) -> tuple[StillThing, ...]:
    if not isinstance(things, list):
        raise ManifestError(f'{where}: "still" must be a list of {{"what", "box"}}')
    found = []
    for index, thing in enumerate(things):
        box = thing.get("box") if isinstance(thing, dict) else None
        ok = (
            isinstance(box, list)
            and len(box) == 4
            and all(isinstance(v, int | float) for v in box)
            and box[0] < box[2]
            and box[1] < box[3]
        )
        if not ok:
            raise ManifestError(
                f"{where}: still[{index}].box must be [x1, y1, x2, y2] with x1 < x2, y1 < y2"
            )
        assert isinstance(thing, dict) and isinstance(box, list)
        found.append(StillThing(str(thing.get("what", "")), (box[0], box[1], box[2], box[3])))
    return tuple(found)


def _visits(labels: object, where: str) -> tuple[LabelledVisit, ...]:
    if not isinstance(labels, dict):
        raise ManifestError(f'{where}: "labels" must map a label to frame ranges')
    visits: list[LabelledVisit] = []
    for label in VISIT_LABELS:
        ranges = labels.get(label, [])
        if not isinstance(ranges, list):
            raise ManifestError(f"{where}: labels.{label} must be a list of [first, last] ranges")
        for index, span in enumerate(ranges):
            ok = (
                isinstance(span, list)
                and len(span) == 2
                and all(isinstance(v, int) and v >= 0 for v in span)
                and span[0] <= span[1]
            )
            if not ok:
                raise ManifestError(
                    f"{where}: labels.{label}[{index}] must be [first, last] frame indices "
                    f"with first <= last (got {span!r})"
                )
            visits.append(LabelledVisit(label, span[0], span[1]))
    visits.sort(key=lambda v: (v.first, v.label))
    return tuple(visits)
