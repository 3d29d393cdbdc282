"""Every bad input of ``tests/bad_input_cases.py``: one line on stderr, the documented exit code,
no traceback, no hang.

In-process through ``camera.cli.main`` for every case that cannot block a test process (fast:
no interpreter start, the config cases take milliseconds); as real ``ronda`` subprocesses for
the cases that need one (FIFOs, devices, another user, the environment of a process) and for a
sample of the others, since a subprocess is what a user sees.
"""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
import signal
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from camera import cli
from tests.bad_input_cases import Case, Setup, Workspace, all_cases
from tests.cli_helpers import REPO
from tests.conftest import CANARY_PASSWORD

CASES = all_cases()
IN_PROCESS = [case for case in CASES if not case.process]
# What users see, for a sample of every kind besides the cases that need a process.
SAMPLE = {
    "config:random-bytes",
    "config:utf16-bom",
    "config:billion-laughs",
    "value:mqtt-section-error-hides-password",
    "value:governor.heat.hot.fps=3",
    "cli:flush-timeout-nan",
    "cli:limit-zero",
    "video:all-images-corrupt",
    "video:random-bytes",
    "state:db-overwritten-pages-replay",
    "state:db-random-bytes-events",
    "state:thumbnails-is-a-file-replay",
    "model:model-file-flipped-byte",
    "model:model-file-garbage-with-its-hash",
    "state:db-overwritten-pages-flush",
    "config:tls-key-mismatch",
}
SUBPROCESS = [case for case in CASES if case.process or case.id in SAMPLE]
HARMLESS = ("INFO: Created TensorFlow Lite XNNPACK delegate",)  # the TFLite runtime's own line
CASE_TIMEOUT_S = 60


def test_the_table_is_large_and_covers_every_kind() -> None:
    kinds = {case.kind for case in CASES}
    assert {"config", "value", "cli", "env", "video", "state", "model"} <= kinds
    assert len(CASES) >= 100
    assert {case.id for case in CASES} >= SAMPLE


# -- in-process ----------------------------------------------------------------------------------
@pytest.fixture
def workspace(tmp_path: Path) -> Iterator[Workspace]:
    """The case's directory; what ``cli.main`` changes in the process is put back after it
    (signal handlers, the ``camera`` logger's level), so later tests see the process as it was."""
    handlers = {s: signal.getsignal(s) for s in (signal.SIGINT, signal.SIGTERM)}
    camera_logger = logging.getLogger("camera")
    level = camera_logger.level
    yield Workspace(tmp_path)
    camera_logger.setLevel(level)
    for number, handler in handlers.items():
        signal.signal(number, handler)
    _undo_attributes(tmp_path)


@pytest.mark.timeout(CASE_TIMEOUT_S)
@pytest.mark.parametrize("case", IN_PROCESS, ids=lambda case: case.id)
def test_in_process(
    case: Case,
    workspace: Workspace,
    capsys: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    setup = case.build(workspace)
    for name, value in setup.env.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("RONDA_CONFIG", raising=False)
    try:
        code = cli.main(setup.argv)
    except SystemExit as exit_:  # argparse
        code = int(exit_.code or 0)
    out, err = capsys.readouterr()
    tracebacks = [r for r in caplog.records if r.exc_info]
    assert not tracebacks, f"{case.id}: a traceback was logged: {tracebacks[0].getMessage()}"
    check(case, code, out, err)


# -- subprocesses --------------------------------------------------------------------------------
@pytest.fixture
def reachable_tmp() -> Iterator[Path]:
    """A scratch directory ``nobody`` can reach: pytest keeps its own base at mode 0700 (and
    resets it whenever another pytest starts), so the cases run outside it."""
    folder = Path(tempfile.mkdtemp(prefix="ronda-bad-input-"))
    folder.chmod(0o755)
    yield folder
    _undo_attributes(folder)
    shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture
def nobody_can_run_ronda() -> Iterator[None]:
    """The cases run as ``nobody`` import Ronda from this checkout and its venv, so ``nobody``
    must be able to pass through every folder above them.  A checkout in ``mktemp -d`` (mode
    0700, as CI makes it) is not; give those folders search permission (not read: nothing
    can be listed) for the test, and put their modes back after it."""
    changed: list[tuple[Path, int]] = []
    for folder in dict.fromkeys([REPO, *REPO.parents, Path(sys.prefix), *Path(sys.prefix).parents]):
        mode = folder.stat().st_mode
        if mode & 0o001 == 0 and os.geteuid() == folder.stat().st_uid:
            folder.chmod(mode | 0o001)
            changed.append((folder, mode))
    try:
        yield
    finally:
        for folder, mode in changed:
            folder.chmod(mode)


@pytest.mark.timeout(600)
@pytest.mark.usefixtures("nobody_can_run_ronda")
def test_as_real_processes(reachable_tmp: Path) -> None:
    """The cases in parallel (two at a time per core), each as ``python -m camera``."""
    with ThreadPoolExecutor(max_workers=4) as pool:
        outcomes = list(pool.map(lambda case: _run_process(case, reachable_tmp), SUBPROCESS))
    failures = [problem for problem in outcomes if problem is not None]
    assert not failures, "\n".join(failures)


def _run_process(case: Case, base: Path) -> str | None:
    root = base / case.id.replace("/", "_").replace(":", "_")[:80]
    root.mkdir()
    try:
        setup = case.build(Workspace(root))
        return _check_process(case, setup, root)
    except AssertionError as error:
        return f"{case.id}: {error}"
    finally:
        _undo_attributes(root)


def _check_process(case: Case, setup: Setup, root: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k not in ("RONDA_CONFIG", "STATE_DIRECTORY")}
    env.update(setup.env)
    command = [sys.executable, "-m", "camera", *setup.argv]
    if setup.as_nobody:
        if os.geteuid() != 0 or shutil.which("setpriv") is None:
            return  # another user needs root and setpriv; the in-process twin still runs
        command = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "--", *command]
    try:
        done = subprocess.run(
            command, capture_output=True, text=True, timeout=CASE_TIMEOUT_S, cwd=REPO, env=env
        )
    except subprocess.TimeoutExpired:
        raise AssertionError(f"hung for more than {CASE_TIMEOUT_S} s") from None
    check(case, done.returncode, done.stdout, done.stderr)


# -- the verdict ---------------------------------------------------------------------------------
def check(case: Case, code: int, out: str, err: str) -> None:
    assert "Traceback" not in err, f"{case.id}: traceback:\n{err}"
    assert CANARY_PASSWORD not in out + err, f"{case.id}: the password was printed"
    assert code in case.codes(), f"{case.id}: exit code {code}, expected {case.code}:\n{err}"
    lines = [line for line in err.splitlines() if line.strip() and not line.startswith(HARMLESS)]
    if code == 3:  # finished, with what happened logged on the way; the last line says why
        assert lines and lines[-1].startswith("ronda:") and "still queued" in lines[-1], err
        return
    if code == 0:
        return
    assert len(lines) == 1, f"{case.id}: expected one line on stderr, got:\n{err}"
    assert lines[0].startswith("ronda:"), f"{case.id}: {lines[0]}"
    assert case.says.lower() in lines[0].lower(), f"{case.id}: {lines[0]!r} lacks {case.says!r}"


def _undo_attributes(root: Path) -> None:
    """Immutable files would outlive the test's temporary directory."""
    if shutil.which("chattr"):
        with contextlib.suppress(OSError):
            subprocess.run(["chattr", "-R", "-i", str(root)], capture_output=True, check=False)
