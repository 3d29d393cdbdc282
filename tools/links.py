"""The project's public links, all derived from one canonical URL: ``[project.urls] Source`` in
``pyproject.toml`` (issue 19: a link typed by hand in five places went stale in all five).

``python -m tools.links`` rewrites every derived link in the README, the manual and the
blueprints after the URL changes; ``--check`` (run by the tests) fails while one is stale.  The
camera's own web page serves the blueprints too (``camera/web/blueprints.py``): that import
needs no public host at all.
"""

from __future__ import annotations

import argparse
import importlib.metadata
import re
import sys
import tomllib
from pathlib import Path
from urllib.parse import quote

ROOT = Path(__file__).resolve().parent.parent
BLUEPRINT_FOLDER = "config/homeassistant"
HA_IMPORT = "https://my.home-assistant.io/redirect/blueprint_import/?blueprint_url="
# A blueprint's public address in any GitHub repository, plain or URL-encoded (the badge).
PUBLIC_BLUEPRINT = re.compile(
    r"https://github\.com/[\w.-]+/[\w.-]+/blob/main/config/homeassistant/(?P<file>[\w.-]+\.yaml)"
)
ENCODED_BLUEPRINT = re.compile(
    r"https%3A%2F%2Fgithub\.com%2F[\w.-]+%2F[\w.-]+%2Fblob%2Fmain%2Fconfig%2Fhomeassistant%2F"
    r"(?P<file>[\w.-]+\.yaml)"
)
DERIVED_IN = ("README.md", "docs/*.md", f"{BLUEPRINT_FOLDER}/*.yaml")


def source_url() -> str:
    """``[project.urls] Source``: from ``pyproject.toml`` in a checkout, else the installed
    package's metadata (``Project-URL``)."""
    pyproject = ROOT / "pyproject.toml"
    if pyproject.is_file():
        return str(
            tomllib.loads(pyproject.read_text(encoding="utf-8"))["project"]["urls"]["Source"]
        )
    for entry in importlib.metadata.metadata("ronda").get_all("Project-URL") or []:
        label, _, url = entry.partition(",")
        if label.strip().lower() == "source":
            return url.strip()
    raise LookupError("no Source URL in Ronda's metadata")


def blueprint_url(file: str, source: str | None = None) -> str:
    """Where a blueprint is published: the file on the main branch of the source repository."""
    return f"{(source or source_url()).rstrip('/')}/blob/main/{BLUEPRINT_FOLDER}/{file}"


def import_badge_target(file: str, source: str | None = None) -> str:
    """The my.home-assistant.io link behind the "Import the blueprint" badge."""
    return HA_IMPORT + quote(blueprint_url(file, source), safe="")


def with_derived_links(text: str, source: str) -> str:
    text = PUBLIC_BLUEPRINT.sub(lambda m: blueprint_url(m["file"], source), text)
    return ENCODED_BLUEPRINT.sub(lambda m: quote(blueprint_url(m["file"], source), safe=""), text)


def stale_files(root: Path = ROOT, source: str | None = None) -> dict[Path, str]:
    """Files whose derived links differ from the canonical URL, with their corrected text."""
    source = source or source_url()
    stale = {}
    for pattern in DERIVED_IN:
        for path in sorted(root.glob(pattern)):
            text = path.read_text(encoding="utf-8")
            fixed = with_derived_links(text, source)
            if fixed != text:
                stale[path] = fixed
    return stale


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.links", description=__doc__)
    parser.add_argument("--check", action="store_true", help="only report stale files")
    args = parser.parse_args(argv)
    stale = stale_files()
    for path, fixed in stale.items():
        if not args.check:
            path.write_text(fixed, encoding="utf-8")
        print(f"{'stale' if args.check else 'rewrote'}: {path.relative_to(ROOT)}")  # noqa: T201
    return 1 if args.check and stale else 0


if __name__ == "__main__":
    sys.exit(main())
