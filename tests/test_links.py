"""Every public link derives from ``[project.urls] Source`` (issue 19): the README's import
badge, the manual, and the blueprints' ``source_url``."""

from __future__ import annotations

from urllib.parse import unquote

from tools.links import ROOT, import_badge_target, source_url, stale_files


def test_no_derived_link_is_stale() -> None:
    stale = [str(path.relative_to(ROOT)) for path in stale_files()]
    assert stale == [], "run: python -m tools.links"


def test_a_new_canonical_url_reaches_every_place_a_link_is_shown() -> None:
    moved = stale_files(source="https://example.org/someone/ronda-fork")
    names = {str(path.relative_to(ROOT)) for path in moved}
    assert {"README.md", "docs/phone-alerts.md", "config/homeassistant/ronda_notify.yaml"} <= names
    assert "https://example.org/someone/ronda-fork/blob/main/" in moved[ROOT / "README.md"]
    assert "github.com/ronda-camera" not in "".join(moved.values())


def test_badge_target_opens_the_blueprint_of_the_source_repository() -> None:
    target = import_badge_target("ronda_notify.yaml")
    assert target.startswith("https://my.home-assistant.io/redirect/blueprint_import/")
    assert unquote(target.split("blueprint_url=")[1]) == (
        f"{source_url()}/blob/main/config/homeassistant/ronda_notify.yaml"
    )
    assert target in (ROOT / "README.md").read_text(encoding="utf-8")


def test_installed_metadata_names_the_same_source() -> None:
    import importlib.metadata

    urls = importlib.metadata.metadata("ronda").get_all("Project-URL") or []
    assert f"Source, {source_url()}" in urls
