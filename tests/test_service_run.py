"""``ronda run`` as systemd runs it: a real subprocess with ``$NOTIFY_SOCKET`` and a watchdog,
real footage replayed in real time as the camera, a real mosquitto as the broker.

SIGTERM while a person is in view must say STOPPING at once, end the open event and publish
that end to the broker, and exit 0 well inside the unit's ``TimeoutStopSec``.
"""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from tests.broker import Mosquitto, Subscriber
from tests.cli_helpers import REPO, ronda, write_config
from tests.conftest import footage
from tests.test_service_support import NotifyListener
from tests.test_service_unit import UNIT, directives

CLIP = "clips/intel_one-by-one-person-detection.mp4"  # a person walks in at 6 s
log_timing = logging.getLogger(__name__)


def test_sigterm_ends_open_events_on_the_broker_and_exits_0(
    tmp_path: Path, broker: Mosquitto, subscriber: Subscriber
) -> None:
    config = write_config(
        tmp_path,
        source={"kind": "file", "uri": str(footage(CLIP).resolve())},
        mqtt={"host": broker.host, "port": broker.port, "stats_interval_s": 1},
        web={"enabled": False},  # the page would take port 8080, shared by every test run
    )
    listener = NotifyListener(abstract=False)
    env = {**os.environ, **listener.env(watchdog_s=2.0), "PYTHONUNBUFFERED": "1"}
    output_file = (tmp_path / "ronda.log").open("w")
    started = time.monotonic()
    process = subprocess.Popen(
        [sys.executable, "-m", "camera", "run", "--config", str(config)],
        cwd=REPO,
        env=env,
        stdout=output_file,
        stderr=subprocess.STDOUT,
    )
    try:
        listener.wait_for("READY", "1", timeout=90)
        ready_after = time.monotonic() - started
        assert subscriber.wait_for(lambda s: any(e["type"] == "start" for e in s.events()), 60)
        start = next(e for e in subscriber.events() if e["type"] == "start")
        assert listener.with_field("WATCHDOG", "1"), "no watchdog ping while frames flow"
        assert "fps, governor" in listener.with_field("STATUS")[-1].fields["STATUS"]

        process.send_signal(signal.SIGTERM)
        signalled = time.monotonic()
        code = process.wait(timeout=60)
        stop_seconds = time.monotonic() - signalled
    finally:
        if process.poll() is None:
            process.kill()
        output_file.close()
        listener.close()
    output = (tmp_path / "ronda.log").read_text()
    assert code == 0, output
    stopping = listener.wait_for("STOPPING", "1", timeout=1)
    assert stopping.at - signalled < 1.0  # said at once, before the events are flushed
    ends = [e for e in subscriber.events() if e["type"] == "end" and e["id"] == start["id"]]
    assert len(ends) == 1, subscriber.events()
    # Well inside the unit's stop timeout (SIGKILL after that would lose the flush).
    timeout_stop = int(directives(UNIT.read_text())["Service"]["TimeoutStopSec"][0])
    assert stop_seconds < timeout_stop / 2, stop_seconds
    log_timing.info(
        "READY %.1f s after exec; stopped %.2f s after SIGTERM", ready_after, stop_seconds
    )

    # `ronda status` afterwards: the local state and the retained stats on the broker.
    status = ronda("status", "--config", config, timeout=60)
    assert status.returncode == 0, status.stderr
    assert f"{start['id']}" in status.stdout and "outbox 0 queued" in status.stdout
    assert f"stats     {broker.host}:{broker.port}:" in status.stdout and "fps" in status.stdout
