"""A reconnecting slowloris, and a probe that times requests from another loopback address.

ReconnectingLoris keeps N connections to 127.0.0.1:PORT open for as long as it runs: each sends a
request line, then one header line every INTERVAL seconds, and never ends its headers; when the
server closes a connection (RequestReadTimeout, a per-address limit), it connects again at once.
A client that does not reconnect (slowhttptest) loses its grip after the read timeout; this one
does not.

Probe sends GET /v1/me from another source address (127.0.0.2: the whole 127/8 is loopback, so
binding to it needs no set-up) and records how long each answer took.

Run by hand for figures:  /usr/bin/python3 tests/e2e/slowloris.py PORT KEY [CONNECTIONS] [SECONDS]
"""
import asyncio
import http.client
import statistics
import sys
import threading
import time


class ReconnectingLoris:
    def __init__(self, port, connections=800, interval=5.0, host="127.0.0.1"):
        self.port, self.n, self.interval, self.host = port, connections, interval, host
        self.connects = 0        # successful TCP connects
        self.closed = 0          # connections the server closed (or refused after accept)
        self.refused = 0         # connects that failed outright
        self.open_now = 0
        self._loop = asyncio.new_event_loop()
        self._stop = None
        self._thread = threading.Thread(target=self._run, daemon=True)

    def start(self):
        self._thread.start()

    def stop(self):
        if self._stop is not None:
            self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(timeout=30)

    def _run(self):
        asyncio.set_event_loop(self._loop)
        self._loop.run_until_complete(self._main())
        self._loop.close()

    async def _main(self):
        self._stop = asyncio.Event()
        tasks = [asyncio.ensure_future(self._one(i)) for i in range(self.n)]
        await self._stop.wait()
        for t in tasks:
            t.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    async def _one(self, i):
        while not self._stop.is_set():
            try:
                reader, writer = await asyncio.open_connection(self.host, self.port)
            except OSError:
                self.refused += 1
                await asyncio.sleep(0.05)
                continue
            self.connects += 1
            self.open_now += 1
            try:
                writer.write(b"GET /v1/me HTTP/1.1\r\nHost: 127.0.0.1\r\n")
                await writer.drain()
                n = 0
                while True:
                    # a header line every interval; the server's close shows as EOF on read
                    try:
                        data = await asyncio.wait_for(reader.read(4096), self.interval)
                    except asyncio.TimeoutError:
                        data = None
                    if data == b"" or (data and b"HTTP/" in data):
                        break          # closed, or answered (408/503): reconnect
                    n += 1
                    writer.write(b"X-Slow-%d: %d\r\n" % (n, i))
                    await writer.drain()
            except (OSError, asyncio.IncompleteReadError):
                pass
            finally:
                self.open_now -= 1
                self.closed += 1
                writer.close()


class Probe:
    """GET /v1/me from SOURCE every PAUSE seconds, one request per connection; records seconds."""

    def __init__(self, port, key, source="127.0.0.2", timeout=15.0, pause=0.2):
        self.port, self.key, self.source, self.timeout, self.pause = port, key, source, timeout, pause
        self.times, self.failures = [], []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def start(self):
        self._thread.start()

    def stop(self):
        self._stop.set()
        self._thread.join(timeout=self.timeout + 5)

    def once(self):
        t0 = time.monotonic()
        c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=self.timeout,
                                       source_address=(self.source, 0))
        try:
            c.request("GET", "/v1/me", headers={"Authorization": f"Bearer {self.key}",
                                                "Connection": "close"})
            r = c.getresponse()
            r.read()
            status = r.status
        finally:
            c.close()
        return status, time.monotonic() - t0

    def _run(self):
        while not self._stop.is_set():
            try:
                status, secs = self.once()
                if status != 200:
                    self.failures.append(f"status {status} after {secs:.2f}s")
                self.times.append(secs)
            except OSError as e:
                self.failures.append(repr(e))
            self._stop.wait(self.pause)

    def summary(self):
        t = sorted(self.times)
        if not t:
            return "no answers"
        return (f"{len(t)} answers, median {statistics.median(t) * 1000:.1f} ms, "
                f"max {t[-1] * 1000:.1f} ms, failures {len(self.failures)}")


def attack(port, key, connections=800, seconds=30.0, warmup=3.0):
    """Run the loris for SECONDS with the probe started after WARMUP; returns (loris, probe)."""
    loris = ReconnectingLoris(port, connections)
    probe = Probe(port, key)
    loris.start()
    try:
        time.sleep(warmup)
        probe.start()
        time.sleep(max(0.0, seconds - warmup))
    finally:
        probe.stop()
        loris.stop()
    return loris, probe


if __name__ == "__main__":
    port, key = int(sys.argv[1]), sys.argv[2]
    conns = int(sys.argv[3]) if len(sys.argv) > 3 else 800
    secs = float(sys.argv[4]) if len(sys.argv) > 4 else 30.0
    print("baseline:", Probe(port, key).once())
    lo, pr = attack(port, key, conns, secs)
    print(f"loris: {lo.connects} connects, {lo.closed} closed by the server, {lo.refused} refused")
    print("probe from 127.0.0.2:", pr.summary(), pr.failures[:3])
