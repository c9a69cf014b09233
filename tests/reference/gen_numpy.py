#!/usr/bin/python3
"""Reference fixtures for NumPy's legacy random numbers (core/nn_mt19937.c, the numpy_rand and
numpy_randn inits): writes numpy_random.json into the folder given as argv[1].

Every value is written by NumPy itself (Debian's python3-numpy), as float64 repr or integers:
  seed:    np.random.RandomState(s).get_state() key (624 words) and pos, for some seeds;
  raw:     MT19937 32-bit outputs after legacy seeding (MT19937._legacy_seeding(s).random_raw);
  rand:    np.random.seed(s); np.random.rand(n)     (n up to 1501: the 624-word state refills);
  randn:   np.random.seed(s); np.random.randn(n)    (odd n: the Gaussian cache is left full);
  calls:   one seed, then a sequence of rand/randn calls of various sizes, concatenated (the
           cache carries over calls, and rand leaves it alone);
  assignment: the assignment's figures: seed 42, rand(3, 3, 3); seed 42, 16 x randn(3, 3, 3);
           seed 42, randn(16, 64), randn(64, 64), randn(64, 10) — rounded to float32 as the
           service returns them;
  cnn:     the draws of a /cnn architecture with NumPy inits, layer by layer;
  bad_seeds: seeds NumPy refuses (ValueError)."""
import json
import pathlib
import sys

import numpy as np

SEEDS = [0, 1, 42, 12345, 2**31 - 1, 2**31, 2**32 - 1]


def floats(a):
    return [float(v) for v in np.asarray(a, dtype=np.float64).reshape(-1)]


def f32(a):
    return [float(v) for v in np.asarray(a).astype(np.float32).reshape(-1)]


def draw(kind, shape):
    return np.random.rand(*shape) if kind == "rand" else np.random.randn(*shape)


def main():
    out = pathlib.Path(sys.argv[1] if len(sys.argv) > 1 else "tests/fixtures")
    seeding = []
    for s in SEEDS:
        st = np.random.RandomState(s).get_state()
        bg = np.random.MT19937()
        bg._legacy_seeding(s)
        raw = bg.random_raw(1300 if s == 42 else 650)  # 624-word refills crossed
        entry = {"seed": s, "pos": int(st[2]), "raw": [int(v) for v in raw]}
        if s in (0, 42, 2**32 - 1):
            entry["key"] = [int(v) for v in st[1]]
        seeding.append(entry)
    streams = []
    for kind in ("rand", "randn"):
        for s in SEEDS:
            n = 1501 if s in (42, 2**32 - 1) else 33
            np.random.seed(s)
            streams.append({"kind": kind, "seed": s, "values": floats(draw(kind, (n,)))})
    calls = []
    for s, seq in [(5, [("randn", 3), ("randn", 4), ("rand", 2), ("randn", 1), ("randn", 5)]),
                   (2**32 - 1, [("rand", 1), ("randn", 1), ("rand", 3), ("randn", 2), ("randn", 7)]),
                   (0, [("randn", 625), ("rand", 311), ("randn", 1)])]:
        np.random.seed(s)
        values = []
        for kind, n in seq:
            values += floats(draw(kind, (n,)))
        calls.append({"seed": s, "calls": [[k, n] for k, n in seq], "values": values})
    np.random.seed(42)
    rand_kernel = f32(np.random.rand(3, 3, 3))
    np.random.seed(42)
    bank = [f32(np.random.randn(3, 3, 3)) for _ in range(16)]
    np.random.seed(42)
    mlp = [f32(np.random.randn(16, 64)), f32(np.random.randn(64, 64)), f32(np.random.randn(64, 10))]
    assignment = {
        "rand_kernel": {"shape": [3, 3, 3], "data": rand_kernel},
        "kernels": {"shape": [16, 3, 3, 3], "data": sum(bank, [])},
        "mlp": [{"shape": [16, 64], "data": mlp[0]}, {"shape": [64, 64], "data": mlp[1]},
                {"shape": [64, 10], "data": mlp[2]}],
    }
    # /cnn on a [8, 8, 3] input: conv 4 3x3 numpy_randn -> max-pool 2 -> conv 2 3x3 numpy_rand
    # -> global average pool -> mlp (1 hidden layer of 5, numpy_randn) -> 3; seed 7.
    np.random.seed(7)
    cnn = {"seed": 7,
           "conv0": f32(np.concatenate([np.random.randn(3, 3, 3).reshape(-1) for _ in range(4)])),
           "conv2": f32(np.concatenate([np.random.rand(3, 3, 4).reshape(-1) for _ in range(2)])),
           "mlp0": f32(np.random.randn(2, 5)), "mlp1": f32(np.random.randn(5, 3))}
    bad = []
    for s in [-1, 2**32, 2**40]:
        try:
            np.random.seed(s)
        except ValueError:
            bad.append(s)
    doc = {"generator": "tests/reference/gen_numpy.py", "numpy": np.__version__,
           "seeding": seeding, "streams": streams, "calls": calls, "assignment": assignment,
           "cnn": cnn, "bad_seeds": bad}
    with open(out / "numpy_random.json", "w") as f:
        json.dump(doc, f, separators=(",", ":"))
        f.write("\n")


if __name__ == "__main__":
    main()
