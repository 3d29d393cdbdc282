"""The evaluation report: one self-contained HTML file (inline CSS, SVG and JPEG data URIs), so
it can be mailed, attached to an issue or opened from a USB stick with nothing else.

Per clip: the numbers, a timeline (labelled visits above, events below: a bar from the event's
start to its end, a triangle where it alerted, hollow bars for events stored without an alert)
and the alerts' thumbnails.  On top, the whole run and the thresholds it was held to.
"""

from __future__ import annotations

import base64
import html
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from camera.eval.metrics import ClipScore, Match
from camera.eval.runner import ClipRun

COLOURS = {"person": "#d0342c", "pet": "#2e8b3a", "motion": "#c8a000"}
_WIDTH = 900
_LEFT = 70


@dataclass(frozen=True, slots=True)
class Verdict:
    """One threshold and how the run did against it."""

    name: str
    limit: str
    value: str
    passed: bool


@dataclass(frozen=True, slots=True)
class ScoredClip:
    run: ClipRun
    score: ClipScore
    matches: list[Match]


def _fmt(value: float | None, digits: int = 2, unit: str = "") -> str:
    return "–" if value is None else f"{value:.{digits}f}{unit}"


def score_rows(score: ClipScore) -> list[tuple[str, str]]:
    """The numbers shown for a clip or the whole run, in order (also printed by the CLI)."""
    confusions = ", ".join(
        f"{truth}→{label} {n}" for (truth, label), n in sorted(score.confusions.items())
    )
    return [
        ("visits", str(score.visits)),
        ("alerts", str(score.alerts)),
        ("stored without alert", str(score.stored_only)),
        ("precision", _fmt(score.precision)),
        ("recall", _fmt(score.recall)),
        ("alerts per visit", _fmt(score.alerts_per_visit)),
        ("most alerts for one visit", str(score.max_alerts_per_visit)),
        ("false alarms", str(score.false_alarms)),
        ("still things alerted", str(score.still_alerts)),
        ("label confusions", confusions or "none"),
        ("median time to alert", _fmt(score.median_time_to_alert, 1, " s")),
    ]


def render_report(
    clips: Sequence[ScoredClip],
    overall: ClipScore,
    verdicts: Sequence[Verdict],
    *,
    manifest: str,
    skipped: Sequence[str],
    tolerance_s: float,
    groups: Mapping[str, ClipScore] | None = None,
) -> str:
    """The whole HTML document; ``groups``: the numbers by light and footage (day, night...)."""
    calls = sum(c.run.detector_calls for c in clips)
    frames = sum(c.run.frames for c in clips)
    parts = [
        "<!DOCTYPE html><html><head><meta charset='utf-8'><title>Ronda eval</title>",
        f"<style>{_CSS}</style></head><body>",
        f"<h1>Ronda eval: {html.escape(manifest)}</h1>",
        f"<p>{len(clips)} clip(s), {frames} frames; visits matched with ±{tolerance_s:g} s; "
        f"detector ran on {calls} frames ({_share(calls, frames)}).</p>",
        _table("Overall", score_rows(overall), css="overall"),
    ]
    if groups:
        parts.append(_groups_table(groups))
    if verdicts:
        rows = "".join(
            f"<tr class='{'pass' if v.passed else 'fail'}'><td>{html.escape(v.name)}</td>"
            f"<td>{html.escape(v.limit)}</td><td>{html.escape(v.value)}</td>"
            f"<td>{'pass' if v.passed else 'FAIL'}</td></tr>"
            for v in verdicts
        )
        parts.append(
            "<h2>Thresholds</h2><table class='verdicts'><tr><th>threshold</th><th>limit</th>"
            f"<th>value</th><th></th></tr>{rows}</table>"
        )
    if skipped:
        items = "".join(f"<li>{html.escape(s)}</li>" for s in skipped)
        parts.append(f"<p>Skipped:</p><ul>{items}</ul>")
    for clip in clips:
        parts.append(_clip_section(clip))
    parts.append("</body></html>")
    return "\n".join(parts)


def _share(part: int, whole: int) -> str:
    return f"{100.0 * part / whole:.0f} % of frames" if whole else "no frames"


def _table(title: str, rows: list[tuple[str, str]], css: str = "") -> str:
    body = "".join(f"<tr><td>{html.escape(k)}</td><td>{html.escape(v)}</td></tr>" for k, v in rows)
    return f"<table class='numbers {css}'><caption>{html.escape(title)}</caption>{body}</table>"


def _groups_table(groups: Mapping[str, ClipScore]) -> str:
    """One row per group (day, night, real...), one column per number of ``score_rows``."""
    names = [name for name, _ in score_rows(next(iter(groups.values())))]
    head = "".join(f"<th>{html.escape(n)}</th>" for n in ["", *names])
    body = "".join(
        f"<tr><td>{html.escape(group)}</td>"
        + "".join(f"<td>{html.escape(v)}</td>" for _, v in score_rows(score))
        + "</tr>"
        for group, score in groups.items()
    )
    return (
        "<table class='groups'><caption>By light (day: day, dusk; night: dark, infrared) and "
        f"by footage</caption><tr>{head}</tr>{body}</table>"
    )


def _clip_section(clip: ScoredClip) -> str:
    run = clip.run
    extra = [
        ("light, footage", f"{run.clip.light}, {run.clip.footage}"),
        ("frames", f"{run.frames} ({run.duration_s:.1f} s at {run.fps:g} fps)"),
        ("detector calls", f"{run.detector_calls} ({_share(run.detector_calls, run.frames)})"),
        ("detector crops", str(run.detector_crops)),
        ("replay speed", f"{run.frames / run.wall_s:.0f} frames/s" if run.wall_s > 0 else "–"),
    ]
    thumbs = "".join(
        f"<figure><img alt='{html.escape(m.event.label)}' src='data:image/jpeg;base64,"
        f"{base64.b64encode(m.event.thumbnail).decode()}'><figcaption>"
        f"{html.escape(m.event.label)} at {_fmt(m.event.alert_time, 1, ' s')}"
        f"{'' if m.visit is not None else ' (no such visit)'}</figcaption></figure>"
        for m in clip.matches
        if m.event.thumbnail
    )
    return (
        f"<section><h2>{html.escape(run.clip.name)}</h2>"
        f"<div class='row'>{_table('Score', score_rows(clip.score))}"
        f"{_table('Work', extra)}</div>"
        f"{timeline_svg(clip)}<div class='thumbs'>{thumbs}</div></section>"
    )


def timeline_svg(clip: ScoredClip) -> str:
    """Labelled visits (top row) against events (lanes below) on the clip's time axis."""
    run = clip.run
    duration = max(run.duration_s, 1e-3)
    scale = (_WIDTH - _LEFT - 10) / duration
    lanes: list[float] = []  # end time of the last event in each lane
    bars: list[str] = []
    for event in run.events:
        lane = next((i for i, end in enumerate(lanes) if end <= event.start), len(lanes))
        if lane == len(lanes):
            lanes.append(event.end)
        else:
            lanes[lane] = event.end
        y = 44 + 16 * lane
        x = _LEFT + event.start * scale
        width = max(2.0, (event.end - event.start) * scale)
        colour = COLOURS.get(event.label, "#666")
        fill = colour if event.alerted else "none"
        title = html.escape(
            f"{event.label} ({event.subclass}) {event.start:.1f}-{event.end:.1f} s"
            + (f", alert at {event.alert_time:.1f} s" if event.alert_time is not None else "")
            + (f", zones {', '.join(event.zones)}" if event.zones else "")
        )
        bars.append(
            f"<rect class='event' x='{x:.1f}' y='{y}' width='{width:.1f}' height='11' "
            f"fill='{fill}' stroke='{colour}'><title>{title}</title></rect>"
        )
        if event.alert_time is not None:
            ax = _LEFT + event.alert_time * scale
            bars.append(
                f"<polygon class='alert' points='{ax:.1f},{y - 1} {ax - 4:.1f},{y - 7} "
                f"{ax + 4:.1f},{y - 7}' fill='#111'/>"
            )
    visits = "".join(
        f"<rect class='visit' x='{_LEFT + v.start * scale:.1f}' y='12' "
        f"width='{max(2.0, (v.end - v.start) * scale):.1f}' height='14' "
        f"fill='{COLOURS.get(v.label, '#666')}' opacity='0.55'><title>{v.label} "
        f"{v.start:.1f}-{v.end:.1f} s</title></rect>"
        for v in run.visits
    )
    height = 44 + 16 * max(1, len(lanes)) + 22
    ticks = _ticks(duration, scale, height - 14)
    return (
        f"<svg class='timeline' xmlns='http://www.w3.org/2000/svg' width='{_WIDTH}' "
        f"height='{height}' viewBox='0 0 {_WIDTH} {height}'>"
        f"<text x='4' y='23'>labelled</text><text x='4' y='{55}'>events</text>"
        f"{visits}{''.join(bars)}{ticks}</svg>"
    )


def _ticks(duration: float, scale: float, y: float) -> str:
    step = next(s for s in (1, 2, 5, 10, 20, 30, 60, 120, 300, 600, 1e9) if duration / s <= 12)
    marks = []
    t = 0.0
    while t <= duration + 1e-9:
        x = _LEFT + t * scale
        marks.append(
            f"<line x1='{x:.1f}' y1='{y - 6}' x2='{x:.1f}' y2='{y - 2}' stroke='#999'/>"
            f"<text x='{x:.1f}' y='{y + 9}' text-anchor='middle'>{t:g}s</text>"
        )
        t += step
    return "".join(marks)


_CSS = """
body{font-family:system-ui,sans-serif;margin:1.5em;color:#222;max-width:960px}
table.numbers{border-collapse:collapse;margin:0 1.5em 1em 0;font-size:.9em}
table.numbers caption{text-align:left;font-weight:600}
td,th{border-bottom:1px solid #ddd;padding:2px 10px 2px 0;text-align:left}
table.overall{font-size:1em}
table.groups{border-collapse:collapse;margin:0 0 1em;font-size:.85em}
table.groups caption{text-align:left;font-weight:600}
tr.fail td{color:#b00;font-weight:600} tr.pass td{color:#070}
.row{display:flex;flex-wrap:wrap;align-items:flex-start}
svg.timeline{border:1px solid #eee;font-size:10px;fill:#555}
.thumbs{display:flex;flex-wrap:wrap;gap:8px;margin:.5em 0 2em}
.thumbs img{max-height:140px} figure{margin:0;font-size:.8em}
"""
