"""Test tools for webhooks: a loopback receiver, the delivery worker, the standardwebhooks check."""
import json
import os
import signal
import subprocess
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from harness import free_port

VERIFY_JS = Path(__file__).with_name("stdwh_verify.js")


class Receiver:
    """An HTTP server on 127.0.0.1 recording every POST (headers, body). `statuses` is a list of
    statuses to answer in turn (then 200); `hold` (threading.Event) makes a request wait for it."""

    def __init__(self, port=None):
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}/hook"
        self.got = []
        self.statuses = []
        self.hold = None
        self.arrived = threading.Event()
        self._srv = None

    def start(self):
        rec = self

        class H(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0)).decode()
                rec.got.append({"headers": {k.lower(): v for k, v in self.headers.items()},
                                "body": body})
                rec.arrived.set()
                if rec.hold is not None:
                    rec.hold.wait(30)
                status = rec.statuses.pop(0) if rec.statuses else 200
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *a):
                pass

        self._srv = ThreadingHTTPServer(("127.0.0.1", self.port), H)
        self._srv.daemon_threads = True
        threading.Thread(target=self._srv.serve_forever, daemon=True).start()
        return self

    def stop(self):
        if self._srv:
            self._srv.shutdown()
            self._srv.server_close()
            self._srv = None

    def by_id(self):
        ids = {}
        for d in self.got:
            ids.setdefault(d["headers"]["webhook-id"], []).append(d)
        return ids


def verify(deliveries, secret):
    """standardwebhooks' Webhook(secret).verify of each delivery: True or the library's error."""
    if not (VERIFY_JS.parent.parent.parent / "build/npm/node_modules/standardwebhooks").is_dir():
        raise RuntimeError("npm standardwebhooks is missing: run "
                           "make build/npm/node_modules/standardwebhooks/package.json")
    cases = [{"secret": secret, "headers": d["headers"], "body": d["body"]} for d in deliveries]
    r = subprocess.run(["node", str(VERIFY_JS)], input=json.dumps(cases), capture_output=True,
                       text=True, timeout=60, check=True)
    return json.loads(r.stdout)


class Worker:
    """latchkey-deliver (the stack's build) with the stack's config, or conf."""

    def __init__(self, stack, conf=None):
        self.stack = stack
        self.log = open(Path(stack.vardir) / "log" / "deliver.log", "a")
        self.proc = subprocess.Popen([str(Path(stack.bin_dir) / "latchkey-deliver"),
                                      "--config", str(conf or stack.conf_path)],
                                     env=stack.env, stdout=self.log, stderr=self.log)

    def kill(self):
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(10)

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.kill()
        self.log.close()


def wait_for(cond, timeout=30, what="condition"):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        v = cond()
        if v:
            return v
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def no_private_conf(stack):
    """A copy of the stack's config with webhook_allow_private off (the production default)."""
    text = Path(stack.conf_path).read_text().replace("webhook_allow_private = yes",
                                                     "webhook_allow_private = no")
    path = Path(stack.vardir) / "latchkey-noprivate.conf"
    path.write_text(text)
    os.chmod(path, 0o600)
    return path
