#!/usr/bin/python3
"""The same net, weights and batches in nnlab and PyTorch: compare every step's loss.

    examples/cnn_in_pytorch.py [URL [STEPS]]     (default http://127.0.0.1:8080 and 200 steps)

Needs a running nnlabd, Debian's python3-torch and python3-numpy, and Fashion-MNIST
(dataset-fashion-mnist; DATA below). docs/training.md explains it;
clients/python/tests/test_cnn_in_pytorch.py runs it."""
import gzip, json, sys, urllib.request
import numpy as np
import torch

URL = sys.argv[1] if len(sys.argv) > 1 else "http://127.0.0.1:8080"
STEPS = int(sys.argv[2]) if len(sys.argv) > 2 else 200
DATA, BATCH = "/usr/share/datasets/fashion-mnist", 32


class Net(torch.nn.Module):  # /train/cnn's default net
    def __init__(self):
        super().__init__()
        self.conv1 = torch.nn.Conv2d(1, 16, 3, padding=1)
        self.conv2 = torch.nn.Conv2d(16, 32, 3, padding=1)
        self.fc1, self.fc2 = torch.nn.Linear(1568, 128), torch.nn.Linear(128, 10)

    def forward(self, x):
        x = torch.nn.functional.max_pool2d(torch.relu(self.conv1(x)), 2)
        x = torch.nn.functional.max_pool2d(torch.relu(self.conv2(x)), 2)
        x = x.permute(0, 2, 3, 1).flatten(1)  # nnlab flattens [H, W, C] in that order
        return self.fc2(torch.relu(self.fc1(x)))


def tensor(t):
    return {"shape": list(t.shape), "data": t.detach().flatten().tolist()}


def as_nnlab(net):  # the net as /train/cnn's "init" (a done event's "weights" has this form)
    conv = lambda m: {"type": "conv", "filters": m.out_channels, "size": 3, "padding": 1,
                      "activation": "relu", "kernels": tensor(m.weight.permute(0, 2, 3, 1)),
                      "bias": m.bias.tolist()}
    pool = {"type": "pool", "function": "max", "size": 2}
    mlp = {"type": "mlp", "hidden_layers": 1, "hidden_size": 128, "activation": "relu",
           "output_size": 10, "weights": [{"weight": tensor(m.weight.t()), "bias": m.bias.tolist()}
                                          for m in (net.fc1, net.fc2)]}
    return [conv(net.conv1), pool, conv(net.conv2), pool, mlp]


torch.manual_seed(0)
net = Net()
body = {"init": as_nnlab(net), "epochs": 1, "train_samples": STEPS * BATCH, "test_samples": 100,
        "batch_size": BATCH, "shuffle": False, "report_every": 1}
req = urllib.request.Request(URL + "/train/cnn", json.dumps(body).encode(),
                             {"Content-Type": "application/json"})
ours = [l["loss"] for l in map(json.loads, urllib.request.urlopen(req)) if l["type"] == "progress"]

raw = lambda name, off: np.frombuffer(gzip.open(f"{DATA}/{name}").read(), np.uint8, offset=off)
x = torch.from_numpy(raw("train-images-idx3-ubyte.gz", 16)[:STEPS * BATCH * 784]
                     .reshape(-1, 1, 28, 28).astype(np.float32) / 255)
y = torch.from_numpy(raw("train-labels-idx1-ubyte.gz", 8)[:STEPS * BATCH].astype(np.int64))
opt, theirs = torch.optim.Adam(net.parameters(), lr=1e-3), []
for s in range(STEPS):
    opt.zero_grad()
    loss = torch.nn.functional.cross_entropy(net(x[s * BATCH:(s + 1) * BATCH]), y[s * BATCH:(s + 1) * BATCH])
    loss.backward()
    opt.step()
    theirs.append(loss.item())
rel = [abs(a - b) / b for a, b in zip(ours, theirs)]
print(f"{len(ours)} steps; loss {theirs[0]:.4f} -> {theirs[-1]:.4f}; largest relative difference "
      f"{max(rel[:20]):.1e} in the first 20 steps, {max(rel):.1e} in all")
assert len(ours) == STEPS, f"nnlab sent {len(ours)} losses"
