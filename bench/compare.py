#!/usr/bin/python3
"""compare.py ROUNDS BENCH_BINARY... — nnlab against PyTorch, paired, for `make bench`.

The machine is shared: its speed drifts by 20-30 % within seconds to minutes. Timing every
nnlab case and then every PyTorch case would compare two different machines. So the nnlab
binaries and bench/torch_bench.py are started once, in --serve mode, and asked for one case at a
time: each round measures every case on both sides back to back (nnlab ~0.3 s of calls,
PyTorch ~0.3 s per memory format; the order alternates between rounds so neither side is
always first). Every line is printed with its "round", and the run ends with one summary line
per case:

  {"op", "shape", "impl": "ratio", "nnlab_ms", "torch_ms", "ratio", "round_ratios", "rounds",
   "nnlab_ms_min", "torch_ms_min"}

(a training case adds "nnlab_test_accuracy" and "torch_test_accuracy", each round's, and
"nnlab_cpu_ms" / "torch_cpu_ms": the medians of the CPU time each process spent on the epoch)

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


class Server:
    """A benchmark process in --serve mode: measures the case whose index it is sent."""

    def __init__(self, cmd):
        self.cmd = cmd
        self.proc = subprocess.Popen(cmd + ["--serve"], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     text=True)
        self.cases = json.loads(self.read())["cases"]

    def read(self):
        """The next JSON line the server prints (other lines are skipped)."""
        while True:
            line = self.proc.stdout.readline()
            if not line:
                sys.exit(f"compare.py: {' '.join(self.cmd)} exited ({self.proc.wait()})")
            if line.startswith("{"):
                return line

    def measure(self, i):
        try:
            self.proc.stdin.write(f"{i}\n")
            self.proc.stdin.flush()
        except BrokenPipeError:
            sys.exit(f"compare.py: {' '.join(self.cmd)} exited ({self.proc.wait()})")
        line = json.loads(self.read())
        if f"{line.get('op')}|{line.get('shape')}" != self.cases[i]:
            sys.exit(f"compare.py: asked {' '.join(self.cmd)} for {self.cases[i]!r}, got {line!r}")
        return line

    def close(self):
        self.proc.stdin.close()
        self.proc.wait()


def have_torch():
    return subprocess.run([sys.executable, "-c", "import torch"], stdout=subprocess.DEVNULL,
                          stderr=subprocess.DEVNULL).returncode == 0


def main():
    rounds, binaries = int(sys.argv[1]), sys.argv[2:]
    torch = have_torch()
    if not torch:
        print(json.dumps({"note": "python3-torch not installed: PyTorch comparison skipped "
                                  "(apt-get install python3-torch)"}), flush=True)
    ms = {}  # (op, shape) -> {"nnlab": [per round], "torch": [per round], ...}
    nnlab = [Server([b]) for b in binaries]
    pytorch = Server([sys.executable, os.path.join(HERE, "torch_bench.py")]) if torch else None
    torch_index = {key: i for i, key in enumerate(pytorch.cases)} if pytorch else {}
    for r in range(1, rounds + 1):
        for server in nnlab:
            for i, key in enumerate(server.cases):
                sides = [(server, i)]
                if key in torch_index:
                    sides.append((pytorch, torch_index[key]))
                for srv, k in (sides if r % 2 else sides[::-1]):
                    line = srv.measure(k)
                    line["round"] = r
                    print(json.dumps(line), flush=True)
                    if line.get("ms_median") is not None and line.get("impl") in ("nnlab", "torch"):
                        side = ms.setdefault((line["op"], line["shape"]),
                                             {"nnlab": [], "torch": [], "nnlab_min": [], "torch_min": []})
                        side[line["impl"]].append(line["ms_median"])
                        if line.get("test_accuracy") is not None:
                            side.setdefault(line["impl"] + "_acc", []).append(line["test_accuracy"])
                        if line.get("cpu_ms") is not None:
                            side.setdefault(line["impl"] + "_cpu", []).append(line["cpu_ms"])
                        if line.get("ms_min") is not None:
                            side[line["impl"] + "_min"].append(line["ms_min"])
    for srv in nnlab + ([pytorch] if pytorch else []):
        srv.close()
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
        for k in ("nnlab_acc", "torch_acc"):
            if side.get(k):
                line[k.replace("_acc", "_test_accuracy")] = [round(a, 4) for a in side[k]]
        for k in ("nnlab_cpu", "torch_cpu"):
            if side.get(k):
                line[k.replace("_cpu", "_cpu_ms")] = round(statistics.median(side[k]), 1)
        print(json.dumps(line), flush=True)


if __name__ == "__main__":
    main()
