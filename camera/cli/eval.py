"""``ronda eval MANIFEST``: replay labelled footage, score the alerts, write an HTML report, and
fail (exit 1) when a given threshold is missed, so a CI job or an owner's script can hold a
configuration to it.  See ``docs/eval.md``."""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import threading
from pathlib import Path
from typing import TYPE_CHECKING

from camera.arguments import AddCommand
from camera.cli.startup import load, setup_logging

if TYPE_CHECKING:  # the pipeline loads only when the command runs
    from camera.eval.metrics import ClipScore
    from camera.eval.report import ScoredClip, Verdict


def register(add: AddCommand) -> None:
    """Called by ``camera.cli.ronda`` with its ``add(name, handler, help)``."""
    parser = add(
        "eval",
        cmd_eval,
        "Replay labelled footage (a manifest of clips and the frames where people and pets "
        "are in view) through the pipeline; report precision, recall, alerts per visit, label "
        "confusions, time to alert and detector calls as HTML; exit 1 when a threshold is missed.",
    )
    parser.add_argument("manifest", type=Path, metavar="MANIFEST", help="manifest JSON file")
    parser.add_argument(
        "--report",
        type=Path,
        default=Path("ronda-eval.html"),
        metavar="FILE",
        help="where the HTML report goes (default ronda-eval.html)",
    )
    parser.add_argument(
        "--json", type=Path, default=None, metavar="FILE", help="also write the numbers as JSON"
    )
    parser.add_argument(
        "--only",
        action="append",
        default=[],
        metavar="TEXT",
        help="replay only clips whose path contains TEXT (repeatable)",
    )
    parser.add_argument(
        "--tolerance",
        type=float,
        default=1.0,
        metavar="S",
        help="labelled visit boundaries are taken as ±S seconds (default 1.0)",
    )
    thresholds = parser.add_argument_group("thresholds (exit 1 when one is missed)")
    thresholds.add_argument(
        "--baseline",
        type=Path,
        default=None,
        metavar="FILE",
        help="a --json output kept from an earlier run: exit 1 when precision, recall, alerts "
        "per visit, label confusions, false alarms or still things alerted are worse, overall "
        "or in one of its groups (day, night, real, re-rendered, composed) that this run has",
    )
    thresholds.add_argument("--min-recall", type=_share, default=None, metavar="R")
    thresholds.add_argument("--min-precision", type=_share, default=None, metavar="P")
    thresholds.add_argument(
        "--max-alerts-per-visit",
        type=float,
        default=None,
        metavar="N",
        help="mean alerts per visit that alerted (1.0 = never fragmented)",
    )
    thresholds.add_argument(
        "--max-confusions", type=int, default=None, metavar="N", help="alerts with the wrong label"
    )
    thresholds.add_argument(
        "--max-false-alarms", type=int, default=None, metavar="N", help="alerts during no visit"
    )
    thresholds.add_argument(
        "--max-still-alerts",
        type=int,
        default=None,
        metavar="N",
        help="alerts on a still thing the manifest names (a statue, a coat)",
    )
    thresholds.add_argument(
        "--max-time-to-alert",
        type=float,
        default=None,
        metavar="S",
        help="median seconds from a visit's start to its alert",
    )


def _share(text: str) -> float:
    value = float(text)
    if not 0.0 <= value <= 1.0:
        raise argparse.ArgumentTypeError(f"must be between 0 and 1 (got {text})")
    return value


def cmd_eval(args: argparse.Namespace) -> int:
    from camera.eval.manifest import load_manifest
    from camera.eval.metrics import ClipScore, score_clip
    from camera.eval.report import ScoredClip, render_report, score_rows
    from camera.eval.runner import ClipRun, replay_clips

    config, _ = load(args)
    setup_logging(config.logging.level, quiet=True)
    manifest = load_manifest(args.manifest)
    clips = [c for c in manifest.clips if not args.only or any(t in c.name for t in args.only)]
    if not clips:
        _out(f"ronda eval: no clip of {args.manifest} matches --only", error=True)
        return 2
    if not getattr(args, "state_dir", None):  # events of an evaluation stay out of the real store
        scratch = tempfile.mkdtemp(prefix="ronda-eval-")
        config = config.model_copy(
            update={"store": config.store.model_copy(update={"path": Path(scratch)})}
        )
    scored: list[ScoredClip] = []
    overall = ClipScore()
    groups: dict[str, ClipScore] = {}

    def report_clip(run: ClipRun) -> None:
        still = [thing.box for thing in run.clip.still]
        score, matches = score_clip(run.visits, run.events, args.tolerance, still)
        overall.add(score)
        for group in run.clip.groups:
            groups.setdefault(group, ClipScore()).add(score)
        scored.append(ScoredClip(run, score, matches))
        _out(
            f"{run.clip.name} ({run.clip.light}, {run.clip.footage}): "
            f"{score.visits} visit(s), {score.alerts} alert(s), "
            f"recall {_text(score.recall)}, precision {_text(score.precision)}, "
            f"alerts/visit {_text(score.alerts_per_visit)}, detector on "
            f"{run.detector_calls}/{run.frames} frames"
        )

    baseline = _baseline(args.baseline) if args.baseline is not None else None
    replay_clips(config, clips, threading.Event(), report_clip)
    groups = {name: groups[name] for name in GROUPS if name in groups}
    verdicts = _verdicts(args, overall)
    if baseline is not None:
        verdicts += _baseline_verdicts(baseline.get("overall", {}), overall)
        for name, score in groups.items():
            verdicts += _baseline_verdicts(baseline.get(name, {}), score, f"{name} ")
    args.report.parent.mkdir(parents=True, exist_ok=True)
    args.report.write_text(
        render_report(
            scored,
            overall,
            verdicts,
            manifest=str(args.manifest),
            skipped=manifest.skipped,
            tolerance_s=args.tolerance,
            groups=groups if len(groups) > 2 else None,
        ),
        encoding="utf-8",
    )
    if args.json is not None:
        args.json.write_text(json.dumps(_summary(scored, overall, groups, verdicts), indent=1))
    if len(groups) > 2:  # one light and one kind of footage say nothing the overall row does not
        for name, score in groups.items():
            _out(f"{name}: " + "; ".join(f"{k} {v}" for k, v in score_rows(score)))
    _out("overall: " + "; ".join(f"{k} {v}" for k, v in score_rows(overall)))
    _out(f"report: {args.report}")
    failed = [v for v in verdicts if not v.passed]
    for verdict in failed:
        _out(f"ronda eval: {verdict.name} is {verdict.value}, the limit is {verdict.limit}", True)
    return 1 if failed else 0


def _out(line: str, error: bool = False) -> None:
    stream = sys.stderr if error else sys.stdout
    stream.write(line + "\n")
    stream.flush()


def _text(value: float | None) -> str:
    return "–" if value is None else f"{value:.2f}"


def _verdicts(args: argparse.Namespace, overall: ClipScore) -> list[Verdict]:
    from camera.eval.report import Verdict

    checks: list[tuple[str, float | None, float | int | None, bool]] = [
        # name, limit, value, higher is better
        ("recall", args.min_recall, overall.recall, True),
        ("precision", args.min_precision, overall.precision, True),
        ("alerts per visit", args.max_alerts_per_visit, overall.alerts_per_visit, False),
        ("label confusions", args.max_confusions, overall.confusion_count, False),
        ("false alarms", args.max_false_alarms, overall.false_alarms, False),
        ("still things alerted", args.max_still_alerts, overall.still_alerts, False),
        ("median time to alert", args.max_time_to_alert, overall.median_time_to_alert, False),
    ]
    verdicts = []
    for name, limit, value, higher in checks:
        if limit is None:
            continue
        if value is None:  # nothing to measure (no visit, no alert): only a recall floor fails
            passed = not (higher and name == "recall")
        else:
            passed = value >= limit if higher else value <= limit
        sign = ">=" if higher else "<="
        verdicts.append(Verdict(name, f"{sign} {limit:g}", _text(value), passed))
    return verdicts


BASELINE_KEYS = (
    # key in the --json output, name, higher is better
    ("precision", "precision", True),
    ("recall", "recall", True),
    ("alerts_per_visit", "alerts per visit", False),
    ("confusions", "label confusions", False),
    ("false_alarms", "false alarms", False),
    ("still_alerts", "still things alerted", False),
)


GROUPS = ("day", "night", "real", "re-rendered", "composed")
"""The groups the numbers are also given for: by light (``light_group``) and by footage."""


def _baseline(path: Path) -> dict[str, dict[str, float]]:
    """The numbers of an earlier ``--json`` output, ``{"overall": ..., group: ...}``; raises
    ManifestError (one line)."""
    from camera.eval.manifest import ManifestError

    def numbers(row: dict[str, object]) -> dict[str, float]:
        found = {}
        for key, _, _ in BASELINE_KEYS:
            value = row.get(key)
            if isinstance(value, dict):  # confusions: "truth->label": n
                value = sum(n for k, n in value.items() if k.split("->")[0] not in _NOT_LABELS)
            if value is not None:
                assert isinstance(value, int | float)
                found[key] = float(value)
        return found

    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        baseline = {"overall": numbers(data["overall"])}
        for name, row in data.get("groups", {}).items():
            baseline[name] = numbers(row)
        return baseline
    except (OSError, ValueError, KeyError, TypeError, AttributeError, AssertionError) as error:
        raise ManifestError(
            f"baseline {path}: not an eval --json output ({type(error).__name__}: {error})"
        ) from None


_NOT_LABELS = ("nothing", "still")


def _baseline_verdicts(
    baseline: dict[str, float], score: ClipScore, prefix: str = ""
) -> list[Verdict]:
    """``score`` against the same numbers of a baseline; ``prefix`` names the group."""
    from camera.eval.report import Verdict

    values: dict[str, float | None] = {
        "precision": score.precision,
        "recall": score.recall,
        "alerts_per_visit": score.alerts_per_visit,
        "confusions": score.confusion_count,
        "false_alarms": score.false_alarms,
        "still_alerts": score.still_alerts,
    }
    verdicts = []
    for key, name, higher in BASELINE_KEYS:
        if key not in baseline:
            continue
        limit, value = baseline[key], values[key]
        if value is None:
            passed = not higher or limit == 0
        else:  # a hair of slack for rounding in the stored JSON
            passed = value >= limit - 1e-9 if higher else value <= limit + 1e-9
        sign = ">=" if higher else "<="
        limit_text = f"{sign} {limit:g} (baseline)"
        verdicts.append(Verdict(prefix + name, limit_text, _text(value), passed))
    return verdicts


def _summary(
    scored: list[ScoredClip],
    overall: ClipScore,
    groups: dict[str, ClipScore],
    verdicts: list[Verdict],
) -> dict[str, object]:
    def numbers(score: ClipScore) -> dict[str, object]:
        return {
            "visits": score.visits,
            "alerts": score.alerts,
            "stored_only": score.stored_only,
            "precision": score.precision,
            "recall": score.recall,
            "alerts_per_visit": score.alerts_per_visit,
            "max_alerts_per_visit": score.max_alerts_per_visit,
            "false_alarms": score.false_alarms,
            "still_alerts": score.still_alerts,
            "confusions": {f"{t}->{a}": n for (t, a), n in score.confusions.items()},
            "median_time_to_alert_s": score.median_time_to_alert,
        }

    return {
        "overall": numbers(overall),
        "groups": {name: numbers(score) for name, score in groups.items()},
        "clips": {
            c.run.clip.name: {
                **numbers(c.score),
                "light": c.run.clip.light,
                "footage": c.run.clip.footage,
                "frames": c.run.frames,
                "detector_calls": c.run.detector_calls,
                "detector_crops": c.run.detector_crops,
            }
            for c in scored
        },
        "thresholds": [
            {"name": v.name, "limit": v.limit, "value": v.value, "passed": v.passed}
            for v in verdicts
        ],
    }
