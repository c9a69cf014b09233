#!/usr/bin/python3
"""Reference training runs for the recurrent nets (core/nn_rnn_train.h): torch.nn.RNN / LSTM / GRU
(batch_first, float64) + nn.Linear on the last hidden state, MSE, Adam, clip_grad_norm_, the
training samples visited in order. Stores the initial weights, the data, the loss of every
optimiser step, how many steps the clipping bound, and the final weights
-> tests/fixtures/rnn_train.json.
Also Adam + clip_grad_norm_ on their own (fixed gradients, several tensors) ->
tests/fixtures/rnn_adam.json.

Mini-batch semantics (the same as nn_rnn_train): a batch is `batch` consecutive samples (the last
one may be smaller); each sequence is run on its own (no padding), and the loss is
MSELoss (mean) over the batch's predictions.
"""
import json
import pathlib
import sys

import torch

torch.set_default_dtype(torch.float64)


def adding_data(gen, count, lo, hi):
    xs, ys = [], []
    for _ in range(count):
        T = int(torch.randint(lo, hi + 1, (1,), generator=gen))
        vals = torch.rand(T, generator=gen)
        pos = torch.randperm(T, generator=gen)[:2]
        marks = torch.zeros(T)
        marks[pos] = 1.0
        xs.append(torch.stack([vals, marks], dim=1))
        ys.append(float(vals[pos].sum()))
    return xs, ys


class Net(torch.nn.Module):
    def __init__(self, kind, hidden):
        super().__init__()
        cls = {"rnn": torch.nn.RNN, "lstm": torch.nn.LSTM, "gru": torch.nn.GRU}[kind]
        self.rnn = cls(2, hidden, batch_first=True)
        self.fc = torch.nn.Linear(hidden, 1)

    def forward(self, x):
        out, _ = self.rnn(x)
        return self.fc(out[:, -1, :])


NAMES = [("weight_ih", "rnn.weight_ih_l0"), ("weight_hh", "rnn.weight_hh_l0"),
         ("bias_ih", "rnn.bias_ih_l0"), ("bias_hh", "rnn.bias_hh_l0"),
         ("fc.weight", "fc.weight"), ("fc.bias", "fc.bias")]


def tensor(t):
    t = t.detach()
    return {"shape": list(t.shape), "data": [float(v) for v in t.reshape(-1)]}


def weights(net):
    sd = dict(net.named_parameters())
    return {ours: tensor(sd[theirs]) for ours, theirs in NAMES}


def run_case(name, kind, hidden, count, epochs, batch, lr, clip, seed):
    gen = torch.Generator().manual_seed(seed)
    xs, ys = adding_data(gen, count, 3, 9)
    torch.manual_seed(seed)
    net = Net(kind, hidden)
    init = weights(net)
    opt = torch.optim.Adam(net.parameters(), lr=lr)
    mse = torch.nn.MSELoss()
    losses = []
    clipped = 0
    for _ in range(epochs):
        for b0 in range(0, count, batch):
            idx = range(b0, min(b0 + batch, count))
            opt.zero_grad()
            pred = torch.cat([net(xs[i].unsqueeze(0)).reshape(1) for i in idx])
            loss = mse(pred, torch.tensor([ys[i] for i in idx]))
            loss.backward()
            norm = torch.nn.utils.clip_grad_norm_(net.parameters(), clip)
            clipped += int(float(norm) > clip)
            opt.step()
            losses.append(float(loss))
    return {
        "name": name, "model": kind, "hidden": hidden, "epochs": epochs, "batch_size": batch,
        "lr": lr, "clip": clip,
        "len": [int(x.shape[0]) for x in xs],
        "x": {"shape": [sum(int(x.shape[0]) for x in xs), 2],
              "data": [float(v) for x in xs for v in x.reshape(-1)]},
        "y": ys,
        "init": init,
        "losses": losses,
        "clipped_steps": clipped,
        "final": weights(net),
    }


def adam_case(name, shapes, steps, lr, clip, seed):
    """torch.optim.Adam + clip_grad_norm_ on tensors of the given shapes, fed fixed gradients."""
    gen = torch.Generator().manual_seed(seed)
    params = [torch.nn.Parameter(torch.randn(*sh, generator=gen)) for sh in shapes]
    init = [p.detach().clone() for p in params]
    opt = torch.optim.Adam(params, lr=lr)
    grads, norms, after = [], [], []
    for s in range(steps):
        # Gradients of very different sizes from step to step, so clipping binds on some.
        scale = 10.0 ** ((s % 4) - 2)
        g = [torch.randn(*sh, generator=gen) * scale for sh in shapes]
        opt.zero_grad()
        for p, gi in zip(params, g):
            p.grad = gi.clone()
        norms.append(float(torch.nn.utils.clip_grad_norm_(params, clip)))
        opt.step()
        grads.append([float(v) for gi in g for v in gi.reshape(-1)])
        after.append([float(v) for p in params for v in p.detach().reshape(-1)])
    return {
        "name": name, "lr": lr, "clip": clip,
        "numel": [int(torch.tensor(sh).prod()) for sh in shapes],
        "init": [float(v) for p in init for v in p.reshape(-1)],
        "grads": {"shape": [steps, len(grads[0])], "data": [v for g in grads for v in g]},
        "norms": norms,
        "params": {"shape": [steps, len(after[0])], "data": [v for a in after for v in a]},
    }


def main():
    out = pathlib.Path(sys.argv[1] if len(sys.argv) > 1 else "tests/fixtures")
    cases = []
    for i, kind in enumerate(["rnn", "lstm", "gru"]):
        # The assignment's optimiser settings, batch 1: 100 sequences x 3 epochs = 300 steps.
        cases.append(run_case(f"{kind}_batch1", kind, 6, 100, 3, 1, 0.001, 3.0, 10 + i))
        # Mini-batches of 4 over 102 sequences (last batch of 2), a larger lr and a clip that
        # binds on most steps, so clipping and batching are both exercised.
        cases.append(run_case(f"{kind}_batch4_clip", kind, 5, 102, 4, 4, 0.01, 0.1, 20 + i))
    doc = {"generator": "gen_rnn.py", "torch": torch.__version__, "cases": cases}
    path = out / "rnn_train.json"
    path.write_text(json.dumps(doc, separators=(",", ":")))
    print(f"wrote {path} ({path.stat().st_size} bytes, {len(cases)} cases)")
    adam = [adam_case("adam_clip", [(4, 3), (5,), (1, 7)], 12, 0.01, 1.0, 7),
            adam_case("adam_no_clip", [(6, 2), (3,)], 12, 0.001, 1e9, 8)]
    path = out / "rnn_adam.json"
    path.write_text(json.dumps({"generator": "gen_rnn.py", "torch": torch.__version__,
                                "cases": adam}, separators=(",", ":")))
    print(f"wrote {path} ({path.stat().st_size} bytes, {len(adam)} cases)")


if __name__ == "__main__":
    main()
