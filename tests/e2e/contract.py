"""The API contract check: every response the e2e suite receives under /v1 must be described by
docs/openapi.yaml.

install() loads and compiles the description once per session and wraps requests.Session.send,
the one call every request of the `requests` library goes through (requests.get, call(),
sessions). For a response to a path under /v1 it checks

  - the route: the path matches a path of the description, else the answer must be the one
    `x-unmatched.path` names (404); the method is one the path lists, else `x-unmatched.method`
    (405);
  - the status: one of the operation's responses (an undescribed status fails);
  - the headers the response names: present when required, and their values against their schemas;
  - the body: a described media type, and the JSON against the schema (objects in the description
    are closed, so an undescribed field fails); no body where none is described.

Problems are collected (a test may catch exceptions, and requests run in threads too) and
conftest.py fails the test during which they were seen. Checks use Debian's python3-jsonschema
(Draft 2020-12, the dialect of OpenAPI 3.1) and python3-yaml.
"""
import collections
import json
import pathlib
import re
import threading
import urllib.parse

import jsonschema
import requests
import yaml

SPEC = pathlib.Path(__file__).resolve().parents[2] / "docs" / "openapi.yaml"
METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")


def _in_v1(path):
    return path == "/v1" or path.startswith("/v1/")


class Contract:
    def __init__(self, spec_path=SPEC):
        with open(spec_path, encoding="utf-8") as f:
            self.doc = yaml.load(f, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
        self.resolver = jsonschema.RefResolver.from_schema(self.doc)
        self.validators = {}
        self.routes = []
        for template, item in self.doc["paths"].items():
            rx = re.escape(template)
            for name in re.findall(r"\{(\w+)\}", template):
                rx = rx.replace(re.escape("{" + name + "}"), "[^/]+")
            literal = len(re.sub(r"\{\w+\}", "", template))
            self.routes.append((re.compile(rx + r"\Z"), literal, template, item))
        self.routes.sort(key=lambda r: -r[1])  # a literal segment wins over a parameter
        unmatched = self.doc["x-unmatched"]
        self.unmatched_path = self.deref(unmatched["path"])
        self.unmatched_method = self.deref(unmatched["method"])
        self.problems = []
        self.lock = threading.Lock()
        self.responses = 0
        self.seen = collections.Counter()  # (route, status): how often, for coverage

    def deref(self, obj):
        while isinstance(obj, dict) and "$ref" in obj:
            _, obj = self.resolver.resolve(obj["$ref"])
        return obj

    def validator(self, schema):
        """The compiled validator of a schema of self.doc (which lives as long: ids stay unique)."""
        v = self.validators.get(id(schema))
        if v is None:
            v = self.validators[id(schema)] = jsonschema.Draft202012Validator(schema, resolver=self.resolver)
        return v

    def expected(self, method, path):
        """(what, {status: response object}) for a request."""
        for rx, _, template, item in self.routes:
            if rx.match(path):
                op = item.get(method.lower()) if method.lower() in METHODS else None
                if op is None:
                    return f"{method} {template} (not described: 405)", {"405": self.unmatched_method}
                return f"{method} {template}", {s: self.deref(r) for s, r in op["responses"].items()}
        return f"{method} {path} (no such route: 404)", {"404": self.unmatched_path}

    def check(self, method, path, status, headers, body, with_body=True):
        """The problems of one response, as strings (empty: it is as described)."""
        what, responses = self.expected(method, path)
        with self.lock:
            self.seen[what, status] += 1
        resp = responses.get(str(status))
        if resp is None:
            return [f"{what}: status {status} is not described (described: {', '.join(sorted(responses))})"]
        out = []
        for name, h in (resp.get("headers") or {}).items():
            h = self.deref(h)
            value = headers.get(name)
            if value is None:
                if h.get("required"):
                    out.append(f"{what} -> {status}: header {name} missing")
                continue
            schema = h.get("schema", {})
            if schema.get("type") == "integer":
                try:
                    value = int(value)
                except ValueError:
                    pass
            out += [f"{what} -> {status}: header {name}: {e.message}"
                    for e in self.validator(schema).iter_errors(value)]
        content = resp.get("content")
        if not with_body:
            return out
        if not content:
            if body:
                out.append(f"{what} -> {status}: a body where none is described: {body[:200]!r}")
            return out
        ctype = headers.get("Content-Type", "").split(";")[0].strip().lower()
        media = content.get(ctype)
        if media is None:
            return out + [f"{what} -> {status}: Content-Type {ctype!r} is not described ({', '.join(content)})"]
        try:
            doc = json.loads(body)
        except ValueError:
            return out + [f"{what} -> {status}: the body is not JSON: {body[:200]!r}"]
        for e in self.validator(media["schema"]).iter_errors(doc):
            where = "/".join(str(p) for p in e.absolute_path) or "(body)"
            out.append(f"{what} -> {status}: {where}: {e.message[:300]}")
        return out

    def observe(self, response, streamed=False):
        """Check one requests.Response if it answers a path under /v1; collect its problems.
        A streamed body belongs to the test: then only the status and headers are checked."""
        req = response.request
        path = urllib.parse.urlsplit(req.url).path
        if not _in_v1(path):
            return
        try:
            problems = self.check(req.method, path, response.status_code, response.headers,
                                  b"" if streamed else response.content,
                                  with_body=not streamed and req.method != "HEAD")
        except Exception as e:  # the check itself must never break a test's request
            problems = [f"{req.method} {path}: the contract check failed: {e!r}"]
        with self.lock:
            self.responses += 1
            self.problems.extend(problems)

    def take(self):
        """The problems seen since the last call."""
        with self.lock:
            out, self.problems = self.problems, []
        return out


def install(spec_path=SPEC):
    """Load the description and wrap requests.Session.send; returns the Contract."""
    contract = Contract(spec_path)
    send = requests.Session.send

    def checked_send(self, request, **kwargs):
        response = send(self, request, **kwargs)
        contract.observe(response, streamed=bool(kwargs.get("stream")))
        return response

    requests.Session.send = checked_send
    return contract
