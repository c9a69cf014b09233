#!/usr/bin/python3
"""PyTorch side of `make bench`: the cases of bench_conv and bench_net on this machine, printed as
the same JSON lines as the nnlab benchmarks ({"op", "shape", "impl": "torch", "ms_median",
"gflops"}, same op/shape strings).

Each case runs in PyTorch's best CPU configuration that we found: torch.set_num_threads(2) (the
machine's cores), torch.no_grad(), inputs and weights prepared once, in-place / out= variants for
the element-wise and reduction steps (F.conv2d and the pools have no out= form), and both memory
formats (channels_last and contiguous NCHW) tried: the faster is reported, named in "config".
Median of many runs after a warm-up. With --serve, bench/compare.py asks for one case at a time
(its index on stdin) to pair it with nnlab's.

"train_epoch" (bench_train.c's case, when Fashion-MNIST is installed) trains the benchmark net for
one epoch in each memory format (after 20 warm-up steps on a throwaway model) and reports the
faster epoch with the test accuracy it reached."""
import gzip
import json
import os
import statistics
import sys
import time

import numpy as np

import torch
import torch.nn.functional as F
from torch_grad import grad_cases

# 2 (the machine's cores); BENCH_TORCH_THREADS=1 pairs with NNLAB_THREADS=1 for a one-core
# CPU-time comparison that a loaded machine distorts less (no thread waits for a descheduled one).
THREADS = int(os.environ.get("BENCH_TORCH_THREADS", "2"))
MIN_RUNS, MAX_RUNS, MIN_SECONDS, WARMUP = 20, 200, 0.3, 10  # nnlab's bench_run: 200 or 0.3 s


def median_ms(fn):
    """(median, fastest) of the timed calls, in ms."""
    for _ in range(WARMUP):
        fn()
    times = []
    start = time.perf_counter()
    while len(times) < MAX_RUNS and (len(times) < MIN_RUNS or time.perf_counter() - start < MIN_SECONDS):
        t0 = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t0) * 1e3)
    return statistics.median(times), min(times)


def conv_flops(oh, ow, n, kh, kw, c):
    return 2.0 * oh * ow * n * kh * kw * c


def report(op, shape, ms, ms_min, flops, config):
    print(json.dumps({"op": op, "shape": shape, "impl": "torch", "ms_median": round(ms, 4),
                      "ms_min": round(ms_min, 4),
                      "gflops": round(flops / (ms * 1e6), 2) if flops else None,
                      "config": config}), flush=True)


def best(make_fn, formats=("channels_last", "contiguous")):
    """make_fn(memory_format) -> zero-arg callable; returns (median ms, fastest ms, format) of
    the format with the lower median."""
    results = []
    for name in formats:
        fmt = torch.channels_last if name == "channels_last" else torch.contiguous_format
        med, fastest = median_ms(make_fn(fmt))
        results.append((med, fastest, name))
    return min(results)


def rand(*shape):
    return torch.rand(*shape, dtype=torch.float32) * 2 - 1


def conv_case(h, w, c, n, k, pad, act):
    x0, w0, b0 = rand(1, c, h, w), rand(n, c, k, k), rand(n)

    def make(fmt):
        x = x0.contiguous(memory_format=fmt)
        wt = w0.contiguous(memory_format=fmt)

        def run():
            y = F.conv2d(x, wt, b0, stride=1, padding=pad)
            if act == "relu":
                torch.relu_(y)
            elif act == "sigmoid":
                torch.sigmoid(y, out=y)
            return y
        return run
    return make


def maxpool_case(h, w, c):
    x0 = rand(1, c, h, w)

    def make(fmt):
        x = x0.contiguous(memory_format=fmt)
        return lambda: F.max_pool2d(x, 2, 2)
    return make


def gap_case(h, w, c):
    x0 = rand(1, c, h, w)
    out = torch.empty(1, c)

    def make(fmt):
        x = x0.contiguous(memory_format=fmt)
        return lambda: torch.mean(x, dim=(2, 3), out=out)
    return make


def cnn_case():
    """The default architecture of /work/shared/API.md on a 224x224x3 image."""
    g = torch.Generator().manual_seed(0)
    w1, b1 = torch.rand(16, 3, 3, 3, generator=g) - 0.5, torch.rand(16, generator=g) - 0.5
    w2, b2 = torch.rand(32, 16, 3, 3, generator=g) - 0.5, torch.rand(32, generator=g) - 0.5
    l1, lb1 = torch.rand(20, 32, generator=g) - 0.5, torch.rand(20, generator=g) - 0.5
    l2, lb2 = torch.rand(1000, 20, generator=g) - 0.5, torch.rand(1000, generator=g) - 0.5
    x0 = torch.rand(1, 3, 224, 224, generator=g)

    def make(fmt):
        x = x0.contiguous(memory_format=fmt)
        c1, c2 = w1.contiguous(memory_format=fmt), w2.contiguous(memory_format=fmt)

        def run():
            y = torch.relu_(F.conv2d(x, c1, b1, stride=2))        # 111x111x16
            y = F.max_pool2d(y, 2, 2)                             # 55x55x16
            y = torch.relu_(F.conv2d(y, c2, b2, padding=1))       # 55x55x32
            y = F.max_pool2d(y, 2, 2)                             # 27x27x32
            y = torch.mean(y, dim=(2, 3))                         # 32
            h = torch.tanh_(F.linear(y, l1, lb1))                 # 20
            logits = F.linear(h, l2, lb2)                         # 1000
            return torch.softmax(logits, 1)
        return run
    flops = (conv_flops(111, 111, 16, 3, 3, 3) + conv_flops(55, 55, 32, 3, 3, 16)
             + 2.0 * 32 * 20 + 2.0 * 20 * 1000)
    return make, flops


FASHION = "/usr/share/datasets/fashion-mnist"


def fashion(prefix, count):
    """Images [count, 1, 28, 28] as float32 pixel / 255 and labels, from the installed data set."""
    def idx(name, offset):
        return np.frombuffer(gzip.open(os.path.join(FASHION, name)).read(), np.uint8, offset=offset)
    x = idx(f"{prefix}-images-idx3-ubyte.gz", 16).reshape(count, 1, 28, 28).astype(np.float32) / 255
    y = idx(f"{prefix}-labels-idx1-ubyte.gz", 8).astype(np.int64)
    return torch.from_numpy(x), torch.from_numpy(y)


class BenchNet(torch.nn.Module):
    """bench_train.c's net: conv 8 pad 1 ReLU, max-pool 2, conv 16 pad 1 ReLU, max-pool 2, linear."""

    def __init__(self):
        super().__init__()
        self.conv1 = torch.nn.Conv2d(1, 8, 3, padding=1)
        self.conv2 = torch.nn.Conv2d(8, 16, 3, padding=1)
        self.fc = torch.nn.Linear(784, 10)
        for m in (self.conv1, self.conv2, self.fc):
            torch.nn.init.kaiming_normal_(m.weight, nonlinearity="relu")
            torch.nn.init.zeros_(m.bias)

    def forward(self, x):
        x = F.max_pool2d(torch.relu(self.conv1(x)), 2)
        x = F.max_pool2d(torch.relu(self.conv2(x)), 2)
        return self.fc(torch.flatten(x, 1))


def train_epoch_case():
    """One epoch of the benchmark net, batch 32, Adam 1e-3, shuffled: (seconds, test accuracy)
    in the given memory format. The batches are gathered from a float tensor made once."""
    xtr, ytr = fashion("train", 60000)
    xte, yte = fashion("t10k", 10000)

    def epoch(fmt):
        with torch.enable_grad():
            torch.manual_seed(1)
            net = BenchNet().to(memory_format=fmt)
            opt = torch.optim.Adam(net.parameters(), lr=1e-3)
            perm = torch.randperm(60000)

            def step(i):
                idx = perm[i:i + 32]
                xb = xtr[idx].contiguous(memory_format=fmt)
                opt.zero_grad()
                F.cross_entropy(net(xb), ytr[idx]).backward()
                opt.step()
            for i in range(0, 32 * 20, 32):  # warm-up steps on a throwaway copy of the state
                step(i)
            net = BenchNet().to(memory_format=fmt)
            opt = torch.optim.Adam(net.parameters(), lr=1e-3)
            t0, c0 = time.perf_counter(), time.process_time()
            for i in range(0, 60000, 32):
                step(i)
            seconds, cpu = time.perf_counter() - t0, time.process_time() - c0
        with torch.no_grad():
            acc = (net(xte.contiguous(memory_format=fmt)).argmax(1) == yte).float().mean().item()
        return seconds, acc, cpu
    return epoch


def measure_train_epoch(op, shape, epoch):
    """Both memory formats, one epoch each; the faster is reported (named in "config")."""
    runs = []
    for name, fmt in (("channels_last", torch.channels_last), ("contiguous", torch.contiguous_format)):
        seconds, acc, cpu = epoch(fmt)
        runs.append((seconds, acc, cpu, name))
    seconds, acc, cpu, name = min(runs)
    flops = 3.0 * 60000 * (conv_flops(28, 28, 8, 3, 3, 1) + conv_flops(14, 14, 16, 3, 3, 8) + 2.0 * 784 * 10)
    print(json.dumps({"op": op, "shape": shape, "impl": "torch", "ms_median": round(seconds * 1e3, 1),
                      "ms_min": round(seconds * 1e3, 1), "cpu_ms": round(cpu * 1e3, 1),
                      "gflops": round(flops / (seconds * 1e9), 2),
                      "test_accuracy": round(acc, 4),
                      "config": f"{name}, {THREADS} threads, torch {torch.__version__}"
                                f" (other format {max(runs)[0] * 1e3:.0f} ms)"}), flush=True)


def main():
    torch.set_num_threads(THREADS)
    torch.manual_seed(0)
    with torch.no_grad():
        cases = [
            ("conv", "256x256x3 k3x3 n1 relu", conv_case(256, 256, 3, 1, 3, 0, "relu"),
             conv_flops(254, 254, 1, 3, 3, 3)),
            ("conv_layer", "256x256x3 k3x3 n16 sigmoid", conv_case(256, 256, 3, 16, 3, 0, "sigmoid"),
             conv_flops(254, 254, 16, 3, 3, 3)),
            ("conv_layer", "224x224x3 k3x3 n64 pad1", conv_case(224, 224, 3, 64, 3, 1, None),
             conv_flops(224, 224, 64, 3, 3, 3)),
            ("maxpool", "254x254x16 k2 s2", maxpool_case(254, 254, 16), None),
            ("global_avgpool", "254x254x16", gap_case(254, 254, 16), None),
        ]
        make, flops = cnn_case()
        cases.append(("cnn_forward", "224x224x3 default", make, flops))
        cases += grad_cases()  # the training kernels (bench_grad.c); autograd on where they need it

        if os.path.isdir(FASHION):
            cases.append(("train_epoch", "fashion-mnist 60000 conv8-pool-conv16-pool-linear b32 adam",
                          train_epoch_case(), "epoch"))

        def measure(case):
            op, shape, make_fn, flops = case
            if flops == "epoch":
                measure_train_epoch(op, shape, make_fn)
                return
            ms, ms_min, fmt = best(make_fn)
            report(op, shape, ms, ms_min, flops, f"{fmt}, {THREADS} threads, no_grad, torch {torch.__version__}")

        if sys.argv[1:] == ["--serve"]:  # bench/compare.py: case indices on stdin, one per line
            print(json.dumps({"cases": [f"{op}|{shape}" for op, shape, _, _ in cases]}), flush=True)
            for line in sys.stdin:
                measure(cases[int(line)])
        else:
            for case in cases:
                measure(case)


if __name__ == "__main__":
    main()
