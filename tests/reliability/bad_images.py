#!/usr/bin/env python3
"""bad_images.py — every crafted file of tests/data/bad_images (see make.py there and its
manifest.json) is posted to POST /conv of a running nnlabd (normally the sanitizer build):

  bad_images.py --daemon build/san/nnlabd

"4xx" files must get 400/413/415 (exactly their "status" where the manifest gives one) with the
contract's JSON error object; "any" files (valid to stb_image despite a defect it does not check)
may get 200 or 4xx; "200" controls must succeed. Each file is posted twice and must get the same
answer both times (but for "elapsed_ms"): decoding never depends on what memory held before.
Every answer must arrive within the file's max_ms (200 ms unless stated) and the daemon must exit
cleanly with no sanitizer report. Each file is also sent with "grayscale": true (unless its
"gray" is false). If the daemon dies on a file, that is a failure; it is restarted to go on.
Files with a "known_issue" reproduce an open, reported bug: they fail the run unless --known-ok,
which prints XFAIL for them (XPASS once fixed) — the quick run in `make test` uses it."""
import argparse
import base64
import json
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import rel  # noqa: E402

DIR = os.path.join(rel.ROOT, "tests", "data", "bad_images")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--daemon", default="build/san/nnlabd")
    ap.add_argument("--dir", default=DIR)
    ap.add_argument("--valgrind", action="store_true",
                    help="run the (release) daemon under valgrind memcheck; any valgrind error "
                         "fails the run (uninitialised reads that sanitizers cannot see)")
    ap.add_argument("--known-ok", action="store_true",
                    help="report files with a known_issue as XFAIL/XPASS instead of failing")
    a = ap.parse_args()
    with open(os.path.join(a.dir, "manifest.json")) as f:
        manifest = json.load(f)
    rel.log("bad_images: %d files against %s" % (len(manifest), a.daemon))
    wrapper = ("valgrind", "--error-exitcode=1", "-q") if a.valgrind else ()
    if a.valgrind:
        for m in manifest:
            m["max_ms"] = max(m["max_ms"], 30000)  # valgrind is 20-50x slower
    d_box = [rel.Daemon(a.daemon, wrapper=wrapper)]
    try:
        for m in manifest:
            known = m.get("known_issue") if a.known_ok else None
            before = len(rel.FAILURES)
            run_file(a, m, d_box)
            if known and len(rel.FAILURES) > before:
                del rel.FAILURES[before:]
                rel.log("  XFAIL %s: known issue: %s" % (m["file"], known))
            elif known:
                rel.log("  XPASS %s: passed this time; once `make bad-images-valgrind` passes "
                        "on it too, delete it from make.py's KNOWN" % m["file"])
        d = d_box[0]
        st, _, _ = rel.request("GET", d.port, "/healthz")
        rel.check(st == 200, "daemon still healthy after the whole set")
        plain = [(ms, f) for f, ms in WORST.items()
                 if not any(m["file"] == f and m.get("known_issue") for m in manifest)]
        rel.log("  slowest answer: %.1f ms (%s); slowest outside the known issues: %.1f ms (%s)"
                % (max(WORST.values()), max(WORST, key=WORST.get), max(plain)[0], max(plain)[1]))
    finally:
        code, err = d_box[0].check_clean_exit()
        if a.valgrind:
            vg = [l for l in err.splitlines() if l.startswith("==")]
            rel.check(not vg, "valgrind: no errors reported (%d '==' lines)" % len(vg))
            rel.log("\n".join(vg[:40]))
    rel.finish("bad_images")


WORST = {}  # file -> slowest answer (ms)


def same_answer(a, b):
    """Two answers are the same but for the time they took ("elapsed_ms")."""
    try:
        ja, jb = json.loads(a), json.loads(b)
    except ValueError:
        return a == b
    for j in (ja, jb):
        if isinstance(j, dict):
            j.pop("elapsed_ms", None)
    return ja == jb


def run_file(a, m, d_box):
    """POST one file (and its grayscale variant); d_box[0] is the daemon, replaced if it dies."""
    d = d_box[0]
    with open(os.path.join(a.dir, m["file"]), "rb") as f:
        b64 = base64.b64encode(f.read()).decode()
    for gray in (False, True) if m.get("gray", True) else (False,):
        body = {"image": b64, "kernel": "box"}
        if gray:
            body["grayscale"] = True
        t0 = time.monotonic()
        try:
            st, hdrs, resp = rel.request("POST", d.port, "/conv", body)
        except OSError as e:
            # the daemon died (e.g. a sanitizer abort): report it, show why, restart it
            time.sleep(0.5)
            code, err = d.stop()
            rel.check(False, "%s: no answer (%r); daemon exit code %s"
                      % (m["file"], e, code))
            hits = [l for l in err.splitlines() if any(p in l for p in rel.SAN_PATTERNS)]
            rel.log("         " + "\n         ".join(hits[:4]))
            d_box[0] = d = rel.Daemon(a.daemon, wrapper=d.wrapper)
            break
        ms = (time.monotonic() - t0) * 1000
        WORST[m["file"]] = max(WORST.get(m["file"], 0.0), ms)
        tag = "%s%s" % (m["file"], " (gray)" if gray else "")
        if m["expect"] == "4xx":
            ok = st in (400, 413, 415) and rel.is_error_json(resp, st) and \
                st == m.get("status", st)
        elif m["expect"] == "200":
            ok = st == 200
        else:
            ok = st == 200 or (st in (400, 413, 415) and rel.is_error_json(resp, st))
        field = ""
        if st != 200:
            try:
                field = json.loads(resp)["error"].get("field", "")
            except (ValueError, KeyError, TypeError):
                pass
        rel.check(ok and ms < m["max_ms"],
                  "%-44s -> %d %-6s in %6.1f ms (want %s, < %d ms)"
                  % (tag, st, field, ms, m.get("status", m["expect"]), m["max_ms"]))
        if not ok:
            rel.log("         body: %s" % resp[:300])
        st2, _, resp2 = rel.request("POST", d.port, "/conv", body)
        rel.check(st2 == st and same_answer(resp, resp2),
                  "%-44s    the same answer again (%d, %d bytes)" % (tag, st2, len(resp2)))


if __name__ == "__main__":
    main()
