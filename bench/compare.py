#!/usr/bin/python3
"""compare.py ROUNDS BENCH_BINARY... — nnlab against PyTorch, interleaved, for `make bench`.

The machine is shared: its speed drifts by 20-30 % over minutes. Running every nnlab case and
then every PyTorch case would compare two different machines. So this runs ROUNDS rounds, each
round the nnlab binaries then bench/torch_bench.py (seconds apart), prints every line with its
"round", and ends with one summary line per case:

  {"op", "shape", "impl": "ratio", "nnlab_ms", "torch_ms", "ratio", "round_ratios", "rounds",
   "nnlab_ms_min", "torch_ms_min"}

nnlab_ms and torch_ms are the medians over the rounds of each side's per-round median;
ratio = nnlab_ms / torch_ms (below 1: nnlab faster); round_ratios are each round's own ratio;
the _min fields are the medians over the rounds of each side's fastest call.
Without python3-torch only the nnlab lines are printed."""
import json
import os
import statistics
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))


def run_lines(cmd):
    out = subprocess.run(cmd, check=True, stdout=subprocess.PIPE, text=True).stdout
    return [json.loads(line) for line in out.splitlines() if line.startswith("{")]


def have_torch():
    return subprocess.run([sys.executable, "-c", "import torch"], stdout=subprocess.DEVNULL,
                          stderr=subprocess.DEVNULL).returncode == 0


def main():
    rounds, binaries = int(sys.argv[1]), sys.argv[2:]
    torch = have_torch()
    if not torch:
        print(json.dumps({"note": "python3-torch not installed: PyTorch comparison skipped "
                                  "(apt-get install python3-torch)"}), flush=True)
    ms = {}  # (op, shape) -> {"nnlab": [per round], "torch": [per round]}
    for r in range(1, rounds + 1):
        cmds = [[b] for b in binaries]
        if torch:
            cmds.append([sys.executable, os.path.join(HERE, "torch_bench.py")])
        for cmd in cmds:
            for line in run_lines(cmd):
                line["round"] = r
                print(json.dumps(line), flush=True)
                if line.get("ms_median") is not None and line.get("impl") in ("nnlab", "torch"):
                    side = ms.setdefault((line["op"], line["shape"]),
                                         {"nnlab": [], "torch": [], "nnlab_min": [], "torch_min": []})
                    side[line["impl"]].append(line["ms_median"])
                    if line.get("ms_min") is not None:
                        side[line["impl"] + "_min"].append(line["ms_min"])
    for (op, shape), side in ms.items():
        a, b = side["nnlab"], side["torch"]
        if not a or len(a) != len(b):
            continue
        n, t = statistics.median(a), statistics.median(b)
        line = {"op": op, "shape": shape, "impl": "ratio", "nnlab_ms": round(n, 4),
                "torch_ms": round(t, 4), "ratio": round(n / t, 3),
                "round_ratios": [round(x / y, 3) for x, y in zip(a, b)], "rounds": len(a)}
        for k in ("nnlab_min", "torch_min"):
            if side[k]:
                line[k.replace("_min", "_ms_min")] = round(statistics.median(side[k]), 4)
        print(json.dumps(line), flush=True)


if __name__ == "__main__":
    main()
