"""Process helpers for the e2e tests.

A process the tests look at may exit at any moment: between listing /proc and opening a file in
it, between opening and reading (the read then raises ProcessLookupError, not FileNotFoundError),
or before a signal reaches it. Every helper here treats each of those outcomes as "gone" instead
of raising, so a test never fails because a process it was waiting for left at an awkward time.
"""
import os
import time
from pathlib import Path


def read(pid, name, binary=False):
    """/proc/PID/NAME's content, or None when the process is gone (whatever error says so)."""
    try:
        p = Path(f"/proc/{pid}/{name}")
        return p.read_bytes() if binary else p.read_text()
    except OSError:  # FileNotFoundError, ProcessLookupError (ESRCH on read), PermissionError
        return None


def status_field(pid, field):
    """A field of /proc/PID/status ("Uid", "State", "PPid", ...) as text, or None when gone."""
    text = read(pid, "status")
    for line in (text or "").splitlines():
        if line.startswith(field + ":"):
            return line.split(":", 1)[1].strip()
    return None


def alive(pid):
    """True while PID exists and is not a zombie."""
    state = status_field(pid, "State")
    return state is not None and not state.startswith("Z")


def uid_of(pid):
    uid = status_field(pid, "Uid")
    return int(uid.split()[0]) if uid else None


def parent_of(pid):
    stat = read(pid, "stat")
    try:
        return int(stat.rsplit(")", 1)[1].split()[1])
    except (AttributeError, IndexError, ValueError):
        return None


def pids():
    """Every pid in /proc right now (some may be gone by the time they are looked at)."""
    return [int(p.name) for p in Path("/proc").iterdir() if p.name.isdigit()]


def children(pid, comm_prefix=None):
    """Sorted pids of PID's living children (optionally only those whose comm starts with it)."""
    out = []
    for p in pids():
        if parent_of(p) != pid or not alive(p):
            continue
        if comm_prefix is not None and not (read(p, "comm") or "").startswith(comm_prefix):
            continue
        out.append(p)
    return sorted(out)


def signal_quietly(pid, sig):
    """Send SIG to PID; False (not an error) when the process is already gone."""
    try:
        os.kill(pid, sig)
        return True
    except ProcessLookupError:
        return False


def wait_gone(pid, secs):
    """Wait up to SECS for PID to leave; True when it did."""
    deadline = time.time() + secs
    while alive(pid):
        if time.time() >= deadline:
            return False
        time.sleep(0.05)
    return True
