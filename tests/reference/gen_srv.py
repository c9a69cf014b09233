#!/usr/bin/python3
"""Reference fixtures for the daemon's request handlers (server/srv_*.c): writes srv.json into
the folder given as argv[1].

Cases (inputs drawn in float32, what the handlers receive; references by PyTorch):
  resize: torch.nn.functional.interpolate(mode="bilinear", align_corners=False) in float32 on
          [H, W, C] volumes (stored channels-last);
  mlp:    explicit weights [in, out]; logits = act(x W0 + b0) ... W_last + b_last, softmax, float64;
  cnn:    explicit kernels and MLP weights through conv -> relu -> max-pool -> conv -> relu ->
          global average pool -> MLP (tanh) -> softmax, float64."""
import json
import pathlib
import sys

import torch
import torch.nn.functional as F


def tensor(t):
    t = t.detach().to(torch.float64).contiguous()
    return {"shape": list(t.shape), "data": [float(v) for v in t.reshape(-1).tolist()]}


def rand(g, *shape, scale=1.0):
    return ((torch.rand(*shape, generator=g, dtype=torch.float64) * 2 - 1) * scale).to(torch.float32)


def resize_cases(g):
    out = []
    for (h, w, c, oh, ow) in [(4, 5, 3, 8, 10), (7, 6, 1, 3, 2), (5, 5, 2, 5, 9), (3, 8, 3, 6, 3),
                              (1, 4, 1, 3, 7)]:
        x = torch.rand(h, w, c, generator=g, dtype=torch.float64).to(torch.float32)
        y = F.interpolate(x.permute(2, 0, 1)[None], size=(oh, ow), mode="bilinear",
                          align_corners=False)[0].permute(1, 2, 0)
        out.append({"name": f"resize_{h}x{w}x{c}_to_{oh}x{ow}", "input": tensor(x),
                    "size": [oh, ow], "output": tensor(y)})
    return out


def act(x, name):
    return {"tanh": torch.tanh, "relu": F.relu, "sigmoid": torch.sigmoid,
            "identity": lambda v: v}[name](x)


def mlp_cases(g):
    out = []
    for (n_in, hidden, n_out, a) in [(4, [5], 3, "tanh"), (6, [8, 7], 4, "relu"), (3, [], 5, "identity"),
                                     (10, [6, 6, 6], 2, "sigmoid")]:
        x = rand(g, n_in)
        sizes = [n_in] + hidden + [n_out]
        layers = []
        h = x.to(torch.float64)
        for i in range(len(sizes) - 1):
            W = rand(g, sizes[i], sizes[i + 1], scale=0.8)
            b = rand(g, sizes[i + 1], scale=0.3)
            layers.append({"weight": tensor(W), "bias": tensor(b)})
            h = h @ W.to(torch.float64) + b.to(torch.float64)
            if i < len(sizes) - 2:
                h = act(h, a)
        out.append({"name": f"mlp_{n_in}_{'x'.join(map(str, hidden)) or 'none'}_{n_out}_{a}",
                    "input": tensor(x), "hidden_size": hidden, "output_size": n_out,
                    "activation": a, "weights": layers, "logits": tensor(h),
                    "softmax": tensor(torch.softmax(h, 0))})
    return out


def cnn_cases(g):
    H, W, C = 12, 11, 3
    x = torch.rand(H, W, C, generator=g, dtype=torch.float64).to(torch.float32)
    k1 = rand(g, 4, 3, 3, C, scale=0.5)
    b1 = rand(g, 4, scale=0.1)
    k2 = rand(g, 6, 3, 3, 4, scale=0.5)
    W1 = rand(g, 6, 5, scale=0.8)
    c1 = rand(g, 5, scale=0.3)
    W2 = rand(g, 5, 3, scale=0.8)
    c2 = rand(g, 3, scale=0.3)
    d = lambda t: t.to(torch.float64)
    h = d(x).permute(2, 0, 1)[None]
    h = F.relu(F.conv2d(h, d(k1).permute(0, 3, 1, 2), d(b1), stride=1, padding=1))
    h = F.max_pool2d(h, 2, 2)
    h = F.relu(F.conv2d(h, d(k2).permute(0, 3, 1, 2), None, stride=2, padding=0))
    h = h.mean(dim=(2, 3))[0]
    h = torch.tanh(h @ d(W1) + d(c1))
    logits = h @ d(W2) + d(c2)
    arch = [
        {"type": "conv", "filters": 4, "size": 3, "stride": 1, "padding": 1, "activation": "relu",
         "kernels": tensor(k1), "bias": tensor(b1)},
        {"type": "pool", "function": "max", "size": 2, "stride": 2},
        {"type": "conv", "filters": 6, "size": 3, "stride": 2, "padding": 0, "activation": "relu",
         "kernels": tensor(k2)},
        {"type": "global_pool", "function": "average"},
        {"type": "mlp", "hidden_layers": 1, "hidden_size": 5, "activation": "tanh", "output_size": 3,
         "weights": [{"weight": tensor(W1), "bias": tensor(c1)},
                     {"weight": tensor(W2), "bias": tensor(c2)}]},
    ]
    return [{"name": "cnn_small", "input": tensor(x), "architecture": arch, "logits": tensor(logits),
             "softmax": tensor(torch.softmax(logits, 0))}]


def main():
    out = pathlib.Path(sys.argv[1] if len(sys.argv) > 1 else "tests/fixtures")
    g = torch.Generator().manual_seed(4)
    doc = {"generator": f"tests/reference/gen_srv.py (torch {torch.__version__})",
           "cases": resize_cases(g) + mlp_cases(g) + cnn_cases(g)}
    (out / "srv.json").write_text(json.dumps(doc) + "\n")


if __name__ == "__main__":
    main()
