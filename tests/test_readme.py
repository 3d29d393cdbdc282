"""The README's promises, checked: the demo does what the quick start shows, every command it
lists exists, every page it links to is there."""

from __future__ import annotations

import re
from pathlib import Path

from tests.cli_helpers import REPO, ronda

README = (REPO / "README.md").read_text(encoding="utf-8")


def test_demo_prints_a_person_then_a_cat_and_stores_them(tmp_path: Path) -> None:
    demo = ronda("demo", "--state-dir", tmp_path, timeout=300)
    assert demo.returncode == 0, demo.stderr
    alerts = [line.split() for line in demo.stdout.splitlines() if line.startswith("  t=")]
    starts = [(words[2], words[3]) for words in alerts if words[2] == "start"]
    assert starts == [("start", "person"), ("start", "pet")], demo.stdout
    assert "(cat)" in demo.stdout and "Traceback" not in demo.stderr
    events = ronda("events", "--state-dir", tmp_path)
    assert events.returncode == 0, events.stderr
    assert sorted(line.split()[1] for line in events.stdout.splitlines()) == ["person", "pet"]


def test_every_command_in_the_readme_exists() -> None:
    listed = set(re.findall(r"^\| `ronda (\w+)", README, flags=re.M))
    assert {"run", "replay", "demo", "events", "doctor"} <= listed
    for command in sorted(listed):
        result = ronda(command, "--help")
        assert result.returncode == 0, (command, result.stderr)


def test_links_in_the_readme_point_at_files_in_the_repository() -> None:
    targets = re.findall(r"\]\(([^)#]+)(?:#[^)]*)?\)", README)
    local = [t for t in targets if not t.startswith(("http://", "https://"))]
    assert local, "the README links to the manual"
    missing = [t for t in local if not (REPO / t).exists()]
    assert not missing, missing
    assert len(README.splitlines()) <= 300, "the README is the short tour; details go to docs/"
