"""A real, headless Home Assistant for the Home Assistant tests, driven through its own APIs.

It runs from its own venv (``tests/homeassistant/setup_ha.sh``; never a Ronda dependency) with
a minimal configuration: the HTTP server, auth, the REST API and the config API, plus what a test
adds (``extra_config``: automations and the companion apps' ``mobile_app`` for the phone-alert
test).  The test's user is created with Home Assistant's own ``auth`` script and logs in through
the login flow, as the frontend would; the MQTT integration is added through the config-flow
API, as a user clicking "Add integration" would; blueprints are saved over the websocket API as
the import dialog does, automations through the automation editor's REST endpoint, and phones
register through ``mobile_app``'s registration API as the companion app does.  ``--skip-pip``
keeps it offline: the setup script installed every requirement already.
"""

from __future__ import annotations

import hashlib
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
from tests.homeassistant.websocket import HomeAssistantSocket

REPO = Path(__file__).resolve().parent.parent.parent
USER, PASSWORD = "ronda-test", "ronda-test-password"


SETUP_SCRIPT = Path(__file__).resolve().parent / "setup_ha.sh"


def ha_venv() -> Path:
    """``$RONDA_HA_VENV`` or ``.venv-ha`` in the repository."""
    return Path(os.environ.get("RONDA_HA_VENV") or REPO / ".venv-ha")


def venv_problem(venv: Path) -> str | None:
    """Why the Home Assistant tests cannot run on ``venv`` (absent, or built by an older
    ``setup_ha.sh`` or lock that lacks packages a test needs), or None."""
    if not (venv / "bin" / "hass").exists():
        return f"Home Assistant venv {venv} is absent: build it with {SETUP_SCRIPT.name}"
    stamp = venv / "ronda-setup.sha256"
    if not stamp.exists() or stamp.read_text().strip() != setup_digest():
        return (
            f"Home Assistant venv {venv} was built by another version of "
            "tests/homeassistant/setup_ha.sh or requirements/homeassistant.txt: run it again"
        )
    return None


def setup_digest() -> str:
    """What ``setup_ha.sh`` writes into the venv when it completes: the sha256 of itself and
    the lock it installed (``requirements/homeassistant.txt``)."""
    lock = SETUP_SCRIPT.parents[2] / "requirements" / "homeassistant.txt"
    return hashlib.sha256(SETUP_SCRIPT.read_bytes() + lock.read_bytes()).hexdigest()


class HomeAssistantError(RuntimeError):
    pass


class HomeAssistant:
    """One Home Assistant process on a free loopback port with a config dir of its own."""

    def __init__(
        self, venv: Path, config_dir: Path, *, extra_config: str = "", time_zone: str = "UTC"
    ) -> None:
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
            f"  unit_system: metric\n  time_zone: {time_zone}\n  currency: EUR\n  country: CH\n"
            f"http:\n  server_host: 127.0.0.1\n  server_port: {self.port}\n"
            "auth:\n"
            "api:\n"
            "config:\n"
            "logger:\n  default: warning\n  logs:\n    homeassistant.components.mqtt: debug\n"
            f"{extra_config}"
        )
        (config_dir / "automations.yaml").write_text("[]\n")
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

    def call_service(self, domain: str, service: str, data: dict) -> None:
        """``POST /api/services/<domain>/<service>``: what a dashboard button or a script does."""
        request = self._request(f"/api/services/{domain}/{service}", json.dumps(data).encode())
        with urllib.request.urlopen(request, timeout=30) as response:
            response.read()

    def set_state(self, entity_id: str, state: str) -> None:
        """``POST /api/states/<entity>``: a state as an integration would report it (a person
        leaving home, for an automation to react to)."""
        self._post_json(f"/api/states/{entity_id}", {"state": state})

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

    # -- websocket, automations, phones -------------------------------------------------------
    def websocket(self) -> HomeAssistantSocket:
        assert self.token is not None, "start() first"
        return HomeAssistantSocket("127.0.0.1", self.port, self.token)

    def save_blueprint(self, path: str, text: str, source_url: str) -> None:
        """What the import dialog does once it fetched the blueprint: ``blueprint/save``."""
        socket = self.websocket()
        try:
            socket.command(
                {
                    "type": "blueprint/save",
                    "domain": "automation",
                    "path": path,
                    "yaml": text,
                    "source_url": source_url,
                    "allow_override": True,
                }
            )
        finally:
            socket.close()

    def devices(self) -> list[dict]:
        socket = self.websocket()
        try:
            return list(socket.command({"type": "config/device_registry/list"}))
        finally:
            socket.close()

    def put_automation(self, automation_id: str, config: dict) -> None:
        """The automation editor's save: validated by Home Assistant, written, reloaded."""
        result = self._post_json(f"/api/config/automation/config/{automation_id}", config)
        if result.get("result") != "ok":
            raise HomeAssistantError(f"automation {automation_id} refused: {result}")

    def register_phone(self, name: str, push_url: str) -> str:
        """A companion app's first start: ``POST /api/mobile_app/registrations``; returns the
        phone's device id once Home Assistant created it and its notify service."""
        self._post_json(
            "/api/mobile_app/registrations",
            {
                "app_id": "io.homeassistant.companion.android",
                "app_name": "Home Assistant",
                "app_version": "2024.1.1-full",
                "device_name": name,
                "manufacturer": "Ronda test",
                "model": "Fake phone",
                "os_name": "Android",
                "os_version": "14",
                "supports_encryption": False,
                "app_data": {"push_token": f"token-{name}", "push_url": push_url},
            },
        )
        service = f"mobile_app_{name.lower()}"
        if not wait_until(lambda: self.has_service("notify", service), 30, interval=0.2):
            raise HomeAssistantError(f"notify.{service} did not appear:\n{self.log_tail()}")
        return next(d["id"] for d in self.devices() if d["name"] == name)

    def has_service(self, domain: str, service: str) -> bool:
        status, body, _ = self.get("/api/services")
        if status != 200:
            return False
        return any(
            entry["domain"] == domain and service in entry["services"] for entry in json.loads(body)
        )

    def log_lines(self) -> list[str]:
        """Every record of the log (continuation lines of tracebacks folded into theirs)."""
        records: list[str] = []
        for line in self.log_path.read_text(errors="replace").splitlines():
            if records and (line[:1].isspace() or not line[:4].isdigit()):
                records[-1] += "\n" + line
            else:
                records.append(line)
        return records


def elapsed(started: float) -> str:
    return f"{time.monotonic() - started:.1f} s"
