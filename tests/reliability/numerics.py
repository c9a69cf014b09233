#!/usr/bin/env python3
"""numerics.py — numerics under abuse, through the HTTP daemon.

  numerics.py --daemon build/nnlabd

Huge (1e30, 3e38) and tiny (1e-45, denormal) values in /conv, /pool, /mlp, /cnn inputs,
kernels and weights, and trainings with diverging learning rates (1e3, 1e30) or huge data.
Every response must be strict JSON (no NaN/Infinity tokens — Python's json module would accept
them, so they are rejected explicitly), and a 200 must carry only finite numbers; otherwise the
answer is a 4xx error object. A training stream either has finite losses only and ends with
"done", or ends with an "error" line whose message says "diverged at step N"."""
import argparse
import json
import math
import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import rel  # noqa: E402


def strict(text):
    def bad(tok):
        raise ValueError("non-JSON constant %s" % tok)
    return json.loads(text, parse_constant=bad)


def all_finite(v):
    if isinstance(v, float):
        return math.isfinite(v)
    if isinstance(v, list):
        return all(all_finite(x) for x in v)
    if isinstance(v, dict):
        return all(all_finite(x) for x in v.values())
    return True


def t(shape, value):
    n = 1
    for s in shape:
        n *= s
    return {"shape": shape, "data": [value] * n}


CASES = [
    ("conv input 1e30, kernel 1e30", "/conv",
     {"input": t([8, 8, 3], 1e30), "kernel": t([3, 3, 3], 1e30)}),
    ("conv input 3e38 (near FLT_MAX)", "/conv",
     {"input": t([8, 8, 1], 3e38), "kernel": "box"}),
    ("conv input 1e39 (> FLT_MAX)", "/conv", {"input": t([4, 4, 1], 1e39), "kernel": "box"}),
    ("conv bias 1e38, relu", "/conv",
     {"input": t([4, 4, 1], 1e38), "kernel": t([2, 2, 1], 1e38), "bias": 1e38,
      "activation": "relu"}),
    ("conv tiny 1e-45 (denormal)", "/conv",
     {"input": t([8, 8, 3], 1e-45), "kernel": t([3, 3, 3], 1e-45), "activation": "sigmoid"}),
    ("conv sigmoid/tanh of -1e30", "/conv",
     {"input": t([4, 4, 1], -1e30), "kernel": t([1, 1, 1], 1.0), "activation": "tanh"}),
    ("pool average of 3e38", "/pool",
     {"input": t([4, 4, 1], 3e38), "function": "average", "size": 4}),
    ("pool global average of 3e38", "/pool",
     {"input": t([8, 8, 2], 3e38), "function": "average", "size": "global"}),
    ("mlp input 1e30", "/mlp",
     {"input": [1e30] * 16, "hidden_layers": 2, "hidden_size": 8, "activation": "relu",
      "output_size": 4, "seed": 1}),
    ("mlp explicit weights 1e30 (softmax of huge logits)", "/mlp",
     {"input": [1e30, -1e30], "hidden_layers": 0, "output_size": 2,
      "weights": [{"weight": {"shape": [2, 2], "data": [1e30, -1e30, -1e30, 1e30]},
                   "bias": [0.0, 0.0]}]}),
    ("mlp leaky_relu tiny", "/mlp",
     {"input": [1e-45] * 8, "hidden_layers": 1, "hidden_size": 4,
      "activation": "leaky_relu", "output_size": 3, "seed": 2}),
    ("cnn input 1e30", "/cnn",
     {"input": t([16, 16, 3], 1e30), "seed": 1,
      "architecture": [{"type": "conv", "filters": 2, "size": 3, "activation": "relu"},
                       {"type": "global_pool", "function": "average"},
                       {"type": "mlp", "hidden_layers": 1, "hidden_size": 4,
                        "activation": "tanh", "output_size": 3}]}),
]

TRAININGS = [
    ("rnn lr 1e3", "rnn", {"learning_rate": 1e3}),
    ("lstm lr 1e3", "lstm", {"learning_rate": 1e3}),
    ("gru lr 1e3", "gru", {"learning_rate": 1e3}),
    ("rnn lr 1e30, clip 1e30", "rnn", {"learning_rate": 1e30, "clip": 1e30}),
    ("lstm dataset values 1e30", "lstm",
     {"dataset": [{"x": [[1e30, 1.0], [1e30, 1.0], [0.5, 0.0]], "y": 2e30}] * 20}),
    ("gru dataset targets 1e300", "gru",
     {"dataset": [{"x": [[0.5, 1.0], [0.25, 1.0], [0.5, 0.0]], "y": 1e300}] * 20}),
]


def check_training(d, name, model, extra, stream):
    body = {"samples": 200, "test_samples": 50, "epochs": 3, "hidden_size": 6, "seed": 4,
            "report_every": 20, "stream": stream}
    body.update(extra)
    st, hdrs, resp = rel.request("POST", d.port, "/train/" + model, body, timeout=120)
    text = resp.decode(errors="replace")
    tag = "%s (%s)" % (name, "stream" if stream else "non-stream")
    if st != 200:
        ok = 400 <= st < 500 and rel.is_error_json(resp, st)
        msg = ""
        try:
            msg = strict(text)["error"]["message"]
        except (ValueError, KeyError, TypeError):
            pass
        rel.check(ok, "%-40s -> %d %s" % (tag, st, msg[:60]))
        return
    try:
        objs = [strict(l) for l in text.splitlines() if l.strip()] if stream else [strict(text)]
    except ValueError as e:
        rel.check(False, "%-40s -> 200 but not strict JSON: %s" % (tag, e))
        return
    last = objs[-1]
    if stream:
        kind = last.get("type")
        if kind == "error":
            m = re.search(r"diverged at step (\d+)", last.get("message", json.dumps(last)))
            rel.check(m is not None and all(all_finite(o) for o in objs),
                      "%-40s -> stream error: %s" % (tag, last.get("message", "")[:60]))
        else:
            rel.check(kind == "done" and all(all_finite(o) for o in objs),
                      "%-40s -> done, all %d lines finite" % (tag, len(objs)))
    else:
        if "error" in last:
            m = re.search(r"diverged at step (\d+)", json.dumps(last))
            rel.check(m is not None, "%-40s -> 200 with error: %s" % (tag, json.dumps(last)[:80]))
        else:
            rel.check(all_finite(last), "%-40s -> 200, all numbers finite" % tag)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--daemon", default="build/nnlabd")
    a = ap.parse_args()
    rel.log("numerics: %s" % a.daemon)
    d = rel.Daemon(a.daemon)
    try:
        for name, path, body in CASES:
            st, _, resp = rel.request("POST", d.port, path, body, timeout=60)
            try:
                j = strict(resp.decode(errors="replace"))
            except ValueError as e:
                rel.check(False, "%-50s -> %d, not strict JSON (%s)" % (name, st, e))
                continue
            if st == 200:
                rel.check(all_finite(j), "%-50s -> 200, all numbers finite" % name)
            else:
                rel.check(400 <= st < 500 and rel.is_error_json(resp, st),
                          "%-50s -> %d %s" % (name, st, j.get("error", {}).get("message", "")[:60]))
        for name, model, extra in TRAININGS:
            for stream in (True, False):
                check_training(d, name, model, extra, stream)
    finally:
        d.check_clean_exit()
    rel.finish("numerics")


if __name__ == "__main__":
    main()
