#!/usr/bin/env python3
"""slowloris.py — the slowloris attack as its tools run it, against the daemon's default limits.

  slowloris.py --daemon build/nnlabd [--seconds 10] [--interval 5] [--json FILE]

Each attacking connection sends a partial request head at once, then one more header line every
--interval seconds, and is opened again the moment the server closes it. Four runs: 300 and 3000
such connections, all from 127.0.0.1 ("one address") or ten per address from 127.1.0.0/16 ("many
addresses"). Meanwhile three probers, each its own process, send GET /healthz and a small POST
/conv in turn, every 50 ms, on fresh connections: one from 127.0.0.1 (the attacker's address in
the one-address runs), one from 127.0.0.2, and one from 127.0.0.3 that waits 100 ms between
connecting and sending (a loaded client, a browser's pre-opened connection). Checks, per run: no probe fails (a reset, a close, a
non-200), the slowest probe answers within 5 s, and libmicrohttpd never reaches its own hard
connection limit (it would close newcomers before the connection guard is asked). Reports the
connections opened, closed by the guard, the daemon's CPU time, and probe latencies."""
import argparse
import json
import multiprocessing as mp
import os
import select
import socket
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import rel  # noqa: E402

HEAD = (b"GET /?x HTTP/1.1\r\nHost: x\r\nUser-Agent: Mozilla/5.0 (slowloris)\r\n"
        b"Accept-language: en\r\n")
CONV = b'{"input":[[[0.1],[0.2]],[[0.3],[0.4]]],"kernel":"box","padding":1}'
PROBES = (b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
          b"POST /conv HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Type: application/json"
          b"\r\nContent-Length: %d\r\n\r\n%s" % (len(CONV), CONV))
SLOWEST_MS = 5000.0


def prober(port, src, seconds, q, delay=0.0):
    lat, fails = [], []
    t0 = time.monotonic()
    while time.monotonic() - t0 < seconds:
        t1 = time.monotonic()
        s = socket.socket()
        try:
            s.bind((src, 0))
            s.settimeout(20)
            s.connect((rel.HOST, port))
            time.sleep(delay)
            s.sendall(PROBES[len(lat) % 2])
            st = rel.read_response(s)[0]
            if st != 200:
                fails.append("status %d" % st)
        except OSError as e:
            fails.append(repr(e))
        finally:
            s.close()
        lat.append((time.monotonic() - t1) * 1e3)
        time.sleep(0.05)
    q.put((src + (" (sends %.0f ms after connecting)" % (delay * 1e3) if delay else ""), lat,
           fails))


def cpu_seconds(pid):
    f = open("/proc/%d/stat" % pid).read().rsplit(")", 1)[1].split()
    return (int(f[11]) + int(f[12])) / os.sysconf("SC_CLK_TCK")


class Attack:
    """n slowloris connections on one poll loop."""

    def __init__(self, port, n, many, interval):
        self.port, self.many, self.interval = port, many, interval
        self.conns, self.opened = {}, 0
        self.poller = select.poll()
        for i in range(n):
            self.open(i)

    def source(self, i):
        if not self.many:
            return rel.HOST
        k = i // 10
        return "127.1.%d.%d" % (k // 250, k % 250 + 1)

    def open(self, i):
        s = socket.socket()
        s.setblocking(False)
        s.bind((self.source(i), 0))
        s.connect_ex((rel.HOST, self.port))
        self.opened += 1
        self.conns[s.fileno()] = [s, i, 0.0, False]  # socket, index, next line, head sent
        self.poller.register(s.fileno(), select.POLLIN | select.POLLOUT)

    def reopen(self, fd):
        s, i = self.conns.pop(fd)[:2]
        self.poller.unregister(fd)
        s.close()
        self.open(i)

    def step(self):
        for fd, ev in self.poller.poll(20):
            c = self.conns.get(fd)
            if not c:
                continue
            dead = False
            if ev & (select.POLLIN | select.POLLHUP | select.POLLERR):
                try:
                    dead = not c[0].recv(4096)
                except OSError:
                    dead = True
            if not dead and ev & select.POLLOUT and not c[3]:
                try:
                    c[0].send(HEAD)
                    c[2], c[3] = time.monotonic() + self.interval, True
                    self.poller.modify(fd, select.POLLIN)
                except OSError:
                    dead = True
            if dead:
                self.reopen(fd)
        now = time.monotonic()
        for c in self.conns.values():
            if c[3] and now >= c[2]:
                try:
                    c[0].send(b"X-a: b\r\n")
                except OSError:
                    pass
                c[2] = now + self.interval

    def close(self):
        for c in self.conns.values():
            c[0].close()


def run(daemon, n, many, seconds, interval):
    d = rel.Daemon(daemon)
    q = mp.Queue()
    probers = [mp.Process(target=prober, args=(d.port, src, seconds, q, delay))
               for src, delay in (("127.0.0.1", 0), ("127.0.0.2", 0), ("127.0.0.3", 0.1))]
    cpu0 = cpu_seconds(d.pid)
    a = Attack(d.port, n, many, interval)
    for p in probers:
        p.start()
    t0 = time.monotonic()
    while time.monotonic() - t0 < seconds:
        a.step()
    results = sorted(q.get() for _ in probers)
    for p in probers:
        p.join()
    cpu = cpu_seconds(d.pid) - cpu0
    evicted = d.metric('nnlab_http_connections_dropped_total{reason="evicted"}')
    a.close()
    where = "from %s" % ("many addresses" if many else "one address")
    rel.log("- %d connections %s, %g s: %d opened, %d closed by the guard, daemon CPU %.1f s"
            % (n, where, seconds, a.opened, evicted or 0, cpu))
    code, err = d.check_clean_exit()
    at_limit = err.count("Server reached connection limit")
    rel.check(at_limit == 0, "libmicrohttpd's hard limit reached %d times" % at_limit)
    row = {"connections": n, "addresses": "many" if many else "one", "seconds": seconds,
           "opened": a.opened, "evicted": evicted, "daemon_cpu_s": round(cpu, 2),
           "hard_limit": at_limit}
    for src, lat, fails in results:
        lat.sort()
        p50, p99, worst = lat[len(lat) // 2], lat[int(len(lat) * 0.99)], lat[-1]
        rel.check(not fails and worst < SLOWEST_MS,
                  "prober %s: %d probes, %d failed %s, p50 %.0f ms, p99 %.0f ms, slowest %.0f ms"
                  % (src, len(lat), len(fails), fails[:2], p50, p99, worst))
        row["prober " + src] = {"probes": len(lat), "failed": len(fails), "p50_ms": round(p50, 1),
                                "p99_ms": round(p99, 1), "max_ms": round(worst, 1)}
    return row


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--daemon", default="build/nnlabd")
    ap.add_argument("--seconds", type=float, default=10)
    ap.add_argument("--interval", type=float, default=5, help="s between header lines")
    ap.add_argument("--json", help="append one JSON line per run to this file")
    a = ap.parse_args()
    rel.log("slowloris: %s, default limits, a header line every %g s" % (a.daemon, a.interval))
    for n in (300, 3000):
        for many in (False, True):
            row = run(a.daemon, n, many, a.seconds, a.interval)
            if a.json:
                with open(a.json, "a") as f:
                    f.write(json.dumps(dict(row, suite="slowloris", time=time.time())) + "\n")
    rel.finish("slowloris")


if __name__ == "__main__":
    main()
