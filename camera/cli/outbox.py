"""``ronda outbox list|retry|drop``: the dead letters, shown, put back or dropped by the owner.

A dead letter is an alert message that could not be delivered as it was (see
``camera.store.dead_letters``).  After fixing the cause (the broker's ACL, a topic prefix),
``retry`` puts it back at the end of the outbox, where the running service (within a second) or
the next ``ronda flush`` delivers it; ``drop`` deletes it for good (counted).  It works on the
state directory the service uses, like ``ronda status``.

It is a command of its own rather than part of ``camera.store``: registering a command must
import nothing heavy (``ronda --version`` and ``sudo python3 -m camera.service install`` run on a
bare Python), and importing ``camera.store`` loads pydantic and SQLite models.

Exit codes: 0 done; 2 an id that is not a dead letter, or neither ids nor ``--all``.
"""

from __future__ import annotations

import argparse
import sys
from datetime import datetime
from typing import TYPE_CHECKING

from camera.arguments import AddCommand

if TYPE_CHECKING:  # loaded only when the command runs
    from camera.store import Outbox


def register(add: AddCommand) -> None:
    """Called by ``camera.cli.ronda`` with its ``add(name, handler, help)``."""
    outbox = add(
        "outbox",
        cmd_outbox,
        "List, retry or drop the dead letters: alert messages that could not be delivered.",
    )
    actions = outbox.add_subparsers(dest="action", required=True, metavar="ACTION")
    actions.add_parser("list", help="show the queue depth and every dead letter with its reason")
    for name, help_text in (
        ("retry", "put dead letters back at the end of the outbox (after fixing the cause)"),
        ("drop", "delete dead letters for good (counted)"),
    ):
        action = actions.add_parser(name, help=help_text)
        action.add_argument("ids", nargs="*", type=int, metavar="ID", help="ids from `list`")
        action.add_argument("--all", action="store_true", help="every dead letter")


def cmd_outbox(args: argparse.Namespace) -> int:
    from camera.cli.startup import load_service_config
    from camera.store import DATABASE_NAME, Database, Outbox

    config, _ = load_service_config(args.config, args.state_dir)
    path = config.store.directory() / DATABASE_NAME
    if not path.exists():
        _out(f"no outbox yet ({path} does not exist)")
        return 0
    database = Database(path, readonly=args.action == "list")  # a damaged file: only report
    try:
        outbox = Outbox(database, config.mqtt.outbox)
        if args.action == "list":
            return _list(outbox)
        return _change(outbox, args.action, args.ids, every=args.all)
    finally:
        database.close()


def _list(outbox: Outbox) -> int:
    letters = outbox.dead.entries()
    _out(
        f"outbox: {outbox.depth()} queued, {len(letters)} dead letter(s), "
        f"{outbox.dead.dropped()} dead letter(s) dropped so far"
    )
    for letter in letters:
        _out(
            f"{letter.id:>5}  {_clock(letter.buried_at)}  {letter.topic[:100]}  "
            f"{letter.size} bytes, {letter.attempts} tries: {letter.reason}"
        )
    return 0


def _change(outbox: Outbox, action: str, ids: list[int], *, every: bool) -> int:
    if not ids and not every:
        _err(f"ronda outbox {action}: name the ids (from `ronda outbox list`) or --all")
        return 2
    chosen = outbox.dead.existing(None if every else ids)
    unknown = sorted(set(ids) - set(chosen))
    if unknown:
        _err(
            f"ronda outbox {action}: no dead letter with id {', '.join(map(str, unknown))} "
            "(see `ronda outbox list`)"
        )
        return 2
    if action == "retry":
        moved = outbox.revive(chosen)
        _out(
            f"put {moved} dead letter(s) back in the outbox; the running service delivers them "
            "within a second, or run `ronda flush`"
        )
    else:
        _out(f"dropped {outbox.dead.drop(chosen)} dead letter(s) for good")
    return 0


def _out(line: str) -> None:
    sys.stdout.write(line + "\n")


def _err(line: str) -> None:
    sys.stderr.write(line + "\n")


def _clock(epoch: float) -> str:
    return datetime.fromtimestamp(epoch).strftime("%Y-%m-%d %H:%M:%S")
