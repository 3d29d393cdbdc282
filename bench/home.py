"""What ``ronda home`` costs with ten cameras publishing a busy hour, at 20x speed.

A real mosquitto on a free loopback port, a real ``ronda home`` process (its own state
directory, its persistent session), and one logged-in viewer fetching the page every
``--refresh`` seconds, as the page's own script does.  Ten synthetic cameras publish what a
camera publishes: retained availability, stats every minute, and per event a start, two updates
and an end, each with its thumbnail (a real JPEG of ``--thumb-kb``), plus the retained latest
snapshot of the label.  A *busy* hour is ``--events`` events per camera (30 by default: a
visitor every two minutes at every door, all day long no home has), published at ``--speed``
(20) times real time; ``--minutes`` of that hour are played (20 by default: 60 s of wall time,
the same rate as the whole hour).

Baseline, in the same run: a bare paho subscriber process on the same topics that only counts
messages, the least any consumer of this stream pays.  Prints the home's CPU (% of one core over
the publishing window), its peak RSS (VmHWM), and the ratio of its CPU to the baseline's.
Targets (issue 23): <= 5 % of one core, <= 80 MB resident.

Run from the repo root: ``.venv/bin/python bench/home.py [--minutes 60]``.
"""

from __future__ import annotations

import argparse
import http.cookiejar
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import urllib.request
from pathlib import Path

import cv2
import numpy as np
import paho.mqtt.client as paho
from paho.mqtt.enums import CallbackAPIVersion

PASSWORD = "bench-home-password"
COUNTER = """
import sys, paho.mqtt.client as paho
from paho.mqtt.enums import CallbackAPIVersion
count = 0
def on_message(client, userdata, message):
    global count
    count += 1
client = paho.Client(callback_api_version=CallbackAPIVersion.VERSION2, client_id="bench-count")
client.on_connect = lambda c, *a: c.subscribe([("ronda/+/#", 1)])
client.on_message = on_message
client.connect("127.0.0.1", int(sys.argv[1]))
client.loop_forever()
"""


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def cpu_s(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


def thumbnail(kb: int) -> bytes:
    """A JPEG of about ``kb`` KB (noise compresses badly, so the size is controllable)."""
    side = 120
    while True:
        image = np.random.default_rng(side).integers(0, 255, (side, side, 3), dtype=np.uint8)
        ok, data = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, 70])
        assert ok
        if len(data) >= kb * 1024 or side > 2000:
            return data.tobytes()
        side += 40


def wait_port(port: int, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    raise SystemExit(f"nothing listens on {port} after {timeout} s")


class Viewer:
    """A logged-in browser tab: the page every ``refresh`` seconds, its new pictures once."""

    def __init__(self, url: str) -> None:
        self.url = url
        jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
        page = self.opener.open(f"{url}/login").read().decode()
        token = re.search(r'name="login_token" value="([^"]+)"', page)
        assert token
        form = {"login_token": token[1], "password": PASSWORD, "next": "/"}
        self.opener.open(f"{url}/login", urllib.parse.urlencode(form).encode()).read()
        self.seen: set[str] = set()
        self.pages = 0

    def look(self) -> None:
        html = self.opener.open(f"{self.url}/").read().decode()
        self.pages += 1
        for src in re.findall(r'src="(/(?:timeline|cameras)/[^"]+)"', html):
            key = src.split("?")[0]
            if key not in self.seen:
                self.seen.add(key)
                self.opener.open(f"{self.url}{src}").read()


def publish_hour(port: int, args: argparse.Namespace, jpeg: bytes) -> int:
    """The cameras' traffic for ``args.minutes`` simulated minutes; returns messages sent."""
    client = paho.Client(callback_api_version=CallbackAPIVersion.VERSION2, client_id="cams")
    client.max_inflight_messages_set(100)
    client.connect("127.0.0.1", port)
    client.loop_start()
    cameras = [f"cam{i:02d}" for i in range(args.cameras)]
    schedule: list[tuple[float, str, bytes, bool]] = []  # (simulated s, topic, payload, retain)
    period = 3600 / args.events
    for index, name in enumerate(cameras):
        prefix = f"ronda/{name}"
        schedule.append((0.0, f"{prefix}/availability", b"online", True))
        for minute in range(args.minutes):
            stats = {"camera": name, "governor_level": "normal", "page": f"http://{name}:8080"}
            schedule.append(
                (minute * 60.0 + index, f"{prefix}/stats", json.dumps(stats).encode(), True)
            )
        start = index * period / len(cameras)  # the cameras' visitors do not come in step
        number = 0
        while start < args.minutes * 60:
            event_id = f"{name}-{number}"
            label = "person" if number % 3 else "pet"
            for step, kind in enumerate(("start", "update", "update", "end")):
                at = start + step * 8.0
                update = {
                    "id": event_id,
                    "camera": name,
                    "label": label,
                    "type": kind,
                    "sequence": step + 1,
                    "score": 0.8,
                    "start_time": start,
                }
                schedule.append((at, f"{prefix}/events", json.dumps(update).encode(), False))
                schedule.append((at, f"{prefix}/events/{event_id}/thumbnail", jpeg, False))
                schedule.append((at, f"{prefix}/{label}/snapshot", jpeg, True))
            start += period
            number += 1
    schedule.sort(key=lambda item: item[0])
    began = time.monotonic()
    for at, topic, payload, retain in schedule:
        delay = began + at / args.speed - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        client.publish(topic, payload, qos=1, retain=retain)
    time.sleep(1.0)
    client.loop_stop()
    client.disconnect()
    return len(schedule)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cameras", type=int, default=10)
    parser.add_argument("--events", type=int, default=30, help="events per camera in the hour")
    parser.add_argument("--minutes", type=int, default=20, help="simulated minutes to play")
    parser.add_argument("--speed", type=float, default=20.0)
    parser.add_argument("--thumb-kb", type=int, default=30)
    parser.add_argument("--refresh", type=float, default=5.0, help="viewer refresh, seconds")
    args = parser.parse_args()
    mosquitto = shutil.which("mosquitto") or "/usr/sbin/mosquitto"
    with tempfile.TemporaryDirectory(prefix="ronda-bench-home-") as folder:
        root = Path(folder)
        broker_port, web_port = free_port(), free_port()
        (root / "mosquitto.conf").write_text(
            f"listener {broker_port} 127.0.0.1\nallow_anonymous true\npersistence false\n"
            "max_queued_messages 0\n" + ("user root\n" if os.geteuid() == 0 else "")
        )
        config = root / "home.yaml"
        config.write_text(
            f"store:\n  path: {root / 'state'}\nmqtt:\n  host: 127.0.0.1\n  port: {broker_port}\n"
            f"web:\n  host: 127.0.0.1\n  port: {web_port}\nlogging:\n  level: WARNING\n"
        )
        command = [sys.executable, "-m", "camera", "home", "--config", str(config)]
        subprocess.run(
            [*command[:4], "passwd", "--stdin", "--config", str(config)],
            input=PASSWORD + "\n",
            text=True,
            check=True,
            capture_output=True,
        )
        broker = subprocess.Popen(
            [mosquitto, "-c", str(root / "mosquitto.conf")],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        wait_port(broker_port)
        home = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        counter = subprocess.Popen([sys.executable, "-c", COUNTER, str(broker_port)])
        try:
            wait_port(web_port)
            time.sleep(1.0)  # subscriptions made
            viewer = Viewer(f"http://127.0.0.1:{web_port}")
            stop = threading.Event()

            def watch() -> None:
                while not stop.wait(args.refresh):
                    viewer.look()

            watcher = threading.Thread(target=watch, daemon=True)
            jpeg = thumbnail(args.thumb_kb)
            home_before, base_before = cpu_s(home.pid), cpu_s(counter.pid)
            began = time.monotonic()
            watcher.start()
            sent = publish_hour(broker_port, args, jpeg)
            stop.set()
            watcher.join()
            wall = time.monotonic() - began
            home_cpu = (cpu_s(home.pid) - home_before) / wall * 100
            base_cpu = (cpu_s(counter.pid) - base_before) / wall * 100
            rss = peak_rss_mb(home.pid)
            stored = viewer.opener.open(f"http://127.0.0.1:{web_port}/api/home").read()
            events = len(json.loads(stored)["events"])
        finally:
            for process in (counter, home, broker):
                process.terminate()
                process.wait(10)
    print(
        f"{args.cameras} cameras, {args.events} events/camera/hour, {args.minutes} simulated min "
        f"at {args.speed:g}x: {sent} messages ({sent / wall:.1f}/s, thumbnails "
        f"{len(jpeg) / 1024:.0f} KB) in {wall:.1f} s; viewer pages {viewer.pages}, "
        f"timeline shows {events}"
    )
    print(
        f"ronda home: CPU {home_cpu:.2f} % of one core (target <= 5), peak RSS {rss:.1f} MB "
        "(target <= 80)"
    )
    print(
        f"baseline (bare subscriber counting the same messages): CPU {base_cpu:.2f} %; "
        f"home/baseline {home_cpu / base_cpu if base_cpu else float('inf'):.2f}x"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
