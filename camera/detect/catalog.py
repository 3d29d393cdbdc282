"""What ``ronda models`` prints: every manifest variant, whether its file checks out, how fast
it runs on this machine, and which one Ronda would run here and step down to.

Unlike ``load_detector`` this never stops at the first broken variant: it is the tool a person
runs to find out which one is broken.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from camera.detect.errors import ModelError
from camera.detect.manifest import ModelSpec, bundled_manifest, read_manifest, verify_file
from camera.detect.runtime import load_model
from camera.detect.selection import select

WARMUP_RUNS = 2


@dataclass(frozen=True, slots=True)
class CatalogEntry:
    """One variant: identity, file check, and measured latency (None when it cannot run)."""

    spec: ModelSpec
    name: str
    precision: str
    file: Path
    size: int
    input_size: int
    sha256_ok: bool
    backend: str | None
    median_ms: float | None
    error: str | None


def catalog(manifest: Path | None = None, runs: int = 10, threads: int = 2) -> list[CatalogEntry]:
    """Check and time every variant of ``manifest`` (default: the bundled one).

    Raises ModelError only when the manifest itself cannot be read.  Latency is the median of
    ``runs`` inferences of a fixed noise image after ``WARMUP_RUNS`` untimed ones.
    """
    specs = read_manifest(manifest if manifest is not None else bundled_manifest())
    entries = []
    for spec in specs:
        sha_ok, backend, median, error = False, None, None, None
        try:
            verify_file(spec)
            sha_ok = True
            if runs > 0:
                model = load_model(spec.path, threads)
                backend = model.backend
                median = _median_latency_ms(model.run, spec.input_size, runs)
        except ModelError as exc:
            error = str(exc)
        entries.append(
            CatalogEntry(
                spec,
                spec.name,
                spec.precision,
                spec.path,
                spec.path.stat().st_size if spec.path.exists() else 0,
                spec.input_size,
                sha_ok,
                backend,
                median,
                error,
            )
        )
    return entries


def _median_latency_ms(run: Callable[[np.ndarray], object], size: int, runs: int) -> float:
    pixels = np.random.default_rng(0).integers(0, 256, (size, size, 3), dtype=np.uint8)
    for _ in range(WARMUP_RUNS):
        run(pixels)
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        run(pixels)
        times.append(time.perf_counter() - start)
    return float(np.median(times) * 1000.0)


def choice_lines(entries: list[CatalogEntry], variant: str, budget_ms: float) -> list[str]:
    """What Ronda would run with these timings and the configured variant and budget."""
    timings = {e.name: e.median_ms for e in entries if e.median_ms is not None}
    if len(timings) != len(entries) or not entries:
        return ["choice: not every variant could be timed, so none is chosen"]
    try:
        selection = select([e.spec for e in entries], timings, variant, budget_ms)
    except ModelError as error:
        return [f"choice: {error}"]
    return [
        f"runs here: {selection.normal.name} ({selection.reason})",
        "governor ladder: " + " -> ".join(s.name for s in selection.ladder) + " -> paused",
    ]
