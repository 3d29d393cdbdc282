"""``ronda@.service``: one camera per instance (``ronda@garden``), made from ``ronda.service``.

Why derived and not a second file in ``systemd/``: the template differs from the single
camera's unit in three lines (which config, which state directory, the description), and a copy
would drift from every hardening or timeout change made to the original.  The installer writes
the result; ``derive`` refuses a unit that no longer has the lines it rewrites, so such a change
fails the tests instead of installing a template that runs the wrong camera.

Standard library only (the installer runs on a bare system Python).
"""

from __future__ import annotations

HEADER = """\
# Ronda, one camera per instance: ronda@<camera>.service reads /etc/ronda/<camera>.yaml and keeps
# its state in /var/lib/ronda-<camera>.  Written by `ronda service install` from ronda.service
# (the single camera's unit, /etc/ronda/ronda.yaml): edit that one, or use a drop-in
# (`sudo systemctl edit ronda@<camera>`, or `ronda@.service.d/` for every camera).
"""
REWRITES = {
    "Description=": "Description=Ronda person/pet security camera %i",
    "ExecStart=": None,  # the config path only: see derive()
    "StateDirectory=": "StateDirectory=ronda-%i",
}
SINGLE_CONFIG = "/etc/ronda/ronda.yaml"
INSTANCE_CONFIG = "/etc/ronda/%i.yaml"


class TemplateError(Exception):
    """``ronda.service`` lost a line the template rewrites (one line for the installer)."""


def derive(single_unit: str) -> str:
    """The template unit text from the single camera's unit text."""
    lines = []
    seen: set[str] = set()
    for line in single_unit.splitlines():
        key = next((k for k in REWRITES if line.startswith(k)), None)
        if key is None:
            lines.append(line)
            continue
        seen.add(key)
        if key == "ExecStart=":
            if SINGLE_CONFIG not in line:
                raise TemplateError(f"ronda.service: ExecStart no longer names {SINGLE_CONFIG}")
            lines.append(line.replace(SINGLE_CONFIG, INSTANCE_CONFIG))
        else:
            lines.append(REWRITES[key] or line)
    missing = sorted(set(REWRITES) - seen)
    if missing:
        raise TemplateError(f"ronda.service has no {', '.join(missing)} line to make ronda@ from")
    return HEADER + "\n".join(lines) + "\n"
