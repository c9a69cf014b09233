#!/usr/bin/env python3
"""soak.py — bounded mixed load for a configurable time, normally on the sanitizer build.

  soak.py --daemon build/san/nnlabd --seconds 600 [--json FILE]

Workers, all on 127.0.0.1, running until the time is up:
  2 x compute: POST /conv, /pool, /mlp (valid, expect 200) and now and then an invalid request
               (expect 400) — in a loop;
  1 x trainer: streamed trainings (rnn/lstm/gru in turn) read to the end: last line "done";
  1 x canceller: starts a streamed training, reads the first progress line, disconnects;
  1 x prober:   GET /healthz every 200 ms;
  RSS sampled every second.
Checks at the end: no response outside 200 / the expected 400 / 503 (+Retry-After), no failed
probe, every full training ended with "done", nnlab_trainings_active back to 0, RSS flat
(rel.rss_flat), and after SIGTERM exit code 0 and no ASan/LSan/UBSan report in stderr.
With --no-rss-check (used for the sanitizer build, whose allocator keeps freed memory in
quarantine and a record of every finished connection thread, so its RSS creeps up by design) the
RSS figures are printed but not judged; `make soak` judges RSS on a release-build run instead."""
import argparse
import collections
import json
import os
import socket
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import rel  # noqa: E402

LOCK = threading.Lock()
STATS = collections.Counter()
BAD = []


def note(key, problem=None):
    with LOCK:
        STATS[key] += 1
        if problem and len(BAD) < 20:
            BAD.append(problem)


def compute_worker(port, stop, seed):
    bodies = rel.sample_bodies()
    i = seed
    while not stop.is_set():
        i += 1
        name = ("conv", "pool", "mlp")[i % 3]
        try:
            if i % 10 == 0:
                st, h, resp = rel.request("POST", port, "/" + name, b'{"input": [1, 2,', timeout=60)
                ok = st == 400 and rel.is_error_json(resp, st)
                note("bad_request_400" if ok else "unexpected", None if ok else
                     "invalid /%s -> %d %s" % (name, st, resp[:120]))
                continue
            st, h, resp = rel.request("POST", port, "/" + name, bodies[name], timeout=60)
            if st == 200:
                note("ok_200")
            elif st == 503 and "retry-after" in h:
                note("busy_503")
            else:
                note("unexpected", "/%s -> %d %s" % (name, st, resp[:120]))
        except OSError as e:
            note("unexpected", "/%s: %r" % (name, e))


def train_body(seed, epochs=2):
    return json.dumps({"samples": 300, "test_samples": 50, "epochs": epochs, "hidden_size": 6,
                       "report_every": 50, "seed": seed, "stream": True}).encode()


def trainer(port, stop):
    i = 0
    while not stop.is_set():
        model = ("rnn", "lstm", "gru")[i % 3]
        i += 1
        try:
            st, h, resp = rel.request("POST", port, "/train/" + model, train_body(i), timeout=300)
            if st == 503 and "retry-after" in h:
                note("busy_503")
                time.sleep(0.5)
                continue
            lines = [json.loads(l) for l in resp.decode().splitlines() if l.strip()]
            if st == 200 and lines and lines[-1].get("type") == "done":
                note("training_done")
            else:
                note("unexpected", "train/%s -> %d last %s" % (model, st,
                                                               lines[-1] if lines else None))
        except (OSError, ValueError) as e:
            note("unexpected", "train/%s: %r" % (model, e))


def canceller(port, stop):
    i = 0
    while not stop.is_set():
        i += 1
        model = ("gru", "rnn", "lstm")[i % 3]
        body = train_body(1000 + i, epochs=400)  # long enough to be cut off mid-run
        try:
            s = socket.create_connection((rel.HOST, port), timeout=30)
            s.sendall(("POST /train/%s HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                       "Content-Length: %d\r\n\r\n" % (model, len(body))).encode() + body)
            buf = b""
            while b"progress" not in buf and b"HTTP/1.1 503" not in buf:
                d = s.recv(4096)
                if not d:
                    break
                buf += d
            s.close()
            if buf.startswith(b"HTTP/1.1 503"):
                note("busy_503")
            elif buf.startswith(b"HTTP/1.1 200") and b"progress" in buf:
                note("training_cancelled")
            else:
                note("unexpected", "cancel/%s: %r" % (model, buf[:200]))
        except OSError as e:
            note("unexpected", "cancel/%s: %r" % (model, e))
        stop.wait(0.3)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--daemon", default="build/san/nnlabd")
    ap.add_argument("--seconds", type=int, default=600)
    ap.add_argument("--json")
    ap.add_argument("--no-rss-check", action="store_true",
                    help="report RSS without judging it (sanitizer builds: ASan's allocator, "
                         "quarantine and thread registry grow with thread-per-connection)")
    a = ap.parse_args()
    rel.log("soak: %s for %d s" % (a.daemon, a.seconds))
    d = rel.Daemon(a.daemon, ["--max-trainings", "3"])
    stop = threading.Event()
    try:
        threads = [threading.Thread(target=compute_worker, args=(d.port, stop, k), daemon=True)
                   for k in range(2)]
        threads += [threading.Thread(target=trainer, args=(d.port, stop), daemon=True),
                    threading.Thread(target=canceller, args=(d.port, stop), daemon=True)]
        probe = rel.Prober(d.port, period=0.2)
        sampler = rel.RssSampler(d)
        for th in threads + [probe, sampler]:
            th.start()
        t0 = time.monotonic()
        while time.monotonic() - t0 < a.seconds:
            time.sleep(min(10, a.seconds - (time.monotonic() - t0)) if a.seconds > 0 else 0)
            rel.log("  t=%4.0f s  %s  rss %.1f MiB" % (time.monotonic() - t0, dict(STATS),
                                                       (d.rss_kib() or 0) / 1024))
        stop.set()
        for th in threads:
            th.join(timeout=120)
        probe.stop()
        samples = sampler.stop()
        rel.log("  totals: %s" % dict(STATS))
        rel.check(STATS["unexpected"] == 0, "no unexpected responses %s" % BAD[:5])
        rel.check(STATS["ok_200"] > 0 and STATS["training_done"] > 0 and
                  STATS["training_cancelled"] > 0,
                  "every kind of work happened (200s %d, trainings done %d, cancelled %d)"
                  % (STATS["ok_200"], STATS["training_done"], STATS["training_cancelled"]))
        rel.check(not probe.fail, "prober: %d probes, no failure %s" % (len(probe.lat),
                                                                      probe.fail[:3]))
        ok, t, v = False, 0.0, None
        t1 = time.monotonic()
        while time.monotonic() - t1 < 5:
            v = d.metric("nnlab_trainings_active")
            if v == 0:
                ok = True
                break
            time.sleep(0.1)
        rel.check(ok, "nnlab_trainings_active back to 0 (%s)" % v)
        flat, first, last, tol = rel.rss_flat(samples)
        judge = rel.check if not a.no_rss_check else (
            lambda ok, what: rel.log("  info " + what + " (not judged on this build)"))
        judge(flat, "RSS flat: first-10s median %.1f MiB, last-10s median %.1f MiB, tolerance "
                  "%.1f MiB (%d samples, max %.1f MiB)" % (first / 1024, last / 1024, tol / 1024,
                                                          len(samples), max(samples) / 1024))
        if a.json:
            with open(a.json, "a") as f:
                f.write(json.dumps({"suite": "soak", "daemon": a.daemon, "seconds": a.seconds,
                                    "stats": dict(STATS), "probes": len(probe.lat),
                                    "probe_max_ms": round(probe.max_ms(), 1),
                                    "rss_first_mib": round(first / 1024, 1),
                                    "rss_last_mib": round(last / 1024, 1),
                                    "rss_max_mib": round(max(samples) / 1024, 1)}) + "\n")
    finally:
        stop.set()
        d.check_clean_exit()
    rel.finish("soak")


if __name__ == "__main__":
    main()
