"""Home Assistant set up for phone alerts the way an owner does it, shared by the phone-alert test
and ``bench/phone_alerts.py``: automations and ``mobile_app`` configured, Ronda's blueprint
imported, one automation per phone made from it in the automation editor."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from paho.mqtt import publish

from tests.broker import Mosquitto, wait_until
from tests.homeassistant.harness import REPO, HomeAssistant
from tools.links import blueprint_url

BLUEPRINT = REPO / "config" / "homeassistant" / "ronda_notify.yaml"
PRESENCE_BLUEPRINT = REPO / "config" / "homeassistant" / "ronda_presence.yaml"
"""The second blueprint: cameras armed while nobody is home (docs/controls.md)."""
SOURCE_URL = blueprint_url(BLUEPRINT.name)
BLUEPRINT_PATH = f"{SOURCE_URL.split('/')[3]}/{BLUEPRINT.name}"
"""Where Home Assistant's importer saves it (``<owner>/<file>``)."""


def phone_alert_home_assistant(venv: Path, config_dir: Path, time_zone: str) -> HomeAssistant:
    """A Home Assistant (not started) with automations and the companion apps' integration."""
    return HomeAssistant(
        venv,
        config_dir,
        extra_config="automation: !include automations.yaml\nmobile_app:\n",
        time_zone=time_zone,
    )


def install_blueprint(ha: HomeAssistant) -> None:
    """Import: the dialog fetches ``SOURCE_URL`` (no network here: the file itself) and saves."""
    ha.save_blueprint(BLUEPRINT_PATH, BLUEPRINT.read_text(), SOURCE_URL)


def automation_id(phone: str) -> str:
    return f"ronda_{phone}"


PROBE_TOPIC = "ronda/probe/events"
"""Matches the blueprint's event topic (``ronda/+/events``) and no camera: a run it starts stops
at the camera condition, and :func:`traces` leaves it out."""


def create_automation(
    ha: HomeAssistant, phone: str, inputs: dict[str, Any], broker: Mosquitto
) -> None:
    """An automation from the blueprint (keeping 50 traces, so a test can read every run),
    returned once it runs on a message of the event topic.

    Home Assistant subscribes to the automation's MQTT topic a moment after the automation is
    on (its subscribe debouncer waits up to a second), and Ronda alerts a person in view at
    its first frame: without the probe, the first event could go by before anyone listens."""
    ha.put_automation(
        automation_id(phone),
        {
            "alias": f"Ronda alerts {phone}",
            "description": "",
            "use_blueprint": {"path": BLUEPRINT_PATH, "input": inputs},
            "trace": {"stored_traces": 50},
        },
    )
    if not ha.wait_for_state(f"automation.ronda_alerts_{phone}", "on"):
        raise AssertionError(f"automation for {phone} did not start:\n{ha.log_tail()}")
    probed = len(_runs(ha, phone, probes=True))
    for _ in range(20):  # a probe sent before the subscription is simply not delivered
        publish.single(PROBE_TOPIC, b"probe", hostname=broker.host, port=broker.port)
        if wait_until(lambda: len(_runs(ha, phone, probes=True)) > probed, 3, interval=0.1):
            return
    raise AssertionError(f"the automation for {phone} never ran on a probe:\n{ha.log_tail()}")


def traces(ha: HomeAssistant, phone: str) -> list[dict[str, Any]]:
    """The stored runs of a phone's automation on event messages, short form (probes left out)."""
    return _runs(ha, phone, probes=False)


def _runs(ha: HomeAssistant, phone: str, *, probes: bool) -> list[dict[str, Any]]:
    probe = f"mqtt topic {PROBE_TOPIC}"
    return [run for run in _all_runs(ha, phone) if (run.get("trigger") == probe) is probes]


def _all_runs(ha: HomeAssistant, phone: str) -> list[dict[str, Any]]:
    socket = ha.websocket()
    try:
        return list(
            socket.command(
                {"type": "trace/list", "domain": "automation", "item_id": automation_id(phone)}
            )
        )
    finally:
        socket.close()


def trace(ha: HomeAssistant, phone: str, run_id: str) -> dict[str, Any]:
    socket = ha.websocket()
    try:
        return dict(
            socket.command(
                {
                    "type": "trace/get",
                    "domain": "automation",
                    "item_id": automation_id(phone),
                    "run_id": run_id,
                }
            )
        )
    finally:
        socket.close()
