#!/usr/bin/python3
"""The vanishing gradient, measured by nnlab and by PyTorch on the same run.

For each model, nnlab trains on the adding problem at one sequence length (default T = 60, the
assignment's other settings, 2 epochs) with "export": "pytorch" and reports, in its last epoch
event, gradient_by_step: the mean over the probe sequences of ||dL/dh_t||. The exported script
then trains the same net in PyTorch (torch.nn.RNN / LSTM / GRU) from the same weights on the same
data, and this script measures the same mean with autograd: the net run one step at a time with
retain_grad on every hidden state, over the same probe (the first probe_samples test sequences
of the longest length). One JSON line per model: the ratio of the first step's gradient to the
last step's by nnlab and by PyTorch, the largest relative difference between the two curves,
and the final test losses. With --torch-init the PyTorch run also starts from PyTorch's own
initial weights (torch.manual_seed(seed)) instead, for the figure "with PyTorch's own cells".

    build/nnlabd --port 8080 &  /usr/bin/python3 bench/rnn_gradients.py [--length 60] [--epochs 2]

Needs the daemon, python3-torch and python3-numpy; the client is clients/python.
"""
import argparse
import importlib.util
import json
import pathlib
import sys
import tempfile

import numpy as np
import torch

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "clients" / "python"))
import nnlab  # noqa: E402


def grad_by_step(kind, net, xs, ys):
    """Mean over the sequences of ||dL/dh_t||, L = (prediction - y)^2, by autograd."""
    norms = []
    for x, y in zip(xs, ys):
        hs, state = [], None
        for t in range(x.shape[1]):
            _, state = net.rnn(x[:, t:t + 1, :], state)
            h = state[0] if kind == "lstm" else state
            h.retain_grad()
            hs.append(h)
        loss = (net.fc(hs[-1].reshape(1, -1)).reshape(()) - y) ** 2
        net.zero_grad()
        loss.backward()
        norms.append(torch.stack([h.grad.reshape(-1).norm() for h in hs]))
    return torch.stack(norms).mean(0).numpy()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--url", default=None)
    ap.add_argument("--length", type=int, default=60)
    ap.add_argument("--epochs", type=int, default=2)
    ap.add_argument("--samples", type=int, default=5000)
    ap.add_argument("--probe", type=int, default=32)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--models", default="rnn,lstm,gru")
    ap.add_argument("--torch-init", action="store_true")
    a = ap.parse_args()
    torch.set_default_dtype(torch.float64)
    c = nnlab.Client(a.url)
    for kind in a.models.split(","):
        events = list(c.train(kind, min_length=a.length, max_length=a.length, epochs=a.epochs,
                              samples=a.samples, seed=a.seed, probe_samples=a.probe, export="pytorch"))
        ours = np.asarray([e for e in events if e["type"] == "epoch"][-1]["gradient_by_step"])
        with tempfile.TemporaryDirectory() as d:
            path = pathlib.Path(d) / "run.py"
            path.write_text(events[0]["pytorch"])
            spec = importlib.util.spec_from_file_location("nnlab_run", path)
            run = importlib.util.module_from_spec(spec)
            spec.loader.exec_module(run)
        net, train_set, test_set = run.build()
        if a.torch_init:
            torch.manual_seed(a.seed)
            net = run.Net(kind, net.fc.in_features)
        _, test_loss = run.train(net, train_set, test_set, a.epochs)
        xs, ys = test_set
        longest = max(x.shape[1] for x in xs)
        probe = [i for i, x in enumerate(xs) if x.shape[1] == longest][:a.probe]
        theirs = grad_by_step(kind, net, [xs[i] for i in probe], [ys[i] for i in probe])
        out = {"model": kind, "length": a.length, "epochs": a.epochs, "torch_init": a.torch_init,
               "first_over_last_nnlab": float(ours[0] / ours[-1]),
               "first_over_last_torch": float(theirs[0] / theirs[-1]),
               "nnlab_test_loss": events[-1]["test_loss"][-1], "torch_test_loss": test_loss[-1]}
        if not a.torch_init:
            out["max_rel_diff"] = float(np.max(np.abs(ours - theirs) / theirs))
        print(json.dumps(out), flush=True)


if __name__ == "__main__":
    main()
