#!/usr/bin/python3
"""Reference training trajectories for the trainable CNN (core/nn_cnn_net.h, core/nn_cnn_train.h):
PyTorch float32, 200 optimiser steps of batch 32 over the first 6400 Fashion-MNIST training
images in order (no shuffling), once with Adam and once with SGD + momentum, from the same
initial weights; and two epochs of 50 steps over the first 1600 images with Adam and the
learning rate halved after the first (StepLR(step_size=1, gamma=0.5)) -> tests/fixtures/cnn_train.json.

The net is the benchmark net: conv 8x3x3 pad 1 ReLU -> max-pool 2 -> conv 16x3x3 pad 1 ReLU ->
max-pool 2 -> linear 784 -> 10, cross-entropy (mean over the batch). nnlab is channels-last, so
the stored weights are in its layouts: kernels [N, KH, KW, C] (torch: [N, C, KH, KW]) and the
linear weight [in, out] with `in` in (h, w, c) order (torch's Flatten of NCHW is (c, h, w)).
Each run is made twice in PyTorch, in NCHW and in channels-last memory format: the two float32
trajectories differ by rounding only, and how far apart they drift is stored too — the C test
accepts max(1e-4, that) relative error per step.

Only the weights and the losses are stored; the images come from the installed data set
(dataset-fashion-mnist) at test time, read here the same way (gzip + numpy, pixel / 255 in
float32)."""
import gzip
import json
import pathlib
import sys

import numpy as np
import torch

DATA = pathlib.Path("/usr/share/datasets/fashion-mnist")
STEPS, BATCH = 200, 32


def idx(name, offset, count, per):
    raw = gzip.open(DATA / name).read()
    return np.frombuffer(raw, np.uint8, offset=offset)[: count * per]


def data():
    n = STEPS * BATCH
    x = idx("train-images-idx3-ubyte.gz", 16, n, 784).reshape(n, 1, 28, 28).astype(np.float32) / 255
    y = idx("train-labels-idx1-ubyte.gz", 8, n, 1).astype(np.int64)
    return torch.from_numpy(x), torch.from_numpy(y)


class Net(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = torch.nn.Conv2d(1, 8, 3, padding=1)
        self.conv2 = torch.nn.Conv2d(8, 16, 3, padding=1)
        self.fc = torch.nn.Linear(784, 10)

    def forward(self, x):
        x = torch.nn.functional.max_pool2d(torch.relu(self.conv1(x)), 2)
        x = torch.nn.functional.max_pool2d(torch.relu(self.conv2(x)), 2)
        return self.fc(x.permute(0, 2, 3, 1).flatten(1))  # (h, w, c) order, as nnlab flattens


def initial(seed):
    """He-normal weights (kaiming_normal_, fan_in, ReLU gain) and small random biases, so the
    biases' gradients and updates are exercised from the first step."""
    torch.manual_seed(seed)
    net = Net()
    for m in (net.conv1, net.conv2, net.fc):
        torch.nn.init.kaiming_normal_(m.weight, nonlinearity="relu")
        torch.nn.init.uniform_(m.bias, -0.1, 0.1)
    return net.state_dict()


def train(state, x, y, opt_name, lr, momentum, channels_last, epochs=1, gamma=1.0):
    """The loss of every step; an epoch is the len(x) // BATCH batches in order."""
    net = Net()
    net.load_state_dict(state)
    if channels_last:
        net = net.to(memory_format=torch.channels_last)
    opt = (torch.optim.Adam(net.parameters(), lr=lr) if opt_name == "adam"
           else torch.optim.SGD(net.parameters(), lr=lr, momentum=momentum))
    sched = torch.optim.lr_scheduler.StepLR(opt, step_size=1, gamma=gamma)
    losses = []
    for _ in range(epochs):
        for s in range(len(x) // BATCH):
            xb = x[s * BATCH:(s + 1) * BATCH]
            if channels_last:
                xb = xb.contiguous(memory_format=torch.channels_last)
            opt.zero_grad()
            loss = torch.nn.functional.cross_entropy(net(xb), y[s * BATCH:(s + 1) * BATCH])
            loss.backward()
            opt.step()
            losses.append(float(loss))
        sched.step()
    return losses


def tensor(t):
    return {"shape": list(t.shape), "data": [float(v) for v in t.flatten().tolist()]}


def nnlab_weights(state):
    """The state in nnlab's layouts, as /cnn's explicit weights would give them."""
    fc = state["fc.weight"].t().contiguous()  # [784, 10], rows already in (h, w, c) order
    return {
        "conv1.kernels": tensor(state["conv1.weight"].permute(0, 2, 3, 1)),
        "conv1.bias": tensor(state["conv1.bias"]),
        "conv2.kernels": tensor(state["conv2.weight"].permute(0, 2, 3, 1)),
        "conv2.bias": tensor(state["conv2.bias"]),
        "fc.weight": tensor(fc),
        "fc.bias": tensor(state["fc.bias"]),
    }


def main():
    out = pathlib.Path(sys.argv[1] if len(sys.argv) > 1 else "tests/fixtures")
    torch.set_num_threads(2)
    x, y = data()
    state = initial(7)
    cases = []
    for name, opt_name, lr, momentum, images, epochs, gamma in (
            ("adam", "adam", 1e-3, 0.0, STEPS * BATCH, 1, 1.0),
            ("sgd", "sgd", 0.01, 0.9, STEPS * BATCH, 1, 1.0),
            ("adam_decay", "adam", 2e-3, 0.0, STEPS * BATCH // 4, 2, 0.5)):
        xs, ys = x[:images], y[:images]
        nchw = train(state, xs, ys, opt_name, lr, momentum, False, epochs, gamma)
        cl = train(state, xs, ys, opt_name, lr, momentum, True, epochs, gamma)
        drift = max(abs(a - b) / abs(b) for a, b in zip(nchw, cl))
        print(f"{name}: loss {nchw[0]:.4f} -> {nchw[-1]:.4f}, NCHW vs channels-last {drift:.2e}",
              flush=True)
        cases.append({"name": name, "optimizer": opt_name, "learning_rate": lr,
                      "momentum": momentum, "images": images, "epochs": epochs, "lr_decay": gamma,
                      "losses": nchw, "losses_channels_last": cl, "torch_drift": drift})
    doc = {"generator": "gen_cnn_train.py", "torch": torch.__version__, "steps": STEPS,
           "batch_size": BATCH, "images": "the first 6400 training images, in order",
           "weights": nnlab_weights(state), "cases": cases}
    path = out / "cnn_train.json"
    path.write_text(json.dumps(doc, separators=(",", ":")))
    print(f"wrote {path} ({path.stat().st_size} bytes)")


if __name__ == "__main__":
    main()
