#!/usr/bin/env python3
"""load.py — sustained load with wrk on loopback.

  load.py --daemon build/nnlabd [--seconds 60] [--connections 64] [--threads 2] [--json FILE]

1. Starts nnlabd on a free 127.0.0.1 port (--max-trainings 2).
2. Runs wrk for --seconds at --connections on a mix of POST /conv (64x64 PNG, Sobel),
   /pool (32x32x3), /mlp (64 -> 32 -> 32 -> 10) and GET /healthz (load.lua), while VmRSS is
   sampled every second from /proc/PID/status.
   Checks: every response 2xx (zero 5xx, zero 4xx), zero socket errors (connect, read, write,
   timeout), RSS flat (rel.rss_flat: last-10-s median <= first-10-s median + max(16 MiB, 10%)).
3. Saturates trainings: max_trainings + 2 streamed trainings at once. Checks: exactly
   max_trainings get 200 and stream, the others get 503 + Retry-After within 2 s (no hang);
   after the clients disconnect, nnlab_trainings_active returns to 0 within 3 s.
4. SIGTERM: exit code 0, no sanitizer report.
"""
import argparse
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import rel  # noqa: E402

MAX_TRAININGS = 2


def run_wrk(port, seconds, conns, threads, bodydir):
    lua = os.path.join(os.path.dirname(os.path.abspath(__file__)), "load.lua")
    cmd = ["wrk", "-t%d" % threads, "-c%d" % conns, "-d%ds" % seconds, "--timeout", "10s",
           "--latency", "-s", lua, "http://%s:%d" % (rel.HOST, port), "--", bodydir]
    rel.log("  $ " + " ".join(cmd))
    out = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=seconds + 60)
    text = out.stdout.decode(errors="replace")
    res = None
    for line in text.splitlines():
        if line.startswith("WRKJSON "):
            res = json.loads(line[len("WRKJSON "):])
    if res is None:
        rel.log(text)
    return res, text


def saturate(d):
    """max_trainings + 2 concurrent streamed trainings."""
    # long enough (millions of steps) to be still running when the last one arrives
    body = json.dumps({"samples": 20000, "test_samples": 100, "epochs": 100, "hidden_size": 32,
                       "report_every": 500, "seed": 1, "stream": True}).encode()
    socks, results = [], []
    for i in range(MAX_TRAININGS + 2):
        s = socket.create_connection((rel.HOST, d.port), timeout=10)
        s.sendall(("POST /train/lstm HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                   "Content-Length: %d\r\n\r\n" % len(body)).encode() + body)
        socks.append(s)
        time.sleep(0.2)  # let each one start before the next arrives
    for s in socks:
        t0 = time.monotonic()
        buf = b""
        try:
            while b"\r\n\r\n" not in buf:
                chunk = s.recv(4096)
                if not chunk:
                    break
                buf += chunk
        except socket.timeout:
            pass
        ms = (time.monotonic() - t0) * 1000
        head = buf.split(b"\r\n\r\n")[0].decode("latin-1")
        status = int(head.split()[1]) if head.startswith("HTTP/") else None
        retry = "retry-after:" in head.lower()
        results.append((status, retry, ms))
    ok = [r for r in results if r[0] == 200]
    busy = [r for r in results if r[0] == 503]
    rel.check(len(ok) == MAX_TRAININGS, "%d trainings accepted (want %d): %s"
              % (len(ok), MAX_TRAININGS, results))
    rel.check(len(busy) == 2 and all(r[1] for r in busy),
              "the 2 extra trainings got 503 with Retry-After")
    rel.check(all(r[2] < 2000 for r in results), "every training answered its headers in < 2 s")
    gauge = d.metric("nnlab_trainings_active")
    rel.check(gauge == MAX_TRAININGS, "nnlab_trainings_active == %d while running (got %s)"
              % (MAX_TRAININGS, gauge))
    for s in socks:
        s.close()
    t0 = time.monotonic()
    while time.monotonic() - t0 < 3 and d.metric("nnlab_trainings_active") != 0:
        time.sleep(0.05)
    g = d.metric("nnlab_trainings_active")
    rel.check(g == 0, "nnlab_trainings_active back to 0 %.2f s after the clients left (got %s)"
              % (time.monotonic() - t0, g))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--daemon", default="build/nnlabd")
    ap.add_argument("--seconds", type=int, default=60)
    ap.add_argument("--connections", type=int, default=64)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--json", help="append the measured figures to this file (JSON line)")
    a = ap.parse_args()
    rel.log("load: %s, %d s, %d connections" % (a.daemon, a.seconds, a.connections))
    d = rel.Daemon(a.daemon, ["--max-trainings", str(MAX_TRAININGS)])
    bodydir = tempfile.mkdtemp(prefix="nnlab-load-")
    try:
        bodies = rel.sample_bodies()
        for name, b in bodies.items():
            with open(os.path.join(bodydir, name + ".json"), "wb") as f:
                f.write(b)
            st, _, resp = rel.request("POST", d.port, "/" + name, b)
            rel.check(st == 200, "sanity: POST /%s -> %d %s" % (name, st, resp[:200]))
        sampler = rel.RssSampler(d)
        sampler.start()
        res, text = run_wrk(d.port, a.seconds, a.connections, a.threads, bodydir)
        samples = sampler.stop()
        if not rel.check(res is not None, "wrk produced its summary"):
            rel.finish("load")
        rel.log("  wrk: %d requests, %.0f req/s, p50 %.2f ms, p99 %.2f ms, max %.2f ms"
                % (res["requests"], res["rps"], res["p50_ms"], res["p99_ms"], res["max_ms"]))
        rel.check(res["requests"] > 0, "requests served: %d" % res["requests"])
        rel.check(res["s5xx"] == 0, "zero 5xx (got %d)" % res["s5xx"])
        rel.check(res["s4xx"] == 0 and res["sother"] == 0,
                  "every response 2xx (4xx %d, other %d)" % (res["s4xx"], res["sother"]))
        errs = {k: res[k] for k in ("err_connect", "err_read", "err_write", "err_timeout")}
        rel.check(sum(errs.values()) == 0, "zero socket errors %s" % errs)
        flat, first, last, tol = rel.rss_flat(samples)
        rel.check(flat, "RSS flat: first-10s median %.1f MiB, last-10s median %.1f MiB, "
                  "tolerance %.1f MiB (%d samples)" % (first / 1024, last / 1024, tol / 1024,
                                                       len(samples)))
        saturate(d)
        if a.json:
            with open(a.json, "a") as f:
                f.write(json.dumps({"suite": "load", "daemon": a.daemon, "seconds": a.seconds,
                                    "connections": a.connections, "wrk": res,
                                    "rss_first_mib": round(first / 1024, 1),
                                    "rss_last_mib": round(last / 1024, 1),
                                    "rss_max_mib": round(max(samples) / 1024, 1)}) + "\n")
    finally:
        shutil.rmtree(bodydir, ignore_errors=True)
        d.check_clean_exit()
    rel.finish("load")


if __name__ == "__main__":
    main()
