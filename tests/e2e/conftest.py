"""pytest fixtures for the latchkey end-to-end tests (see harness.py).

  stack   (session)  one private MariaDB in a fresh temp VARDIR, `latchkey init`, and the servers
                     lighttpd (FastCGI), apache (mod_fcgid), apache-proxy (mod_proxy_fcgi + latchkey-pool) and cgi
                     (lighttpd + mod_cgi), all running
                     the ASan/UBSan binaries from LATCHKEY_BIN_DIR (default build/asan/bin).
  server  (function) parametrized over ["lighttpd", "apache", "apache-proxy", "cgi"]: stack.servers[name]
                     (.name .base_url .admin_key .root_account .error_logs .access_logs)

Every response to a path under /v1 is checked against docs/openapi.yaml (contract.py): a test
during which one was not as described fails, naming the route, status and field.

At the end of the session every server is stopped (so exit-time LeakSanitizer reports are written)
and the run FAILS if a server error log contains "ERROR: AddressSanitizer", "runtime error:" or
"LeakSanitizer" (reported as an error in the teardown of the last test, with the report).

Run:  /usr/bin/python3 -m pytest tests/e2e -x -q
      LATCHKEY_E2E_SERVERS=lighttpd ...   only some servers;  LATCHKEY_E2E_KEEP=1 ...  keep VARDIR
      LATCHKEY_E2E_CONTRACT_SEEN=FILE ...  list the routes and statuses the run saw, with counts
"""
import collections
import os

import pytest

import contract
import harness

SERVER_NAMES = harness.server_names_from_env()
CONTRACT = contract.install()


def pytest_report_header(config):
    bin_dir = os.environ.get("LATCHKEY_BIN_DIR") or "build/asan/bin"
    return [f"latchkey e2e: binaries {bin_dir}, servers {', '.join(SERVER_NAMES)}"]


@pytest.fixture(scope="session")
def stack(request):
    st = harness.Stack(server_names=SERVER_NAMES)
    try:
        st.start()
    except BaseException:
        st.stop()
        request.config._latchkey_kept = st.vardir
        raise
    request.config._latchkey_stack = st
    yield st

    errors = st.stop()
    report = st.sanitizer_report()
    failed = request.session.testsfailed or report or errors
    if failed or os.environ.get("LATCHKEY_E2E_KEEP"):
        request.config._latchkey_kept = st.vardir
    else:
        st.remove_vardir()
    if report:
        request.config._latchkey_sanitizer_report = report
        pytest.fail(f"sanitizer reports in the server error logs (logs kept in {st.vardir}/log):\n{report}",
                    pytrace=False)
    if errors:
        pytest.fail("stopping the stack failed:\n" + "\n".join(errors), pytrace=False)


@pytest.fixture(params=SERVER_NAMES, ids=SERVER_NAMES)
def server(request, stack):
    return stack.servers[request.param]


def _log_sizes(item):
    st = getattr(item.config, "_latchkey_stack", None)
    sizes = {}
    for path in st.error_log_paths() if st is not None else []:
        try:
            sizes[str(path)] = os.path.getsize(path)
        except OSError:
            sizes[str(path)] = 0
    return sizes


def _log_section(sizes, max_lines=40):
    """What the servers' error logs got while a test ran (the last lines of each)."""
    out = []
    for path, start in sizes.items():
        try:
            with open(path, "rb") as f:
                f.seek(start)
                lines = f.read().decode(errors="replace").splitlines()
        except OSError:
            continue
        if lines:
            out.append(f"== {path} ({len(lines)} lines, the last {min(len(lines), max_lines)})")
            out += lines[-max_lines:]
    return "\n".join(out)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_call(item):
    sizes = _log_sizes(item)
    outcome = yield
    problems = CONTRACT.take()
    if problems:
        msg = "responses not as docs/openapi.yaml describes them:\n  " + "\n  ".join(problems[:20])
        if outcome.excinfo is None:
            pytest.fail(msg, pytrace=False)
        item.add_report_section("call", "contract", msg)
    if outcome.excinfo is not None and sizes:
        section = _log_section(sizes)
        if section:
            item.add_report_section("call", "server error logs during the test", section)


# Under pytest-xdist (`make e2e` runs workers, each with its own stack), each worker sends what its
# contract checker saw to the controller, which reports the run's totals.
WORKERS = {"responses": 0, "seen": collections.Counter(), "problems": [], "sanitizer": False, "kept": []}


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node, error):
    out = getattr(node, "workeroutput", {}).get("latchkey")
    if out is None:
        return
    WORKERS["responses"] += out["responses"]
    for what, status, n in out["seen"]:
        WORKERS["seen"][what, status] += n
    WORKERS["problems"] += out["problems"]
    WORKERS["sanitizer"] |= out["sanitizer"]
    WORKERS["kept"] += [out["kept"]] if out["kept"] else []


def pytest_sessionfinish(session, exitstatus):
    problems = CONTRACT.take() + WORKERS["problems"]
    sanitizer = bool(getattr(session.config, "_latchkey_sanitizer_report", None)) or WORKERS["sanitizer"]
    if hasattr(session.config, "workeroutput"):  # an xdist worker: the controller reports
        session.config.workeroutput["latchkey"] = {
            "responses": CONTRACT.responses, "problems": problems, "sanitizer": sanitizer,
            "kept": str(getattr(session.config, "_latchkey_kept", "") or ""),
            "seen": [(what, status, n) for (what, status), n in CONTRACT.seen.items()]}
    if problems:
        print("\nlatchkey e2e: responses outside the tests not as docs/openapi.yaml describes them:\n  "
              + "\n  ".join(problems[:20]))
        session.exitstatus = 1
    # belt and braces: the stack teardown already failed the last test, but never let a run with
    # sanitizer reports end with exit status 0
    if sanitizer and session.exitstatus == 0:
        session.exitstatus = 1


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    seen = CONTRACT.seen + WORKERS["seen"]
    terminalreporter.write_line(f"latchkey e2e: {CONTRACT.responses + WORKERS['responses']} responses "
                                "under /v1 checked against docs/openapi.yaml")
    if os.environ.get("LATCHKEY_E2E_CONTRACT_SEEN"):  # which routes and statuses the run saw
        with open(os.environ["LATCHKEY_E2E_CONTRACT_SEEN"], "w") as f:
            for (what, status), n in sorted(seen.items()):
                f.write(f"{n:6d} {status} {what}\n")
    for kept in [getattr(config, "_latchkey_kept", None)] + WORKERS["kept"]:
        if kept:
            terminalreporter.write_line(f"latchkey e2e: logs and database kept in {kept}")
