"""What the web page costs the frame loop, and what it costs at rest.

One process holds a real ``Runtime`` (detector, store; MQTT and governor off) with the web page
attached exactly as ``ronda run`` attaches it, and replays decoded frames of the indoor clip
(people walking in and out) through the pipeline as fast as the CPU allows, in interleaved runs:

* **none**: nobody watching (the baseline: the live hook returns after one integer test);
* **one** / **three**: that many live viewers, real ``curl`` processes reading the MJPEG stream
  with a logged-in session cookie, at ``--live-fps`` (5, the most the config allows).

Prints frames/s per run, the median of each, the ratios against "none", the web thread's CPU
while nobody watches (the idle server, % of one core), and the process RSS before and after the
page started.  Run from the repo root: ``.venv/bin/python bench/web.py [--runs 3]``.
"""

from __future__ import annotations

import argparse
import http.client
import os
import re
import statistics
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlencode

import cv2

from camera.app import RunOptions, Runtime
from camera.config import parse_config
from camera.pipeline import FrameOutcome
from camera.types import Frame

CLIP = Path("tests/footage/clips/intel_one-by-one-person-detection.mp4")
PASSWORD = "bench-password"


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def thread_cpu_s(native_id: int) -> float:
    """User + system CPU seconds of one thread of this process."""
    fields = Path(f"/proc/self/task/{native_id}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def decoded_frames(first: int, count: int) -> list[Frame]:
    capture = cv2.VideoCapture(str(CLIP))
    frames: list[Frame] = []
    index = 0
    while len(frames) < count:
        ok, image = capture.read()
        if not ok:
            break
        if index >= first:
            frames.append(Frame(image=image, timestamp=index / 10.0, index=index))
        index += 1
    capture.release()
    return frames


def session_cookie(port: int) -> str:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    connection.request("GET", "/login")
    response = connection.getresponse()
    page = response.read()
    token = re.search(rb'name="login_token" value="([^"]+)"', page)
    assert token
    login_cookie = response.headers["Set-Cookie"].split(";", 1)[0]
    body = urlencode({"login_token": token[1].decode(), "password": PASSWORD, "next": "/"})
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    connection.request(
        "POST",
        "/login",
        body,
        {"Content-Type": "application/x-www-form-urlencoded", "Cookie": login_cookie},
    )
    reply = connection.getresponse()
    reply.read()
    cookies = [c.split(";", 1)[0] for c in reply.headers.get_all("Set-Cookie") or []]
    return next(c for c in cookies if c.startswith("ronda_session="))


def run_once(runtime: Runtime, frames: list[Frame]) -> tuple[float, float, float]:
    """Frames/s (wall), CPU ms per frame of the loop's thread, and of the whole process (the
    loop, TFLite's threads, the web server and its worker): the CPU numbers do not move when
    other programs load the machine, the wall clock does."""
    pipeline = runtime.pipeline
    pipeline.begin_stream("bench")
    started, thread0, process0 = time.perf_counter(), time.thread_time(), time.process_time()
    for frame in frames:
        pipeline.process(frame)
    wall = time.perf_counter() - started
    thread_ms = 1000 * (time.thread_time() - thread0) / len(frames)
    process_ms = 1000 * (time.process_time() - process0) / len(frames)
    pipeline.end_stream()
    return len(frames) / wall, thread_ms, process_ms


def start_viewers(count: int, port: int, cookie: str) -> list[subprocess.Popen]:
    url = f"http://127.0.0.1:{port}/live.mjpg?overlay=1"
    return [
        subprocess.Popen(
            ["curl", "-s", "-o", "/dev/null", "-H", f"Cookie: {cookie}", url],
        )
        for _ in range(count)
    ]


def wait_viewers(watching: Callable[[], int], count: int) -> None:
    deadline = time.monotonic() + 10
    while watching() < count and time.monotonic() < deadline:
        time.sleep(0.05)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=3, help="interleaved rounds (default 3)")
    parser.add_argument("--frames", type=int, default=200, help="frames per run (default 200)")
    parser.add_argument("--first", type=int, default=40, help="first frame of the clip")
    parser.add_argument("--live-fps", type=float, default=5.0)
    args = parser.parse_args()

    state = Path(tempfile.mkdtemp(prefix="ronda-bench-web-"))
    port = 18000 + os.getpid() % 1000
    config = parse_config(
        {
            "store": {"path": str(state)},
            "mqtt": {"enabled": False},
            "governor": {"enabled": False},
            "web": {"host": "127.0.0.1", "port": port, "live_fps": args.live_fps},
        }
    )
    runtime = Runtime(config, RunOptions(use_mqtt=False, use_governor=False))
    before = rss_mb()  # the camera as it runs, before anything of the page is imported
    from camera.site.auth import PasswordFile
    from camera.web.service import attach_web

    PasswordFile(state).set(PASSWORD)
    server = attach_web(runtime, None)
    assert server is not None and server.context.live is not None
    feed = server.context.live
    # Time the live hook itself inside the loop: the part of the cost no other process adds.
    hook_seconds = [0.0]

    def timed_hook(outcome: FrameOutcome) -> None:
        started = time.thread_time()
        feed(outcome)
        hook_seconds[0] += time.thread_time() - started

    hooks = runtime.pipeline.hooks
    hooks[hooks.index(feed)] = timed_hook
    after_start = rss_mb()
    cookie = session_cookie(port)
    frames = decoded_frames(args.first, args.frames)
    with_frames = rss_mb()
    web_thread = next(t for t in threading.enumerate() if t.name == "ronda-web")
    assert web_thread.native_id is not None

    run_once(runtime, frames[:30])  # warm-up: model, caches
    names = ("none", "one", "three")
    results: dict[str, list[float]] = {name: [] for name in names}
    loop_ms: dict[str, list[float]] = {name: [] for name in names}
    process_ms: dict[str, list[float]] = {name: [] for name in names}
    hook_share: dict[str, list[float]] = {name: [] for name in names}
    idle_cpu: list[float] = []
    for round_number in range(args.runs):
        for name, count in (("none", 0), ("one", 1), ("three", 3)):
            viewers = start_viewers(count, port, cookie)
            wait_viewers(lambda: feed.viewers, count)
            cpu0, wall0 = thread_cpu_s(web_thread.native_id), time.perf_counter()
            hook_seconds[0] = 0.0
            fps, thread_ms, all_ms = run_once(runtime, frames)
            hook_share[name].append(100 * hook_seconds[0] * 1000 / len(frames) / thread_ms)
            loop_ms[name].append(thread_ms)
            process_ms[name].append(all_ms)
            if count == 0:
                cpu = thread_cpu_s(web_thread.native_id) - cpu0
                idle_cpu.append(100 * cpu / (time.perf_counter() - wall0))
            for viewer in viewers:
                viewer.terminate()
                viewer.wait()
            results[name].append(fps)
            print(
                f"round {round_number + 1} {name:<5} {fps:6.1f} frames/s, loop {thread_ms:.2f} "
                f"ms CPU/frame, process {all_ms:.2f} ms CPU/frame",
                flush=True,
            )
    after_viewers = rss_mb()
    server.stop()
    runtime.close()

    def med(values: dict[str, list[float]], name: str) -> float:
        return statistics.median(values[name])

    print(f"\nload: {os.getloadavg()[0]:.2f} (1 min), {os.cpu_count()} cores; medians")
    print(
        f"{'viewers':<8} {'frames/s':>9} {'ratio':>6} {'loop ms/frame':>14} {'ratio':>6} "
        f"{'process ms/frame':>17} {'ratio':>6} {'live hook % of loop CPU':>24}"
    )
    for name in names:
        print(
            f"{name:<8} {med(results, name):9.1f} {med(results, name) / med(results, 'none'):6.3f}"
            f" {med(loop_ms, name):14.2f} {med(loop_ms, 'none') / med(loop_ms, name):6.3f}"
            f" {med(process_ms, name):17.2f}"
            f" {med(process_ms, 'none') / med(process_ms, name):6.3f}"
            f" {med(hook_share, name):24.3f}"
        )
    print("ratios: throughput relative to nobody watching (CPU ratios: none's ms / this ms)")
    print(f"web thread CPU while nobody watches: {statistics.median(idle_cpu):.2f} % of one core")
    print(
        f"RSS: {before:.0f} MB camera without the page, {after_start:.0f} MB serving it "
        f"(+{after_start - before:.1f} MB); +{after_viewers - with_frames:.1f} MB after the "
        f"viewer runs (the bench's {len(frames)} decoded frames not counted)"
    )


if __name__ == "__main__":
    main()
