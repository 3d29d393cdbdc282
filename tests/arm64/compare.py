"""The arm64 check's two helpers (tests/arm64/check.sh): cut the short clip both machines replay,
and compare their event updates (``ronda replay --events-jsonl``).

Same alerts means: as many updates, in the same order, of the same type and label; scores within
``--score`` (0.06: int8 kernels differ between x86 and Arm, and qemu emulates the Arm ones), boxes
within ``--box`` px on every edge, event times within ``--seconds``.

    python -m tests.arm64.compare cut VIDEO OUT.mp4 --frames 260
    python -m tests.arm64.compare same X86.jsonl ARM64.jsonl
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path


def cut(video: Path, out: Path, frames: int) -> int:
    """The first ``frames`` frames of ``video`` as an mp4 (OpenCV's mp4v) at the same rate."""
    import cv2

    capture = cv2.VideoCapture(str(video))
    fps = capture.get(cv2.CAP_PROP_FPS) or 10.0
    ok, frame = capture.read()
    if not ok:
        raise SystemExit(f"compare: cannot read {video}")
    height, width = frame.shape[:2]
    writer = cv2.VideoWriter(str(out), cv2.VideoWriter_fourcc(*"mp4v"), fps, (width, height))
    written = 0
    while ok and written < frames:
        writer.write(frame)
        written += 1
        ok, frame = capture.read()
    writer.release()
    capture.release()
    return written


def differences(
    x86: list[dict], arm64: list[dict], *, score: float, box: int, seconds: float
) -> list[str]:
    """One line per way the arm64 updates differ from the x86 ones; empty when they agree."""
    if len(x86) != len(arm64):
        return [f"{len(x86)} updates on x86, {len(arm64)} on arm64"]
    found = []
    for number, (a, b) in enumerate(zip(x86, arm64, strict=True), 1):
        where = f"update {number} ({a['type']} {a['label']})"
        if (a["type"], a["label"], a["sequence"]) != (b["type"], b["label"], b["sequence"]):
            found.append(f"{where}: arm64 has {b['type']} {b['label']} #{b['sequence']}")
            continue
        if abs(a["score"] - b["score"]) > score:
            found.append(f"{where}: score {a['score']} vs {b['score']}")
        edges = [abs(p - q) for p, q in zip(a["box"], b["box"], strict=True)]
        if max(edges) > box:
            found.append(f"{where}: box {a['box']} vs {b['box']}")
        for key in ("start_time", "end_time", "frame_time"):
            if (a[key] is None) != (b[key] is None) or (
                a[key] is not None and abs(a[key] - b[key]) > seconds
            ):
                found.append(f"{where}: {key} {a[key]} vs {b[key]}")
    return found


def worst(x86: list[dict], arm64: list[dict]) -> str:
    """The largest score and box differences, for the record."""
    pairs = list(zip(x86, arm64, strict=False))
    scores = [abs(a["score"] - b["score"]) for a, b in pairs] or [0.0]
    boxes = [max(abs(p - q) for p, q in zip(a["box"], b["box"], strict=True)) for a, b in pairs]
    return f"largest differences: score {max(scores):.3f}, box {max(boxes or [0])} px"


def load(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.arm64.compare")
    actions = parser.add_subparsers(dest="action", required=True)
    cutting = actions.add_parser("cut", help="the first N frames of a video")
    cutting.add_argument("video", type=Path)
    cutting.add_argument("out", type=Path)
    cutting.add_argument("--frames", type=int, default=260)
    same = actions.add_parser("same", help="compare x86 and arm64 event updates")
    same.add_argument("x86", type=Path)
    same.add_argument("arm64", type=Path)
    same.add_argument("--score", type=float, default=0.06)
    same.add_argument("--box", type=int, default=4)
    same.add_argument("--seconds", type=float, default=0.5)
    args = parser.parse_args(argv)
    if args.action == "cut":
        print(f"compare: {cut(args.video, args.out, args.frames)} frames -> {args.out}")
        return 0
    x86, arm64 = load(args.x86), load(args.arm64)
    if not x86:
        print("compare: no event updates on x86: the clip shows nothing to compare")
        return 1
    found = differences(x86, arm64, score=args.score, box=args.box, seconds=args.seconds)
    for line in found:
        print(f"compare: {line}")
    verdict = "differ" if found else "agree"
    print(f"compare: {len(x86)} event updates {verdict}; {worst(x86, arm64)}")
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
