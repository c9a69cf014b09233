#!/usr/bin/env python3
"""nnlab's training run, again in PyTorch.

nnlabd wrote this file for one POST /train/{rnn,lstm,gru} request with "export": "pytorch": the
run's settings, its training and test sets and its initial weights are below (the arrays as
base64 .npy files), and the code trains the same net the same way with PyTorch's own modules:
torch.nn.RNN / LSTM / GRU and nn.Linear on the last hidden state, float64, MSE, torch.optim.Adam,
clip_grad_norm_ on the global norm of all gradients, the training samples visited in order in
batches of batch_size consecutive sequences, each run at its own length (no padding). The train
loss of an epoch is the mean squared error of its samples, each taken before its batch's update;
the test loss the MSE over the test set after the epoch.

Run it with any Python that has torch and numpy (python3 thisfile.py). It prints each epoch as
it goes (on stderr) and, last, one JSON line {"train_loss": [...], "test_loss": [...]}: the same
numbers as nnlab's "done" event, to about 1e-12. Or import it and call build() and train().
"""
import base64
import io
import json
import sys

import numpy as np
import torch

# @nnlab-run@


def array(name):
    """One of DATA's arrays: a .npy file as base64 (nnlab's tensor form {"shape", "dtype", "npy"})."""
    return np.load(io.BytesIO(base64.b64decode(DATA[name]["npy"])), allow_pickle=False)


def sequences(prefix):
    """Sequences stored back to back: x [sum of lengths, 2] (value, marker), lengths, targets."""
    x, lengths, y = array(prefix + "_x"), array(prefix + "_length").astype(np.int64), array(prefix + "_y")
    ends = np.cumsum(lengths)
    xs = [torch.from_numpy(x[e - n:e]).unsqueeze(0) for e, n in zip(ends, lengths)]
    return xs, torch.from_numpy(y)


class Net(torch.nn.Module):
    """One recurrent layer (input 2, hidden H) and a linear head on its last hidden state."""

    def __init__(self, kind, hidden):
        super().__init__()
        cls = {"rnn": torch.nn.RNN, "lstm": torch.nn.LSTM, "gru": torch.nn.GRU}[kind]
        self.rnn = cls(2, hidden, batch_first=True)
        self.fc = torch.nn.Linear(hidden, 1)

    def forward(self, x):
        out, _ = self.rnn(x)
        return self.fc(out[:, -1, :]).reshape(())


def build():
    """The net holding nnlab's initial weights, the training set and the test set."""
    net = Net(RUN["model"], RUN["hidden_size"])
    with torch.no_grad():  # by PyTorch's names
        for ours, theirs in [("weight_ih", "rnn.weight_ih_l0"), ("weight_hh", "rnn.weight_hh_l0"),
                             ("bias_ih", "rnn.bias_ih_l0"), ("bias_hh", "rnn.bias_hh_l0"),
                             ("fc.weight", "fc.weight"), ("fc.bias", "fc.bias")]:
            net.get_parameter(theirs).copy_(torch.from_numpy(array(ours)))
    return net, sequences("train"), sequences("test")


def train(net, train_set, test_set, epochs=None):
    """nnlab's training loop; returns the train and test loss of every epoch."""
    (train_x, train_y), (test_x, test_y) = train_set, test_set
    opt = torch.optim.Adam(net.parameters(), lr=RUN["learning_rate"])
    n, batch = len(train_x), RUN["batch_size"]
    train_loss, test_loss = [], []
    for epoch in range(RUN["epochs"] if epochs is None else epochs):
        total = 0.0
        for b0 in range(0, n, batch):
            b1 = min(b0 + batch, n)
            opt.zero_grad()
            pred = torch.stack([net(train_x[i]) for i in range(b0, b1)])
            loss = torch.nn.functional.mse_loss(pred, train_y[b0:b1])
            loss.backward()
            torch.nn.utils.clip_grad_norm_(net.parameters(), RUN["clip"])
            opt.step()
            total += float(((pred.detach() - train_y[b0:b1]) ** 2).sum())
        train_loss.append(total / n)
        with torch.no_grad():
            pred = torch.stack([net(x) for x in test_x])
            test_loss.append(float(((pred - test_y) ** 2).sum()) / len(test_x))
        print(f"epoch {epoch + 1}: train loss {train_loss[-1]:.6g}, test loss {test_loss[-1]:.6g}",
              file=sys.stderr, flush=True)
    return train_loss, test_loss


def main():
    torch.set_default_dtype(torch.float64)
    net, train_set, test_set = build()
    train_loss, test_loss = train(net, train_set, test_set)
    print(json.dumps({"train_loss": train_loss, "test_loss": test_loss}))


if __name__ == "__main__":
    main()
