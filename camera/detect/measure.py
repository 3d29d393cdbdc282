"""Time one model file in this process: the child that ``camera.detect.timing`` starts.

``python -m camera.detect.measure MODEL SIZE THREADS`` prints the sustained milliseconds per
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
MIN_WINDOW_S = 1.0
"""Inferences run back to back for at least this long.  Under a CPU quota (systemd's
``CPUQuota=``, a container's cgroup: 25 ms of CPU every 100 ms, say) one short inference can
run inside a burst at full speed; the mean over a window of many quota periods includes the
time the process is held back, which is what the frame loop will live with."""


def time_model(path: Path, size: int, threads: int) -> float:
    """Sustained milliseconds per inference of a fixed noise image (content does not change the
    cost of these models): at least ``TIMED_RUNS`` inferences and ``MIN_WINDOW_S`` of wall time,
    after ``WARMUP_RUNS`` untimed ones that let XNNPACK pack weights."""
    model = load_model(path, threads)
    pixels = np.random.default_rng(0).integers(0, 256, (size, size, 3), dtype=np.uint8)
    for _ in range(WARMUP_RUNS):
        model.run(pixels)
    runs = 0
    started = time.perf_counter()
    while runs < TIMED_RUNS or time.perf_counter() - started < MIN_WINDOW_S:
        model.run(pixels)
        runs += 1
    return (time.perf_counter() - started) / runs * 1000.0


def main() -> None:
    path, size, threads = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    try:
        latency = time_model(Path(path), size, threads)
    except ModelError as error:
        sys.exit(str(error))
    sys.stdout.write(f"{latency:.3f}\n")  # the parent reads the last line


if __name__ == "__main__":
    main()
