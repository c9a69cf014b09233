#!/usr/bin/env python3
"""slow_clients.py — slow, stalled, greedy, vanishing and malformed clients.

  slow_clients.py --daemon build/san/nnlabd            # sanitizer build (in make test)
  slow_clients.py --daemon build/nnlabd --valgrind     # under valgrind --leak-check=full
  slow_clients.py --load 4 --only slowloris            # one scenario, 4 busy processes around

The daemon runs with --timeout 3 (inactivity) and --max-body 1 MiB. While the scenarios run, a
prober polls GET /healthz every 100 ms on fresh connections: it must never fail and its slowest
answer must stay under PROBE_MAX_MS — that is "others are unaffected". Scenarios:
  stalled headers / stalled body      -> connection closed by the inactivity timeout
  slowloris (300 trickling connections, reconnecting when closed, all at once every 2 s)
                                    -> the prober and a small /conv every 0.5 s are unaffected
  training stream never read          -> others unaffected; after disconnect the gauge is 0
  disconnect mid-upload (x20)         -> in-flight gauge back to 0
  disconnect mid-stream (x3 models)   -> nnlab_trainings_active back to 0 within 1.5 s
  pipelined requests                  -> all answered, in order, on one connection
  malformed HTTP (bad request line, bad version, huge header, bad Content-Length, bad chunked
  encoding, NUL bytes)                -> a 4xx (or 505) answer or a close, within 5 s
  chunked upload over the body limit  -> 413 (or a close) before the whole body is sent
  connection flood beyond --max-connections -> the daemon recovers once they close
Finally SIGTERM: exit code 0 and no sanitizer (or valgrind) error."""
import argparse
import json
import os
import socket
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import rel  # noqa: E402

TIMEOUT_S = 3
MAX_CONN = 64
PROBE_MAX_MS = 500.0
SLOW = 1.0  # multiplied into every deadline (valgrind: x10)


class Conn:
    """A raw client connection with its own read buffer (for pipelining)."""

    def __init__(self, port, timeout=10):
        self.s = socket.create_connection((rel.HOST, port), timeout=timeout)
        self.buf = b""

    def send(self, data):
        self.s.sendall(data if isinstance(data, bytes) else data.encode())

    def _fill(self):
        d = self.s.recv(65536)
        if not d:
            raise ConnectionError("closed")
        self.buf += d

    def response(self):
        while b"\r\n\r\n" not in self.buf:
            self._fill()
        head, self.buf = self.buf.split(b"\r\n\r\n", 1)
        status, hdrs = rel.parse_head(head)
        n = int(hdrs.get("content-length", "0"))
        while len(self.buf) < n:
            self._fill()
        body, self.buf = self.buf[:n], self.buf[n:]
        return status, hdrs, body

    def closed_within(self, seconds):
        """True if the server closes (or resets) the connection within `seconds`; any response
        bytes it sends first are kept in self.buf."""
        self.s.settimeout(0.2)
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            try:
                d = self.s.recv(65536)
                if not d:
                    return True
                self.buf += d
            except socket.timeout:
                continue
            except OSError:
                return True
        return False

    def close(self):
        try:
            self.s.close()
        except OSError:
            pass


def post_head(path, length, extra=""):
    return ("POST %s HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            "Content-Length: %d\r\n%s\r\n" % (path, length, extra))


def status_of(buf):
    if buf.startswith(b"HTTP/1."):
        try:
            return int(buf.split()[1])
        except (IndexError, ValueError):
            return None
    return None


def wait_gauge(d, name, want, seconds):
    t0 = time.monotonic()
    v = None
    while time.monotonic() - t0 < seconds:
        v = d.metric(name)
        if v == want:
            return True, time.monotonic() - t0, v
        time.sleep(0.05)
    return False, time.monotonic() - t0, v


def stalled(d):
    c = Conn(d.port)
    c.send("POST /conv HTTP/1.1\r\nHost: x\r\nContent-Ty")
    t0 = time.monotonic()
    ok = c.closed_within((TIMEOUT_S + 3) * SLOW)
    rel.check(ok, "stalled headers: closed after %.1f s (timeout %d s)"
              % (time.monotonic() - t0, TIMEOUT_S))
    c.close()
    c = Conn(d.port)
    c.send(post_head("/conv", 10000) + '{"input": [[[0.1')
    t0 = time.monotonic()
    ok = c.closed_within((TIMEOUT_S + 3) * SLOW)
    st = status_of(c.buf)
    rel.check(ok and (st is None or 400 <= st < 500),
              "stalled body: closed after %.1f s (answer: %s)" % (time.monotonic() - t0, st))
    c.close()


def slowloris(d, n=300, seconds=8, wave=2.0):
    """n connections each send one header byte every 2 s and reconnect when closed, as an attacker
    would; every `wave` seconds all of them reconnect at once (the attack tool restarted), so
    hundreds of connections are closed at a time. Meanwhile the prober's /healthz and a small
    /conv every 0.5 s must still answer promptly. The connection guard closes waiting
    connections, slow ones first, to keep --reserve-connections slots free."""
    trickle = b"GET /healthz HTTP/1.1\r\nX-Slow: " + b"a" * 200
    conns = [[Conn(d.port), 0] for _ in range(n)]
    reopened = 0
    conv = rel.sample_bodies()["conv"]
    worst, convs, bad, t0, i = 0.0, 0, [], time.monotonic(), 0
    next_conv, next_wave = t0, t0 + wave
    while time.monotonic() - t0 < seconds * SLOW:
        if time.monotonic() >= next_wave:
            for c in conns:
                c[0].close()
            conns = [[Conn(d.port), 0] for _ in range(n)]
            reopened += n
            next_wave += wave
        c = conns[i % n]
        try:
            c[0].s.setblocking(False)
            c[0].s.send(trickle[c[1] % len(trickle):][:1])
            c[1] += 1
        except OSError:
            c[0].close()
            conns[i % n] = [Conn(d.port), 0]
            reopened += 1
        i += 1
        if time.monotonic() >= next_conv:
            t1 = time.monotonic()
            try:
                st = rel.request("POST", d.port, "/conv", conv, timeout=5 * SLOW)[0]
            except OSError as e:
                st = repr(e)
            worst = max(worst, (time.monotonic() - t1) * 1e3)
            if st != 200:
                bad.append(st)
            convs += 1
            next_conv += 0.5
        time.sleep(2.0 / n)
    try:
        dropped = d.metric('nnlab_http_connections_dropped_total{reason="evicted"}')
    except OSError as e:  # a daemon without room for newcomers resets this request too
        dropped = None
        bad.append("/metrics: %r" % e)
    for c in conns:
        c[0].close()
    rel.log("  slowloris: %d trickling connections for %d s, %d reopened, %s evicted"
            % (n, seconds, reopened, dropped))
    rel.check(convs > 0 and not bad and worst < PROBE_MAX_MS * 2,
              "slowloris: %d small /conv meanwhile, slowest %.1f ms, failures %s"
              % (convs, worst, bad[:3]))


def never_reads(d):
    body = json.dumps({"samples": 3000, "test_samples": 100, "epochs": 100, "hidden_size": 8,
                       "report_every": 1, "seed": 3}).encode()
    c = Conn(d.port)
    c.s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    c.send(post_head("/train/gru", len(body)).encode() + body)
    time.sleep(4 * SLOW)  # the server's send buffer fills; it must not block anyone else
    st, _, resp = rel.request("POST", d.port, "/pool", rel.sample_bodies()["pool"],
                              timeout=10 * SLOW)
    rel.check(st == 200, "a /pool request is answered while a stream is not being read (%d)" % st)
    c.close()
    ok, t, v = wait_gauge(d, "nnlab_trainings_active", 0, 5 * SLOW)
    rel.check(ok, "never-read stream: trainings gauge back to 0 %.2f s after disconnect (%s)"
              % (t, v))


def mid_upload(d):
    for i in range(20):
        c = Conn(d.port)
        c.send(post_head("/conv", 500000) + '{"input": {"shape": [100, 100, 3], "data": [' +
               "0.5, " * 5000)
        c.close()
    ok, t, v = wait_gauge(d, "nnlab_http_requests_in_flight", 1, 5 * SLOW)  # the /metrics itself
    rel.check(ok, "disconnect mid-upload x20: in-flight gauge back to 1 (only /metrics) (%s)" % v)


def mid_stream(d):
    for model in ("rnn", "lstm", "gru"):
        body = json.dumps({"samples": 3000, "epochs": 50, "hidden_size": 8, "report_every": 10,
                           "seed": 5}).encode()
        c = Conn(d.port)
        c.send(post_head("/train/" + model, len(body)).encode() + body)
        c.s.settimeout(10 * SLOW)
        while b"progress" not in c.buf:
            c._fill()
        rel.check(status_of(c.buf) == 200, "mid-stream %s: stream started" % model)
        c.close()
        ok, t, v = wait_gauge(d, "nnlab_trainings_active", 0, 3 * SLOW)
        rel.check(ok and t < 1.5 * SLOW, "disconnect mid-stream (%s): trainings gauge 0 after "
                  "%.2f s" % (model, t))


def pipelined(d):
    pool = rel.sample_bodies()["pool"]
    c = Conn(d.port)
    reqs = ("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n" +
            post_head("/pool", len(pool))).encode() + pool + (
        "GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n"
        "GET /nope HTTP/1.1\r\nHost: x\r\n\r\n").encode()  # errors close: keep it last
    c.send(reqs)
    got = []
    try:
        for _ in range(4):
            got.append(c.response()[0])
    except OSError as e:
        got.append(repr(e))
    c.close()
    rel.check(got == [200, 200, 200, 404], "pipelined 4 requests on one connection: %s" % got)


MALFORMED = [
    ("bad request line", b"GARBAGE\r\n\r\n"),
    ("bad method token", b"G(ET / HTTP/1.1\r\nHost: x\r\n\r\n"),
    ("bad version", b"GET /healthz HTTP/9.9\r\nHost: x\r\n\r\n"),
    ("no Host (HTTP/1.1)", b"GET /healthz HTTP/1.1\r\n\r\n"),  # 200 (lenient) or 400
    ("header without colon", b"GET /healthz HTTP/1.1\r\nHost: x\r\nBROKEN\r\n\r\n"),
    ("huge header (100 KiB)", b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 102400 +
     b"\r\n\r\n"),
    ("10000 headers", b"GET /healthz HTTP/1.1\r\nHost: x\r\n" +
     b"".join(b"X-H%d: v\r\n" % i for i in range(10000)) + b"\r\n"),
    ("negative Content-Length", b"POST /conv HTTP/1.1\r\nHost: x\r\nContent-Length: -5\r\n\r\n{}"),
    ("huge Content-Length", b"POST /conv HTTP/1.1\r\nHost: x\r\nContent-Length: "
     b"99999999999999999999\r\n\r\n{}"),
    ("two Content-Lengths", b"POST /conv HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n"
     b"Content-Length: 7\r\n\r\n{}"),
    ("gzip transfer coding", b"POST /conv HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip\r\n\r\n"
     b"\x1f\x8b\x08\x00"),
    ("bad chunk size", b"POST /conv HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
     b"zz\r\n{}\r\n0\r\n\r\n"),
    ("chunk size overflow", b"POST /conv HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
     b"ffffffffffffffffff\r\n{}\r\n0\r\n\r\n"),
    ("NUL in request line", b"GET /heal\x00thz HTTP/1.1\r\nHost: x\r\n\r\n"),
    ("binary garbage", bytes((i * 89 + 1) & 255 for i in range(4096))),
]


def malformed(d):
    for name, raw in MALFORMED:
        c = Conn(d.port)
        t0 = time.monotonic()
        try:
            c.send(raw)
        except OSError:
            pass  # the server may close while we are still sending
        closed = c.closed_within(5 * SLOW)
        st = status_of(c.buf)
        answered = st is not None and (400 <= st < 500 or st in (501, 505) or
                                       (st == 200 and name.startswith("no Host")))
        rel.check(answered or (closed and st is None),
                  "malformed: %-24s -> %s%s in %.2f s" % (name, st if st else "closed",
                                                         "" if closed else " (kept open)",
                                                         time.monotonic() - t0))
        c.close()


def chunked_over_limit(d):
    c = Conn(d.port)
    c.send("POST /conv HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
           "Transfer-Encoding: chunked\r\n\r\n")
    piece = b"1000\r\n" + b" " * 4096 + b"\r\n"
    sent = 0
    st = None
    c.s.settimeout(0.001)
    try:
        for _ in range(1024):  # up to 4 MiB, four times the limit
            c.s.settimeout(5 * SLOW)
            c.s.sendall(piece)
            sent += 4096
            c.s.settimeout(0.0)
            try:
                d_ = c.s.recv(65536)
                if d_ == b"":
                    break
                c.buf += d_
                if b"\r\n\r\n" in c.buf:
                    break
            except (BlockingIOError, socket.timeout):
                pass
    except OSError:
        pass
    c.s.settimeout(5 * SLOW)
    try:
        while b"\r\n\r\n" not in c.buf:
            x = c.s.recv(65536)
            if not x:
                break
            c.buf += x
    except OSError:
        pass
    st = status_of(c.buf)
    rel.check((st == 413 or st is None) and sent < 4 << 20,
              "chunked upload over the 1 MiB limit: %s after %d KiB sent" % (st or "closed",
                                                                            sent // 1024))
    c.close()


def flood(d):
    conns = []
    for _ in range(MAX_CONN + 16):
        try:
            conns.append(Conn(d.port, timeout=2))
        except OSError:
            break
    time.sleep(0.5)
    for c in conns:
        c.close()
    t0 = time.monotonic()
    ok = False
    while time.monotonic() - t0 < 5 * SLOW:
        try:
            if rel.request("GET", d.port, "/healthz", timeout=2)[0] == 200:
                ok = True
                break
        except OSError:
            pass
        time.sleep(0.05)
    rel.check(ok, "%d idle connections (limit %d): healthy again %.2f s after they closed"
              % (len(conns), MAX_CONN, time.monotonic() - t0))


def main():
    global SLOW
    ap = argparse.ArgumentParser()
    ap.add_argument("--daemon", default="build/san/nnlabd")
    ap.add_argument("--valgrind", action="store_true")
    ap.add_argument("--load", type=int, default=0, metavar="N",
                    help="keep N busy-looping processes running throughout (a loaded machine)")
    ap.add_argument("--only", metavar="NAME", help="run only this scenario (e.g. slowloris)")
    a = ap.parse_args()
    wrapper = ()
    if a.valgrind:
        SLOW = 10.0
        wrapper = ("valgrind", "--leak-check=full", "--error-exitcode=1", "--errors-for-leak-kinds=definite,indirect",
                   "--show-leak-kinds=definite,indirect", "-q")
    global PROBE_MAX_MS
    if a.valgrind:
        # valgrind runs one thread at a time: a compute thread can hold the CPU for seconds, so
        # only failures are judged there, with a generous bound on the slowest probe
        PROBE_MAX_MS = 30000.0
    elif a.load:
        # every thread waits for a core behind the spinners: latency is not judged beyond
        # "answered within a few seconds", failures are
        PROBE_MAX_MS = 5000.0
    rel.log("slow_clients: %s%s%s" % (a.daemon, " under valgrind" if a.valgrind else "",
                                      " with %d busy processes" % a.load if a.load else ""))
    with rel.CpuLoad(a.load):
        run(a, wrapper)
    rel.finish("slow_clients")


def run(a, wrapper):
    d = rel.Daemon(a.daemon, ["--timeout", str(TIMEOUT_S), "--max-body", str(1 << 20),
                              "--max-connections", str(MAX_CONN), "--max-trainings", "2"],
                   wrapper=wrapper)
    try:
        probe = rel.Prober(d.port, timeout=5 * SLOW)
        probe.start()
        scenarios = [stalled, slowloris, never_reads, mid_upload, mid_stream, pipelined,
                     malformed, chunked_over_limit]
        if a.valgrind:
            scenarios = [stalled, never_reads, mid_upload, mid_stream, pipelined, malformed,
                         chunked_over_limit]
        if a.only:
            scenarios = [sc for sc in scenarios + [flood] if sc.__name__ == a.only]
            if not scenarios:
                raise SystemExit("no scenario named %s" % a.only)
        for sc in scenarios:
            rel.log("- " + sc.__name__)
            sc(d)
        probe.stop()
        rel.check(not probe.fail, "prober: %d /healthz probes, %d failures %s"
                  % (len(probe.lat), len(probe.fail), probe.fail[:3]))
        rel.check(probe.max_ms() < PROBE_MAX_MS, "prober: slowest /healthz %.1f ms, p99 %.1f ms "
                  "(< %.0f ms)" % (probe.max_ms(), probe.p99_ms(), PROBE_MAX_MS))
        if not a.only:
            rel.log("- flood")
            flood(d)
    finally:
        code, err = d.check_clean_exit()
        if a.valgrind:
            vg = [l for l in err.splitlines() if l.startswith("==")]
            rel.check(not vg, "valgrind: no errors or leaks reported (%d '==' lines)" % len(vg))
            if vg:
                rel.log("\n".join(vg[:80]))


if __name__ == "__main__":
    main()
