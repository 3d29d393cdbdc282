"""``ronda models``: the model variants, their checksums and their latency on this machine."""

from __future__ import annotations

import argparse
import sys

from camera.arguments import AddCommand, count
from camera.cli.startup import load

EXIT_OK, EXIT_FAILURE = 0, 1


def register(add: AddCommand) -> None:
    """Called by ``camera.cli.ronda`` with its ``add(name, handler, help)``."""
    models = add(
        "models", cmd_models, "List the model variants with size, checksum and latency here."
    )
    models.add_argument(
        "--runs", type=count(1, 1000), default=20, help="timed inferences per variant"
    )


def cmd_models(args: argparse.Namespace) -> int:
    from camera.detect.catalog import catalog, choice_lines
    from camera.detect.report import models_lines

    config, _ = load(args)
    detector = config.detector
    for line in models_lines(detector, config.source.pi_camera()):
        print(line)
    entries = catalog(detector.manifest, runs=args.runs, threads=detector.threads)
    print(
        f"{'variant':<24} {'precision':<9} {'input':>5} {'size':>8}  {'sha256':<6} "
        f"{'backend':<15} latency"
    )
    failed = False
    for entry in entries:
        latency = f"{entry.median_ms:.1f} ms" if entry.median_ms is not None else "-"
        check = "ok" if entry.sha256_ok else "BAD"
        print(
            f"{entry.name:<24} {entry.precision:<9} {entry.input_size:>5} "
            f"{entry.size / 1e6:>5.1f} MB  {check:<6} {entry.backend or '-':<15} {latency}"
        )
        if entry.error:
            failed = True
            print(f"  {entry.error}", file=sys.stderr)
    print(f"latency: median of {args.runs} runs, {detector.threads} thread(s), one crop")
    for line in choice_lines(entries, detector.variant, detector.budget_ms):
        print(line)
    return EXIT_FAILURE if failed else EXIT_OK
