"""A real, headless Home Assistant for the discovery test, driven through its REST API.

It runs from its own venv (``tests/homeassistant/setup_ha.sh``; never a Ronda dependency) with
a minimal configuration: the HTTP server, auth, the REST API and the config API, nothing else.  The
test's user is created with Home Assistant's own ``auth`` script and logs in through the login
flow, as the frontend would; the MQTT integration is added through the config-flow API, as a
user clicking "Add integration" would.  ``--skip-pip`` keeps it offline: the setup script
installed every requirement already.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

from tests.broker import free_port, wait_until

REPO = Path(__file__).resolve().parent.parent.parent
USER, PASSWORD = "ronda-test", "ronda-test-password"


def ha_venv() -> Path:
    """``$RONDA_HA_VENV`` or ``.venv-ha`` in the repository."""
    return Path(os.environ.get("RONDA_HA_VENV") or REPO / ".venv-ha")


class HomeAssistantError(RuntimeError):
    pass


class HomeAssistant:
    """One Home Assistant process on a free loopback port with a config dir of its own."""

    def __init__(self, venv: Path, config_dir: Path) -> None:
        self.hass = venv / "bin" / "hass"
        self.config_dir = config_dir
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = config_dir / "home-assistant.log"
        self.token: str | None = None
        self.process: subprocess.Popen[bytes] | None = None
        config_dir.mkdir(parents=True, exist_ok=True)
        (config_dir / "configuration.yaml").write_text(
            "homeassistant:\n"
            "  name: Ronda test\n"
            "  latitude: 46.2\n  longitude: 6.1\n  elevation: 400\n"
            "  unit_system: metric\n  time_zone: UTC\n  currency: EUR\n  country: CH\n"
            f"http:\n  server_host: 127.0.0.1\n  server_port: {self.port}\n"
            "auth:\n"
            "api:\n"
            "config:\n"
            "logger:\n  default: warning\n  logs:\n    homeassistant.components.mqtt: debug\n"
        )
        self._run_script("auth", "add", USER, PASSWORD)

    def _run_script(self, *args: str) -> None:
        subprocess.run(
            [str(self.hass), "--script", args[0], "-c", str(self.config_dir), *args[1:]],
            check=True,
            capture_output=True,
            timeout=120,
        )

    # -- process -----------------------------------------------------------------------------
    def start(self, timeout: float = 180) -> None:
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                [str(self.hass), "-c", str(self.config_dir), "--skip-pip", "--log-no-color"],
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        if not wait_until(self._api_up, timeout, interval=0.25):
            raise HomeAssistantError(f"Home Assistant did not start:\n{self.log_tail()}")
        self.token = self._login()

    def _api_up(self) -> bool:
        if self.process is not None and self.process.poll() is not None:
            raise HomeAssistantError(f"Home Assistant exited:\n{self.log_tail()}")
        try:  # the login providers: served without a token once auth is set up
            with urllib.request.urlopen(f"{self.url}/auth/providers", timeout=1) as response:
                return response.status == 200
        except OSError:
            return False

    def stop(self) -> None:
        """SIGTERM, as systemd would: Home Assistant writes its registries on the way out."""
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
        self.process = None

    def log_tail(self, chars: int = 4000) -> str:
        return self.log_path.read_text(errors="replace")[-chars:] if self.log_path.exists() else ""

    # -- auth --------------------------------------------------------------------------------
    def _login(self) -> str:
        """The frontend's login: a login flow with the test user, then a code for a token."""
        client_id = f"{self.url}/"
        flow = self._post_json(
            "/auth/login_flow",
            {"client_id": client_id, "handler": ["homeassistant", None], "redirect_uri": client_id},
            auth=False,
        )
        done = self._post_json(
            f"/auth/login_flow/{flow['flow_id']}",
            {"client_id": client_id, "username": USER, "password": PASSWORD},
            auth=False,
        )
        if done.get("type") != "create_entry":
            raise HomeAssistantError(f"login failed: {done}")
        form = urllib.parse.urlencode(
            {"grant_type": "authorization_code", "code": done["result"], "client_id": client_id}
        ).encode()
        with urllib.request.urlopen(f"{self.url}/auth/token", data=form, timeout=10) as response:
            return json.loads(response.read())["access_token"]

    # -- REST --------------------------------------------------------------------------------
    def _request(
        self, path: str, body: bytes | None = None, *, auth: bool = True
    ) -> urllib.request.Request:
        headers = {"Content-Type": "application/json"}
        if auth:
            headers["Authorization"] = f"Bearer {self.token}"
        return urllib.request.Request(f"{self.url}{path}", data=body, headers=headers)

    def _post_json(self, path: str, payload: dict, *, auth: bool = True) -> dict:
        request = self._request(path, json.dumps(payload).encode(), auth=auth)
        with urllib.request.urlopen(request, timeout=30) as response:
            return json.loads(response.read())

    def get(self, path: str) -> tuple[int, bytes, str]:
        """Status, body and content type (errors included, not raised)."""
        try:
            with urllib.request.urlopen(self._request(path), timeout=10) as response:
                return response.status, response.read(), response.headers.get_content_type()
        except urllib.error.HTTPError as error:
            return error.code, error.read(), ""

    def state(self, entity_id: str) -> dict | None:
        status, body, _ = self.get(f"/api/states/{entity_id}")
        return json.loads(body) if status == 200 else None

    def state_value(self, entity_id: str) -> str | None:
        state = self.state(entity_id)
        return None if state is None else state["state"]

    def template(self, template: str) -> str:
        request = self._request("/api/template", json.dumps({"template": template}).encode())
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.read().decode()

    def add_mqtt(self, host: str, port: int) -> dict:
        """ "Add integration" -> MQTT -> broker and port: the config-flow API, as the UI does."""
        flow = self._post_json("/api/config/config_entries/flow", {"handler": "mqtt"})
        if flow.get("step_id") != "broker":
            raise HomeAssistantError(f"unexpected MQTT config flow: {flow}")
        result = self._post_json(
            f"/api/config/config_entries/flow/{flow['flow_id']}", {"broker": host, "port": port}
        )
        if result.get("type") != "create_entry":
            raise HomeAssistantError(f"MQTT config flow failed: {result}")
        return result

    def entity_registry(self) -> list[dict]:
        """The entity registry as Home Assistant saved it (read after ``stop()``)."""
        path = self.config_dir / ".storage" / "core.entity_registry"
        return json.loads(path.read_text())["data"]["entities"]

    def wait_for_state(
        self, entity_id: str, expected: str | None = None, timeout: float = 30
    ) -> bool:
        """Until the entity exists (and, with ``expected``, has that state)."""

        def reached() -> bool:
            value = self.state_value(entity_id)
            return value is not None and (expected is None or value == expected)

        return wait_until(reached, timeout, interval=0.2)


def elapsed(started: float) -> str:
    return f"{time.monotonic() - started:.1f} s"
