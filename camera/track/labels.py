"""What a track is: score-weighted votes over its life, and which pet detections may vote.

One frame's label is weak evidence: NanoDet scores each class of a cell on its own, so a person
seen from behind reads as "dog" now and then, and a bag, a child's legs or a pushchair among
people reads as a small "dog".  So a track's label is the label with the most score-weighted
votes over the track's life, and its score is the median over its detections *of that label*.

A pet detection votes only when it could be a pet (``pet_plausible``):

* **pet-shaped**: a cat or dog box is at most about twice as tall as wide (a sitting cat seen from
  the front is the tallest); a box more than ``MAX_PET_ASPECT`` times taller than wide is a
  person's part, a post, a bag;
* **not part of a person**: a box lying mostly (``PART_OF_PERSON``) inside a person detected in
  the same frame is their bag, shoes or the dog-score echo of their legs; a real pet passing
  in front of someone does so for a moment, and votes on the other frames;
* **of plausible size next to people**: a person whose feet are level with the pet's in the
  picture stands about as far from the camera; a cat or dog is at least a sixth of a person's
  height (a cat 25-30 cm, a small dog 25 cm, a person 1.6-1.9 m), so a box below
  ``MIN_PET_TO_PERSON`` of such a person's height is too small to be a pet there.  Without a
  person near it, the label's ``min_area`` and ``min_pixels`` rules decide, as for any object.

These are shape and geometry rules with wide margins, not thresholds fitted to our clips: each
rejects what a pet cannot look like, and a real pet keeps voting on the frames where it does not
touch a person.
"""

from __future__ import annotations

import statistics
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, field

from camera.types import Box, Detection

MAX_PET_ASPECT = 2.2
"""Height over width above which a box is not pet-shaped."""
PART_OF_PERSON = 0.6
"""Share of a pet box inside a person's box above which it is taken as part of that person."""
MIN_PET_TO_PERSON = 0.12
"""Smallest pet height, as a share of a person's height at the same depth (feet level)."""
SAME_DEPTH = 0.25
"""Feet within this share of the person's height (vertically) count as the same depth."""
_SCORE_HISTORY = 50


def pet_plausible(box: Box, people: Sequence[Box]) -> bool:
    """Whether a pet detection at ``box`` may vote, given the people seen in the same frame."""
    if box.height > MAX_PET_ASPECT * max(box.width, 1.0):
        return False
    area = max(box.area, 1.0)
    for person in people:
        if person.intersection(box) >= PART_OF_PERSON * area:
            return False
        same_depth = abs(person.y2 - box.y2) <= SAME_DEPTH * person.height
        if same_depth and box.height < MIN_PET_TO_PERSON * person.height:
            return False
    return True


@dataclass(slots=True)
class LabelEvidence:
    """Score-weighted votes of one track; see the module docstring."""

    votes: dict[str, float] = field(default_factory=dict)
    subclass_votes: dict[str, dict[str, float]] = field(default_factory=dict)
    scores: dict[str, deque[float]] = field(default_factory=dict)
    rejected: int = 0

    def add(self, detection: Detection, plausible: bool) -> None:
        """Count ``detection``; an implausible one is remembered only as a rejection."""
        if not plausible:
            self.rejected += 1
            return
        label, score = detection.label, detection.score
        self.votes[label] = self.votes.get(label, 0.0) + score
        subclasses = self.subclass_votes.get(label)
        if subclasses is None:
            subclasses = self.subclass_votes[label] = {}
            self.scores[label] = deque(maxlen=_SCORE_HISTORY)
        subclasses[detection.subclass] = subclasses.get(detection.subclass, 0.0) + score
        self.scores[label].append(score)

    def merge(self, other: LabelEvidence) -> None:
        """Take over the votes of a track found to be the same object."""
        for label, votes in other.votes.items():
            self.votes[label] = self.votes.get(label, 0.0) + votes
        for label, subclasses in other.subclass_votes.items():
            mine = self.subclass_votes.setdefault(label, {})
            for name, votes in subclasses.items():
                mine[name] = mine.get(name, 0.0) + votes
        for label, scores in other.scores.items():
            self.scores.setdefault(label, deque(maxlen=_SCORE_HISTORY)).extend(scores)
        self.rejected += other.rejected

    @property
    def known(self) -> bool:
        """Whether any detection has voted yet."""
        return bool(self.votes)

    @property
    def label(self) -> str:
        """The label with the most votes ("" before any vote)."""
        return max(self.votes, key=self.votes.__getitem__) if self.votes else ""

    @property
    def subclass(self) -> str:
        subclasses = self.subclass_votes.get(self.label)
        return max(subclasses, key=subclasses.__getitem__) if subclasses else ""

    def hits(self, label: str | None = None) -> int:
        """Detections that voted for ``label`` (the winning one by default)."""
        return len(self.scores.get(self.label if label is None else label, ()))

    def median_score(self, label: str | None = None) -> float:
        scores = self.scores.get(self.label if label is None else label)
        return float(statistics.median(scores)) if scores else 0.0

    def last_score(self) -> float:
        scores = self.scores.get(self.label)
        return scores[-1] if scores else 0.0
