"""The production start-up, for real: `make serve` (bin/start, as docker compose runs it) with
production settings, against a database of its own, on the database the suite runs on; then
requests over HTTP, as the HTTPS proxy in front would send them. On PostgreSQL, the database
is reached through a relay that the last test cuts and restores: an outage, and the recovery.

Slower than the rest (start-up migrates a new database): `-m "not deployment"` leaves it out."""

import contextlib
import http.client
import json
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

import dj_database_url
import psycopg
import pytest

pytestmark = pytest.mark.deployment

ROOT = Path(__file__).resolve().parent.parent
HOST = "registry.example.org"
PASSWORD = "a staff password, long enough"
STARTUP_SECONDS = 180
HEADERS = {
    "Strict-Transport-Security": "max-age=31536000; includeSubDomains; preload",
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; "
        "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "Cross-Origin-Opener-Policy": "same-origin",
}


class Relay:
    """A TCP relay to the database that a test can cut (every connection dropped, new ones
    closed at once, as when the database is down) and restore."""

    def __init__(self, host, port):
        self.target = (host, port)
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.up = True
        self.sockets = []
        self.lock = threading.Lock()
        threading.Thread(target=self.accept, daemon=True).start()

    def accept(self):
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return  # closed
            if not self.up:
                client.close()
                continue
            upstream = socket.create_connection(self.target)
            with self.lock:
                self.sockets += [client, upstream]
            for source, sink in ((client, upstream), (upstream, client)):
                threading.Thread(target=self.pump, args=(source, sink), daemon=True).start()

    def pump(self, source, sink):
        try:
            while data := source.recv(65536):
                sink.sendall(data)
        except OSError:
            pass
        finally:
            for end in (source, sink):
                end.close()

    def cut(self):
        self.up = False
        with self.lock:
            for end in self.sockets:
                with contextlib.suppress(OSError):  # closed by its pump already
                    end.shutdown(socket.SHUT_RDWR)
                end.close()
            self.sockets = []

    def restore(self):
        self.up = True

    def close(self):
        self.cut()
        self.listener.close()


@dataclass
class Server:
    port: int
    env: dict
    log: Path
    relay: Relay | None

    def manage(self, *args, **env):
        return subprocess.run(  # noqa: S603 - our own manage.py with fixed arguments
            [str(ROOT / ".venv" / "bin" / "python"), "manage.py", *args],
            cwd=ROOT,
            env=self.env | env,
            capture_output=True,
            text=True,
            timeout=120,
            check=True,
        )


@dataclass
class Response:
    status: int
    headers: http.client.HTTPMessage
    body: bytes

    @property
    def text(self):
        return self.body.decode()


def request(server, path, *, method="GET", headers=None, body=None, https=True, host=HOST):
    """One request as the HTTPS proxy in front sends it (or, https=False, as plain HTTP)."""
    sent = {"Host": host} | ({"X-Forwarded-Proto": "https"} if https else {}) | (headers or {})
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
    try:
        connection.request(method, path, body=body, headers=sent)
        response = connection.getresponse()
        return Response(response.status, response.headers, response.read())
    finally:
        connection.close()


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def admin_connection(database):
    return psycopg.connect(
        host=database["HOST"] or "127.0.0.1",
        port=database["PORT"] or 5432,
        user=database["USER"] or None,
        password=database["PASSWORD"] or None,
        dbname="postgres",
        autocommit=True,
    )


def wait_until_healthy(server, process):
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"make serve stopped:\n{server.log.read_text()[-3000:]}")
        try:
            if request(server, "/health/", https=False, host="127.0.0.1").status == 200:
                return
        except OSError:
            pass
        time.sleep(0.5)
    pytest.fail(
        f"make serve was not healthy in {STARTUP_SECONDS} s:\n{server.log.read_text()[-3000:]}"
    )


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    if not shutil.which("make"):
        pytest.skip("needs make")
    folder = tmp_path_factory.mktemp("served")
    database = dj_database_url.parse(os.environ.get("DATABASE_URL", "sqlite:///unused"))
    relay = None
    if database["ENGINE"] == "django.db.backends.postgresql":
        name = f"test_{database['NAME']}_served_{os.getpid()}"
        with admin_connection(database) as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "{name}"')
            connection.execute(f'CREATE DATABASE "{name}"')
        relay = Relay(database["HOST"] or "127.0.0.1", int(database["PORT"] or 5432))
        credentials = quote(database["USER"] or "")
        if database["PASSWORD"]:
            credentials += ":" + quote(database["PASSWORD"])
        url = f"postgres://{credentials}@127.0.0.1:{relay.port}/{name}"
    else:
        url = f"sqlite:///{folder / 'db.sqlite3'}"
    env = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith(("DJANGO_", "PYTEST_")) and name not in ("DEBUG", "SECRET_KEY")
    }
    env |= {
        "ALLOWED_HOSTS": HOST,
        "SECRET_KEY": secrets.token_urlsafe(50),
        "DATABASE_URL": url,
        "DATABASE_CONN_MAX_AGE": "60",  # kept connections, which an outage breaks
        "STATIC_ROOT": str(folder / "static"),
        "MEDIA_ROOT": str(folder / "media"),
        "WEB_CONCURRENCY": "2",  # more than one worker: the sign-in limit must hold across
        "PORT": str(free_port()),
    }
    server = Server(port=int(env["PORT"]), env=env, log=folder / "serve.log", relay=relay)
    with server.log.open("w") as log:
        process = subprocess.Popen(  # noqa: S603 - make with fixed arguments
            ["make", "--no-print-directory", "serve", f"PORT={server.port}"],  # noqa: S607
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group, ended as one below
        )
    try:
        wait_until_healthy(server, process)
        server.manage("import_agreements", "demo/agreements.jsonl")
        server.manage(
            "createsuperuser",
            "--no-input",
            "--username=smoke",
            "--email=smoke@example.org",
            DJANGO_SUPERUSER_PASSWORD=PASSWORD,
        )
        yield server
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=30)
        if relay:
            relay.close()
            with admin_connection(database) as connection:
                connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.mark.parametrize(
    "path",
    ["/", "/agreements/", "/agreements/ecnu-huawei-2019/", "/api/agreements/", "/admin/login/"],
)
def test_pages_api_and_admin_answer_with_every_security_header(server, path):
    response = request(server, path)

    assert response.status == 200
    for header, value in HEADERS.items():
        assert response.headers[header] == value, header


def test_the_demo_data_is_served(server):
    assert "ECNU and Huawei strategic partnership agreement" in request(server, "/agreements/").text
    assert '"count": 2' in request(server, "/api/agreements/").text


def test_cookies_are_secure(server):
    cookie = request(server, "/admin/login/").headers["Set-Cookie"]
    assert cookie.startswith("csrftoken=")
    assert "; Secure" in cookie


def test_plain_http_is_redirected_to_https(server):
    response = request(server, "/agreements/?q=5G", https=False)

    assert response.status == 301
    assert response.headers["Location"] == f"https://{HOST}/agreements/?q=5G"


def test_an_unknown_host_is_refused(server):
    assert request(server, "/", host="attacker.example").status == 400


def test_health_answers_plain_http_by_address(server):
    response = request(server, "/health/", https=False, host=f"127.0.0.1:{server.port}")

    assert response.status == 200
    assert response.headers["Content-Type"] == "application/json"
    assert response.text == '{"status": "ok", "database": "ok", "cache": "ok"}'


def test_the_access_log_names_the_address_the_proxies_forwarded(server):
    """Behind a proxy every request comes from the proxy's address: the client's is in the
    X-Forwarded-For header, which the log shows beside it."""
    request(server, "/robots.txt", headers={"X-Forwarded-For": "203.0.113.7, 10.0.0.2"})

    deadline = time.monotonic() + 10
    while 'forwarded-for="203.0.113.7, 10.0.0.2"' not in server.log.read_text():
        assert time.monotonic() < deadline, server.log.read_text()[-2000:]
        time.sleep(0.1)
    line = next(line for line in server.log.read_text().splitlines() if "203.0.113.7" in line)
    assert '"GET /robots.txt HTTP/1.1" 200' in line


def wait_for_log(server, text):
    deadline = time.monotonic() + 10
    while text not in server.log.read_text():
        assert time.monotonic() < deadline, server.log.read_text()[-2000:]
        time.sleep(0.1)


def test_the_access_log_leaves_out_a_password_reset_links_token(server):
    request(server, "/admin/password_reset/MQ/cz3k2p-0123456789abcdef/?a=1")

    wait_for_log(server, '"GET /admin/password_reset/MQ/[token]/?a=1 HTTP/1.1"')
    # (Django's "Not Found" names the path: this server offers no reset, so no token is real.)
    requests = [line for line in server.log.read_text().splitlines() if '"GET /admin/' in line]
    assert not [line for line in requests if "0123456789abcdef" in line]


def test_the_apps_security_lines_are_in_the_servers_log(server):
    """Guard: what the app logs reaches the server's log, beside gunicorn's lines."""
    request(server, "/admin/login/", method="POST")  # no CSRF cookie: refused, and said

    wait_for_log(server, "[WARNING] django.security.csrf: Forbidden (")


def test_static_files_are_served_compressed_and_kept_for_good(server):
    stylesheet = re.search(r'href="(/static/css/site\.\w+\.css)"', request(server, "/").text)[1]

    response = request(server, stylesheet, headers={"Accept-Encoding": "gzip"})

    assert response.status == 200
    assert response.headers["Content-Encoding"] == "gzip"
    assert "immutable" in response.headers["Cache-Control"]


def sign_in(server, username, password):
    form = request(server, "/admin/login/")
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', form.text)[1]
    cookie = form.headers["Set-Cookie"].split(";")[0]
    body = (
        f"csrfmiddlewaretoken={token}&username={username}&password={quote(password)}&next=/admin/"
    )
    return request(
        server,
        "/admin/login/",
        method="POST",
        body=body,
        headers={
            "Content-Type": "application/x-www-form-urlencoded",
            "Cookie": cookie,
            "Origin": f"https://{HOST}",
            "Referer": f"https://{HOST}/admin/login/",
        },
    )


def test_staff_sign_in_works_and_failures_are_limited_across_workers(server):
    for _ in range(5):
        assert sign_in(server, "someone", "a guess").status == 200
    refused = sign_in(server, "someone", "a guess")
    signed_in = sign_in(server, "smoke", PASSWORD)

    assert refused.status == 429
    assert "Too many sign-in attempts" in refused.text
    assert signed_in.status == 302
    cookies = signed_in.headers.get_all("Set-Cookie")
    session = next(cookie for cookie in cookies if cookie.startswith("sessionid="))
    assert "; Secure" in session and "; HttpOnly" in session


def test_a_database_outage_answers_503_and_the_site_recovers_by_itself(server):
    if server.relay is None:
        pytest.skip("an outage is cut in the connection to PostgreSQL; SQLite has none")
    assert request(server, "/agreements/").status == 200

    server.relay.cut()
    try:
        page, api, health = (
            request(server, p) for p in ("/agreements/", "/api/agreements/", "/health/")
        )
    finally:
        server.relay.restore()

    assert page.status == 503
    assert "briefly unavailable" in page.text and "Traceback" not in page.text
    assert page.headers["Retry-After"] == "30"
    assert (api.status, api.headers["Content-Type"]) == (503, "application/json")
    assert health.status == 503
    assert json.loads(health.text)["database"] == "down"
    # Back without a restart: every worker replaces its broken connection on its own.
    statuses = [request(server, "/agreements/").status for _ in range(20)]
    assert statuses == [200] * 20
    assert request(server, "/health/").status == 200


def test_app_servers_started_together_migrate_one_at_a_time():
    """Each app server's bin/start migrates and makes the cache table (README, "Running several
    app servers"): started together, on a new database or after an upgrade, none may stop on a
    table the other has just made, nor run a data migration twice."""
    database = dj_database_url.parse(os.environ.get("DATABASE_URL", "sqlite:///unused"))
    if database["ENGINE"] != "django.db.backends.postgresql":
        pytest.skip("app servers side by side share PostgreSQL")
    name = f"test_{database['NAME']}_together_{os.getpid()}"
    with admin_connection(database) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}"')
        connection.execute(f'CREATE DATABASE "{name}"')
    credentials = quote(database["USER"] or "")
    if database["PASSWORD"]:
        credentials += ":" + quote(database["PASSWORD"])
    host = f"{database['HOST'] or '127.0.0.1'}:{database['PORT'] or 5432}"
    env = {
        variable: value
        for variable, value in os.environ.items()
        if not variable.startswith(("DJANGO_", "PYTEST_")) and variable != "REDIS_URL"
    } | {"DATABASE_URL": f"postgres://{credentials}@{host}/{name}", "SERVED_BY_WORKERS": "1"}
    python = ROOT / ".venv" / "bin" / "python"
    start = f"{python} manage.py migrate --no-input && {python} manage.py createcachetable"
    try:
        servers = [
            subprocess.Popen(  # noqa: S603 - our own commands, as bin/start runs them
                ["sh", "-c", start],  # noqa: S607
                cwd=ROOT,
                env=env,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                text=True,
            )
            for _ in range(2)
        ]
        outputs = [server.communicate(timeout=STARTUP_SECONDS)[0] for server in servers]

        assert [server.returncode for server in servers] == [0, 0], outputs
    finally:
        with admin_connection(database) as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
