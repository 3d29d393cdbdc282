"""The page's defences, over real HTTP against the real server (``ronda web`` mode).

Without a session nothing but the login answers; a wrong password is refused and then
throttled; a change without the CSRF token is refused; no request path or id reads a file
outside the state directory; the password never shows in a response or a log line.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import logging
import ssl
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from camera.config import ConfigError, load_config
from camera.store import Database, EventStore
from camera.web.context import WebContext
from camera.web.server import WebServer
from tests.broker import Certificates, free_port
from tests.cli_helpers import REPO
from tests.web_helpers import Client, event_update

PASSWORD = "s3cret-horse-battery"
SECRET = "TOP-SECRET-CONTENT"
EVENT_ID = "abcd1234-0001"
CONFIG = """\
# the owner's comment
camera:
  name: yard   # and another
store:
  path: {state}
web:
  host: 127.0.0.1
  login_attempts: 3
"""


@pytest.fixture
def site(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> Iterator[tuple[WebServer, Path]]:
    caplog.set_level(logging.DEBUG)
    state = tmp_path / "state"
    config_path = tmp_path / "ronda.yaml"
    config_path.write_text(CONFIG.format(state=state))
    config, _ = load_config(config_path)
    database = Database(state / "ronda.sqlite3")
    store = EventStore(database, config.store)
    store.record(event_update(EVENT_ID), b"\xff\xd8 thumbnail bytes \xff\xd9")
    (tmp_path / "secret.txt").write_text(SECRET)
    (state / "secret.txt").write_text(SECRET)  # inside, but belongs to no event
    context = WebContext(config=config, config_path=config_path, database=database)
    context.passwords.set(PASSWORD)
    server = WebServer(context, port=free_port())
    server.start()
    yield server, tmp_path
    server.stop()
    database.close()


@contextlib.contextmanager
def configured_site(
    folder: Path, web_lines: str = "", setup: Callable[[WebContext], None] | None = None
) -> Iterator[WebServer]:
    """A started server whose config is ``CONFIG`` plus ``web_lines`` (more ``web:`` keys),
    state and config file in ``folder``; stopped and its database closed afterwards.
    ``setup``: called with the context before the server starts (stats, controls, events)."""
    state = folder / "state"
    config_path = folder / "ronda.yaml"
    folder.mkdir(parents=True, exist_ok=True)
    config_path.write_text(CONFIG.format(state=state) + web_lines)
    config, _ = load_config(config_path)
    context = WebContext(config=config, config_path=config_path, database=Database(state / "db"))
    context.passwords.set(PASSWORD)
    if setup is not None:
        setup(context)
    server = WebServer(context, port=free_port())
    server.start()
    try:
        yield server
    finally:
        server.stop()
        context.database.close()


def _client(site: tuple[WebServer, Path]) -> Client:
    return Client(site[0].port)


PAGES = ["/", "/live", "/events", f"/events/{EVENT_ID}", "/masks"]
FILES = [
    f"/events/{EVENT_ID}/thumbnail",
    f"/events/{EVENT_ID}/clip",
    "/api/health",
    "/live.jpg",
    "/live.mjpg",
]
CHANGES = ["/masks", f"/events/{EVENT_ID}/delete", "/logout"]


def test_nothing_without_a_session(site: tuple[WebServer, Path]) -> None:
    client = _client(site)
    for path in PAGES:
        response = client.request("GET", path)
        assert response.status == 303, path
        assert response.headers["Location"].startswith("/login?next=")
    for path in FILES:
        assert client.request("GET", path).status == 401, path
    for path in CHANGES:
        assert client.request("POST", path, b"{}").status == 401, path
    assert client.request("GET", "/login").status == 200
    assert client.request("GET", "/static/style.css").status == 200


def test_wrong_password_refused_then_throttled(site: tuple[WebServer, Path]) -> None:
    client = _client(site)
    for _ in range(3):
        assert client.login("wrong password").status == 401
    throttled = client.login(PASSWORD)  # even the right one, while throttled
    assert throttled.status == 429
    assert int(throttled.headers["Retry-After"]) > 0
    assert "ronda_session" not in client.cookies


def test_behind_a_trusted_proxy_each_client_is_throttled_alone(tmp_path: Path) -> None:
    """One guesser behind the home's reverse proxy must not lock the owner out; and without a
    trusted proxy the header is the client's own word, so it cannot dodge the throttle."""

    def as_seen_from(server: WebServer, address: str) -> Client:
        # What nginx's $proxy_add_x_forwarded_for sends: the client's claim, then its peer.
        return Client(server.port, forwarded_for=f"10.9.9.9, {address}")

    with configured_site(tmp_path / "proxied", "  trusted_proxies: [127.0.0.1, '::1']\n") as server:
        guesser = as_seen_from(server, "192.168.1.66")
        for _ in range(3):
            assert guesser.login("wrong password").status == 401
        assert guesser.login(PASSWORD).status == 429
        owner = as_seen_from(server, "192.168.1.20")
        assert owner.login(PASSWORD).status == 303  # in, despite the guesser

    with configured_site(tmp_path / "direct") as server:  # no proxy trusted: the header is no one's
        for n in range(3):
            assert as_seen_from(server, f"192.168.1.{n}").login("wrong").status == 401
        assert as_seen_from(server, "192.168.1.20").login(PASSWORD).status == 429


def test_a_trusted_proxy_that_is_not_an_address_names_the_key(tmp_path: Path) -> None:
    config_path = tmp_path / "ronda.yaml"
    config_path.write_text(
        CONFIG.format(state=tmp_path / "state") + "  trusted_proxies: [proxy.lan]\n"
    )
    with pytest.raises(ConfigError) as error:
        load_config(config_path)
    assert "web.trusted_proxies" in str(error.value)
    assert "'proxy.lan' is not an IP address or network" in str(error.value)


def test_session_cookie_flags_and_csrf(site: tuple[WebServer, Path]) -> None:
    client = _client(site)
    response = client.login(PASSWORD)
    assert response.status == 303
    cookie = next(
        c for c in response.headers.get_all("Set-Cookie") or [] if c.startswith("ronda_session")
    )
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie
    assert client.request("GET", "/events").status == 200
    body = json.dumps({"masks": [], "zones": {}}).encode()
    json_type = {"Content-Type": "application/json"}
    assert client.request("POST", "/masks", body, json_type).status == 403
    wrong = {**json_type, "X-CSRF-Token": "not-the-token"}
    assert client.request("POST", "/masks", body, wrong).status == 403
    delete = client.request("POST", f"/events/{EVENT_ID}/delete")
    assert delete.status == 403
    assert client.request("GET", f"/events/{EVENT_ID}/thumbnail").status == 200  # still there
    right = {**json_type, "X-CSRF-Token": client.csrf()}
    assert client.request("POST", "/masks", body, right).status == 200


def test_paths_never_leave_the_state_directory(site: tuple[WebServer, Path]) -> None:
    server, root = site
    client = _client(site)
    client.login(PASSWORD)
    attempts = [
        "/events/..%2f..%2fsecret.txt/thumbnail",
        "/events/%2e%2e%2fsecret.txt/thumbnail",
        "/events/..%252fsecret.txt/thumbnail",
        "/events/../secret.txt",
        "/events/%2fetc%2fpasswd/thumbnail",
        f"/events/{root}/secret.txt/thumbnail",
        "/events/secret.txt/thumbnail",
        "/events/secret/clip",
        "/events/" + "a" * 65 + "/thumbnail",
        "/events/%00/thumbnail",
        "/events/%C3%A9v%C3%A9nement/thumbnail",
        "/static/../context.py",
        "/static/%2e%2e/context.py",
        "/static/..%2fcontext.py",
        "//etc/passwd",
        "/static//etc/passwd",
    ]
    for path in attempts:
        response = client.request("GET", path)
        assert response.status in (400, 403, 404), (path, response.status)
        assert SECRET.encode() not in response.data, path  # type: ignore[attr-defined]
        assert b"root:" not in response.data, path  # type: ignore[attr-defined]
    # A store row pointing outside (a tampered database) is not served either.
    server.context.database.query(
        "UPDATE events SET thumbnail = ? WHERE id = ?", (str(root / "secret.txt"), EVENT_ID)
    )
    assert client.request("GET", f"/events/{EVENT_ID}/thumbnail").status == 404


def test_thumbnail_answers_range_requests(site: tuple[WebServer, Path]) -> None:
    client = _client(site)
    client.login(PASSWORD)
    response = client.request(
        "GET", f"/events/{EVENT_ID}/thumbnail", headers={"Range": "bytes=3-7"}
    )
    assert response.status == 206
    assert response.data == b"thumb"  # type: ignore[attr-defined]


def test_health_may_be_opened_to_monitoring(tmp_path: Path) -> None:
    with configured_site(tmp_path, "  allow_health_without_login: true\n") as server:
        client = Client(server.port)
        health = client.request("GET", "/api/health")
        assert health.status == 200
        assert json.loads(health.data)["camera"] == "yard"  # type: ignore[attr-defined]
        assert client.request("GET", "/events").status == 303  # the rest stays closed


def test_save_errors_are_the_config_models_and_name_the_field(
    site: tuple[WebServer, Path],
) -> None:
    _server, root = site
    client = _client(site)
    client.login(PASSWORD)
    headers = {"Content-Type": "application/json", "X-CSRF-Token": client.csrf()}
    bad = {"masks": [[[0, 0], [1.5, 0], [0, 1]]], "zones": {"no spaces": [[0, 0], [1, 0], [0, 1]]}}
    response = client.request("POST", "/masks", json.dumps(bad).encode(), headers)
    assert response.status == 400
    errors = json.loads(response.data)["errors"]  # type: ignore[attr-defined]
    paths = {e["path"] for e in errors}
    assert any(p.startswith("motion.masks") for p in paths), errors
    assert any(p.startswith("zones") for p in paths), errors
    # The same words `ronda` prints for the same mistake in the file.
    config_file = root / "ronda.yaml"
    before = config_file.read_text()
    broken = root / "broken.yaml"
    broken.write_text(before + "motion:\n  masks: [[[0, 0], [1.5, 0], [0, 1]]]\n")
    with pytest.raises(ConfigError) as loaded:
        load_config(broken)
    mask_error = next(e["message"] for e in errors if e["path"].startswith("motion.masks"))
    assert mask_error.split(": ", 2)[2].split(" (got")[0] in str(loaded.value)
    assert config_file.read_text() == before  # nothing written


def test_password_never_in_a_response_or_a_log_line(
    site: tuple[WebServer, Path], caplog: pytest.LogCaptureFixture
) -> None:
    client = _client(site)
    client.login(PASSWORD + "x")
    client.login(PASSWORD)
    for path in [*PAGES, "/api/health"]:
        client.request("GET", path)
    for body in client.bodies:
        assert PASSWORD.encode() not in body
    assert all(PASSWORD not in record.getMessage() for record in caplog.records)
    assert any("wrong password" in record.getMessage() for record in caplog.records)


def test_https_with_the_owners_certificate_and_secure_cookies(tmp_path: Path) -> None:
    certificates = Certificates(tmp_path / "certs")
    tls = (
        f"  tls_cert: {certificates.path('server.crt')}\n"
        f"  tls_key: {certificates.path('server.key')}\n"
    )
    with configured_site(tmp_path, tls) as server:
        assert server.url.startswith("https://")
        trust = ssl.create_default_context(cafile=str(certificates.path("ca.crt")))
        connection = http.client.HTTPSConnection("127.0.0.1", server.port, context=trust)
        connection.request("GET", "/login")
        response = connection.getresponse()
        assert response.status == 200
        cookie = response.headers["Set-Cookie"]
        assert "Secure" in cookie and "HttpOnly" in cookie
        plain = http.client.HTTPConnection("127.0.0.1", server.port, timeout=5)
        with pytest.raises((http.client.HTTPException, ConnectionError)):
            plain.request("GET", "/login")
            plain.getresponse().read()


def test_a_missing_certificate_is_a_config_error_naming_the_key(tmp_path: Path) -> None:
    path = tmp_path / "ronda.yaml"
    path.write_text(f"web:\n  tls_cert: {tmp_path}/nope.pem\n  tls_key: {tmp_path}/nope.key\n")
    with pytest.raises(ConfigError, match=r"web: .*nope.pem does not exist"):
        load_config(path)


def test_blueprints_are_served_without_login_for_home_assistant_to_import(
    site: tuple[WebServer, Path],
) -> None:
    """Home Assistant imports a blueprint from any URL it reaches and cannot log in: the camera's
    own page serves Ronda's blueprints (only those), with ``source_url`` naming where it came
    from, so no public host is needed."""
    client = _client(site)
    path = "/blueprints/ronda_notify.yaml"
    response = client.request("GET", path)
    assert response.status == 200
    served = response.data.decode().splitlines()  # type: ignore[attr-defined]
    original = (REPO / "config" / "homeassistant" / "ronda_notify.yaml").read_text().splitlines()
    changed = [(a, b) for a, b in zip(original, served, strict=True) if a != b]
    assert changed == [(changed[0][0], f"  source_url: http://127.0.0.1:{site[0].port}{path}")], (
        changed
    )
    for other in ["/blueprints/../ronda.yaml", "/blueprints/secret.txt", "/blueprints/x.yaml"]:
        assert client.request("GET", other).status in (401, 404), other
    assert SECRET.encode() not in b"".join(client.bodies)


@pytest.mark.parametrize(
    ("host", "said"),
    [
        ("127.0.0.1", "nobody can log in until one is set"),
        ("0.0.0.0", "listens on 127.0.0.1 only; set one with"),
    ],
)
def test_without_a_password_the_warning_fits_the_configured_host(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, host: str, said: str
) -> None:
    """A page configured for localhost needs no "restart to listen on 127.0.0.1" advice."""
    caplog.set_level(logging.WARNING, logger="camera.web")
    config_path = tmp_path / "ronda.yaml"
    config_path.write_text(CONFIG.format(state=tmp_path / "state").replace("127.0.0.1", host))
    config, _ = load_config(config_path)
    database = Database(tmp_path / "state" / "ronda.sqlite3")
    context = WebContext(config=config, config_path=config_path, database=database)
    server = WebServer(context, port=free_port())
    server.start()
    try:
        assert server.host == "127.0.0.1"
        (warning,) = [r.getMessage() for r in caplog.records if "no password" in r.getMessage()]
        assert said in warning
        assert ("restart to listen on" in warning) == (host != "127.0.0.1")
    finally:
        server.stop()
        database.close()
