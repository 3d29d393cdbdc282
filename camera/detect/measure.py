"""Time one model file in this process: the child that ``camera.detect.timing`` starts.

``python -m camera.detect.measure MODEL SIZE THREADS`` prints the median milliseconds of one
inference; everything this process loaded goes away with it (see ``measure_latency``).
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np

from camera.detect.errors import ModelError
from camera.detect.runtime import load_model

WARMUP_RUNS = 1
TIMED_RUNS = 5


def time_model(path: Path, size: int, threads: int) -> float:
    """Median of ``TIMED_RUNS`` inferences of a fixed noise image (content does not change the
    cost of these models), after ``WARMUP_RUNS`` untimed ones that let XNNPACK pack weights."""
    model = load_model(path, threads)
    pixels = np.random.default_rng(0).integers(0, 256, (size, size, 3), dtype=np.uint8)
    for _ in range(WARMUP_RUNS):
        model.run(pixels)
    times = []
    for _ in range(TIMED_RUNS):
        started = time.perf_counter()
        model.run(pixels)
        times.append(time.perf_counter() - started)
    return float(np.median(times) * 1000.0)


def main() -> None:
    path, size, threads = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    try:
        latency = time_model(Path(path), size, threads)
    except ModelError as error:
        sys.exit(str(error))
    sys.stdout.write(f"{latency:.3f}\n")  # the parent reads the last line


if __name__ == "__main__":
    main()
