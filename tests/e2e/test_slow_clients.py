"""Slow clients (bounded slowloris on loopback) do not starve others; oversize bodies are a JSON 413.

Both on lighttpd and on Apache (mod_reqtimeout, mod_qos's per-address limit, sized event MPM,
LimitRequestBody + ErrorDocument). The attackers connect from 127.0.0.1, the clients that must
still be served from 127.0.0.2 (another address: a per-address limit must not refuse them).
"""
import json
import socket
import threading
import time

import pytest
import requests

import harness
from helpers import auth
from slowloris import Probe, ReconnectingLoris

SLOW_SOCKETS = 400        # half send their headers a byte at a time, half their body
ATTACK_SECONDS = 14       # bounded: the attack stops after this
APACHE_HEADER_TIMEOUT = 10  # RequestReadTimeout header=10-20,MinRate=500 in apache/latchkey.conf.in


# Slow clients and request size are properties of the web server in front, so these tests run on
# each web server once: lighttpd (its CGI mode is the same server) and both Apache modes.
WEB_SERVERS = [n for n in harness.server_names_from_env() if n in ("lighttpd", "apache", "apache-proxy")]
APACHE_SERVERS = [n for n in WEB_SERVERS if n.startswith("apache")]


@pytest.fixture(params=WEB_SERVERS, ids=WEB_SERVERS)
def web_server(request, stack):
    return stack.servers[request.param]


@pytest.fixture(params=APACHE_SERVERS, ids=APACHE_SERVERS)
def apache_server(request, stack):
    return stack.servers[request.param]


class SourceAddressAdapter(requests.adapters.HTTPAdapter):
    """requests from another loopback source address (the whole 127/8 is loopback)."""

    def __init__(self, source):
        self.source = source
        super().__init__()

    def init_poolmanager(self, *args, **kwargs):
        kwargs["source_address"] = (self.source, 0)
        super().init_poolmanager(*args, **kwargs)


class Slowloris:
    """SLOW_SOCKETS connections to the server, fed one byte per socket per second."""

    def __init__(self, port, n):
        self.port = port
        self.n = n
        self.socks = []           # (kind, socket)
        self.connected = 0
        self.closed_by_server = {"header": 0, "body": 0}
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)

    def open(self):
        for i in range(self.n):
            kind = "header" if i % 2 == 0 else "body"
            s = socket.create_connection(("127.0.0.1", self.port), timeout=5)
            s.setblocking(False)
            if kind == "header":
                first = b"POST /v1/verify HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            else:
                first = (b"POST /v1/verify HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                         b"Content-Type: application/json\r\nContent-Length: 100000\r\n\r\n{")
            s.send(first)
            self.socks.append([kind, s, True])
            self.connected += 1
        self.thread.start()

    def _run(self):
        while not self.stop.wait(1.0):
            for entry in self.socks:
                kind, s, alive = entry
                if not alive:
                    continue
                try:
                    if s.recv(4096) == b"":
                        raise ConnectionResetError
                except BlockingIOError:
                    pass
                except OSError:
                    entry[2] = False
                    self.closed_by_server[kind] += 1
                    continue
                try:
                    s.send(b"a" if kind == "header" else b" ")
                except BlockingIOError:
                    pass
                except OSError:
                    entry[2] = False
                    self.closed_by_server[kind] += 1

    def close(self):
        self.stop.set()
        self.thread.join(timeout=10)
        for _, s, _ in self.socks:
            s.close()


def test_slow_clients_do_not_starve_others(web_server, request):
    server = web_server
    if server.name == "apache-proxy":
        # Known gap, written in docs/operations.md ("Slow clients"): mod_proxy_fcgi streams a request
        # body with a Content-Length into the pool, so each slow body holds a latchkey worker until
        # RequestReadTimeout's body limit. Strict: the day this passes, the marker must go.
        request.applymarker(pytest.mark.xfail(strict=True, reason="mod_proxy_fcgi streams slow "
                                              "bodies into the pool's few workers"))
    loris = Slowloris(server.port, SLOW_SOCKETS)
    answers, failures = [], []
    try:
        loris.open()
        assert loris.connected == SLOW_SOCKETS
        end = time.monotonic() + ATTACK_SECONDS
        s = requests.Session()
        s.mount("http://", SourceAddressAdapter("127.0.0.2"))
        while time.monotonic() < end:
            try:
                # liveness, not speed: without the fix a request waited ~20 s for a worker
                r = s.post(server.url("/v1/verify"), json={"key": server.admin_key},
                           headers=auth(server.admin_key), timeout=5)
                answers.append(r.status_code)
            except requests.RequestException as e:
                failures.append(repr(e))
            time.sleep(0.2)
    finally:
        loris.close()
    assert not failures, f"{len(failures)} requests got no answer during the attack: {failures[:3]}"
    assert len(answers) >= 10, answers
    assert answers == [200] * len(answers), answers
    print(f"{server.name}: {len(answers)} requests answered 200 during the attack; "
          f"slow connections closed by the server: {loris.closed_by_server}")
    if server.name.startswith("apache"):
        # mod_reqtimeout is in force: slow-header connections are dropped (10 s after they are
        # accepted); with only `Timeout 40` none would be within the attack
        assert loris.closed_by_server["header"] > 0, loris.closed_by_server


RECONNECTING = 800          # slow-header connections that reconnect as soon as they are closed
RECONNECT_SECONDS = 30


def test_reconnecting_slow_headers_do_not_starve_apache(apache_server):
    """800 connections from 127.0.0.1 that send a header line every 5 s and reconnect when closed
    (RequestReadTimeout alone only recycles them: every worker stays held, and before mod_qos's
    per-address limit a request from elsewhere waited ~9 s); meanwhile GET /v1/me from 127.0.0.2
    answers 200 within 1 s, every time."""
    server = apache_server
    loris = ReconnectingLoris(server.port, RECONNECTING, interval=5.0)
    probe = Probe(server.port, server.admin_key, source="127.0.0.2", timeout=15.0, pause=0.2)
    loris.start()
    try:
        time.sleep(3)                    # the attack is in place before the first probe
        probe.start()
        time.sleep(RECONNECT_SECONDS - 3)
    finally:
        probe.stop()
        loris.stop()
    print(f"{server.name}: loris {loris.connects} connects, {loris.closed} closed by the server; "
          f"probe from 127.0.0.2: {probe.summary()}")
    # the attack was real: it held connections and the server kept closing them
    assert loris.connects >= RECONNECTING and loris.closed >= RECONNECTING, (loris.connects, loris.closed)
    assert not probe.failures, probe.failures[:5]
    assert len(probe.times) >= 20, probe.summary()
    slow = [round(t, 2) for t in probe.times if t >= 1.0]
    assert not slow, f"answers that took 1 s or more: {slow[:10]} ({probe.summary()})"


def raw_oversize(server, length, send_body):
    """POST with a declared Content-Length of `length`; the body itself only if send_body (a
    server that refuses on the header alone must answer without it; one that reads the body
    first, like lighttpd below its own limit, needs it)."""
    s = socket.create_connection(("127.0.0.1", server.port), timeout=10)
    try:
        s.sendall(b"POST /v1/keys HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n"
                  b"Authorization: Bearer " + server.admin_key.encode() + b"\r\n"
                  b"Content-Type: application/json\r\nContent-Length: " + str(length).encode() +
                  b"\r\n\r\n")
        if send_body:
            s.sendall(b"{" + b" " * (length - 1))
        data = b""
        while True:
            try:
                chunk = s.recv(65536)
            except (ConnectionResetError, socket.timeout):
                break
            if not chunk:
                break
            data += chunk
    finally:
        s.close()
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    headers = {k.strip().lower(): v.strip() for k, v in (l.split(":", 1) for l in lines[1:] if ":" in l)}
    if headers.get("transfer-encoding", "").lower() == "chunked":
        out, rest = b"", body
        while rest:
            size, _, rest = rest.partition(b"\r\n")
            n = int(size, 16)
            if n == 0:
                break
            out, rest = out + rest[:n], rest[n + 2:]
        body = out
    return status, headers, body


def assert_web_server_413(server, length):
    status, headers, body = raw_oversize(server, length, send_body=False)
    assert status == 413, (status, headers, body[:300])
    assert headers.get("content-type", "").startswith("application/json"), headers
    err = json.loads(body)["error"]
    assert err["code"] == "PAYLOAD_TOO_LARGE" and err["status"] == 413, err
    # the web server answered, not latchkey's max_body check (which says "larger than N bytes");
    # lighttpd renders its own 413 through notfound.fcgi (server.error-handler): with a request id
    assert "larger than" not in err["message"], err
    if server.name == "lighttpd":
        assert err["request_id"] == headers.get("x-request-id"), (err, headers)
    else:
        assert "request_id" not in err, "the web server answered, not latchkey"


@pytest.mark.parametrize("length", [1_048_577, 2_000_000, 10**12])
def test_oversize_body_is_json_413(web_server, length):
    """Above the web server's limit (1 MiB lighttpd, 1,000,000 bytes Apache): its own 413, as JSON."""
    assert_web_server_413(web_server, length)


def test_apache_413_below_fcgid_max_request_len(apache_server):
    """Between LimitRequestBody and FcgidMaxRequestLen mod_fcgid would hand latchkey an empty body
    (and behind mod_proxy_fcgi the same Apache limit applies)."""
    assert_web_server_413(apache_server, 1_040_000)


def test_body_over_max_body_is_latchkeys_413(web_server):
    """Between max_body and the web server's limit latchkey answers (with a request id)."""
    server = web_server
    status, headers, body = raw_oversize(server, 100_000, send_body=True)
    assert status == 413
    assert headers.get("content-type", "").startswith("application/json"), headers
    err = json.loads(body)["error"]
    assert err["code"] == "PAYLOAD_TOO_LARGE" and err["request_id"], err
