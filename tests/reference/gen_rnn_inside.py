#!/usr/bin/python3
"""Recurrent nets from inside, by PyTorch: for given weights and sequences, what torch.nn.RNN /
LSTM / GRU (float64) + nn.Linear on the last hidden state compute at every step, and the gradient
of the loss L = (prediction - target)^2 w.r.t. every hidden state -> tests/fixtures/rnn_inside.json.

The net is run one step at a time (the module called with the previous state), and each step's
new hidden state keeps its gradient (retain_grad), so h_t.grad after L.backward() is dL/dh_t —
for the LSTM with the cell state c_t a separate tensor. The gates are recomputed from the weights
with PyTorch's equations and checked against the module's own hidden states here.

Per case: the weights (PyTorch's names), and per sequence: x [T, 2], y, output, hidden [T, H],
dh [T, H], the gates [T, H] each (LSTM i, f, g, o and the cell; GRU r, z, n); and a probe: four
sequences of one length with the mean over them of ||dL/dh_t|| per step (nn_rnn_probe.h).
"""
import json
import pathlib
import sys

import torch

torch.set_default_dtype(torch.float64)

NAMES = [("weight_ih", "weight_ih_l0"), ("weight_hh", "weight_hh_l0"),
         ("bias_ih", "bias_ih_l0"), ("bias_hh", "bias_hh_l0")]
GATES = {"rnn": [], "lstm": ["i", "f", "g", "o"], "gru": ["r", "z", "n"]}


def tensor(t):
    t = t.detach()
    return {"shape": list(t.shape), "data": [float(v) for v in t.reshape(-1)]}


def adding_sequence(gen, T):
    vals = torch.rand(T, generator=gen)
    pos = torch.randperm(T, generator=gen)[:2]
    marks = torch.zeros(T)
    marks[pos] = 1.0
    return torch.stack([vals, marks], dim=1), float(vals[pos].sum())


def gates_of(kind, rnn, x, hs, cs):
    """The activated gates at every step, from the weights (PyTorch's equations), and a check
    that they give the module's hidden (and cell) states."""
    W_ih, W_hh = rnn.weight_ih_l0, rnn.weight_hh_l0
    b_ih, b_hh = rnn.bias_ih_l0, rnn.bias_hh_l0
    H = rnn.hidden_size
    out = {g: [] for g in GATES[kind]}
    h = torch.zeros(H)
    c = torch.zeros(H)
    for t in range(x.shape[0]):
        gi = W_ih @ x[t] + b_ih
        gh = W_hh @ h + b_hh
        if kind == "rnn":
            h = torch.tanh(gi + gh)
        elif kind == "lstm":
            a = gi + gh
            i, f = torch.sigmoid(a[:H]), torch.sigmoid(a[H:2 * H])
            g, o = torch.tanh(a[2 * H:3 * H]), torch.sigmoid(a[3 * H:])
            c = f * c + i * g
            h = o * torch.tanh(c)
            for k, v in zip("ifgo", (i, f, g, o)):
                out[k].append(v)
            assert float((c - cs[t]).abs().max()) < 1e-13
        else:
            r = torch.sigmoid(gi[:H] + gh[:H])
            z = torch.sigmoid(gi[H:2 * H] + gh[H:2 * H])
            n = torch.tanh(gi[2 * H:] + r * gh[2 * H:])
            h = (1 - z) * n + z * h
            for k, v in zip("rzn", (r, z, n)):
                out[k].append(v)
        assert float((h - hs[t]).abs().max()) < 1e-13, (kind, t)
    return {k: torch.stack(v) for k, v in out.items()}


def inside(kind, rnn, fc, x, y):
    """Step by step through the module: hidden (and cell) states, output, dL/dh_t."""
    hs, cs = [], []
    state = None
    for t in range(x.shape[0]):
        _, state = rnn(x[t].reshape(1, 1, 2), state)
        h = state[0] if kind == "lstm" else state
        h.retain_grad()
        hs.append(h)
        if kind == "lstm":
            cs.append(state[1])
    out = fc(hs[-1].reshape(1, -1)).reshape(())
    loss = (out - y) ** 2
    rnn.zero_grad()
    fc.zero_grad()
    loss.backward()
    hidden = torch.stack([h.detach().reshape(-1) for h in hs])
    cell = torch.stack([c.detach().reshape(-1) for c in cs]) if cs else None
    dh = torch.stack([h.grad.reshape(-1) for h in hs])
    return float(out), hidden, cell, dh


def case(kind, hidden, scale, lengths, seed):
    torch.manual_seed(seed)
    cls = {"rnn": torch.nn.RNN, "lstm": torch.nn.LSTM, "gru": torch.nn.GRU}[kind]
    rnn = cls(2, hidden, batch_first=True)
    fc = torch.nn.Linear(hidden, 1)
    with torch.no_grad():  # a larger scale: saturating units, gradients that vanish faster
        for p in list(rnn.parameters()) + list(fc.parameters()):
            p.mul_(scale)
    gen = torch.Generator().manual_seed(seed + 1000)
    weights = {ours: tensor(getattr(rnn, theirs)) for ours, theirs in NAMES}
    weights["fc.weight"] = tensor(fc.weight)
    weights["fc.bias"] = tensor(fc.bias)
    seqs = []
    for T in lengths:
        x, y = adding_sequence(gen, T)
        out, hid, cell, dh = inside(kind, rnn, fc, x, y)
        g = gates_of(kind, rnn, x, hid, cell)
        s = {"x": tensor(x), "y": y, "output": out, "hidden": tensor(hid), "dh": tensor(dh),
             "gates": {k: tensor(v) for k, v in g.items()}}
        if cell is not None:
            s["cell"] = tensor(cell)
        seqs.append(s)
    # The probe: the mean over sequences of one length of ||dL/dh_t||.
    probe = [adding_sequence(gen, 30) for _ in range(4)]
    norms = torch.stack([inside(kind, rnn, fc, x, y)[3].norm(dim=1) for x, y in probe]).mean(0)
    return {"name": f"{kind}_h{hidden}_x{scale:g}", "model": kind, "hidden": hidden,
            "weights": weights, "sequences": seqs,
            "probe": {"sequences": [{"x": tensor(x), "y": y} for x, y in probe],
                      "grad_by_step": tensor(norms)}}


def main():
    out = pathlib.Path(sys.argv[1] if len(sys.argv) > 1 else "tests/fixtures")
    cases = []
    for i, kind in enumerate(["rnn", "lstm", "gru"]):
        cases.append(case(kind, 6, 1.0, [20, 41, 60], 50 + i))
        cases.append(case(kind, 4, 3.0, [23, 37], 60 + i))
    doc = {"generator": "gen_rnn_inside.py", "torch": torch.__version__, "cases": cases}
    path = out / "rnn_inside.json"
    path.write_text(json.dumps(doc, separators=(",", ":")))
    print(f"wrote {path} ({path.stat().st_size} bytes, {len(cases)} cases)")


if __name__ == "__main__":
    main()
