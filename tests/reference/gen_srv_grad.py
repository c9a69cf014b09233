#!/usr/bin/python3
"""Reference fixtures for the gradients of POST /conv, /pool and /mlp ("grad_output", "target";
server/srv_grad_*.c): writes srv_grad.json into the folder given as argv[1].

Each case holds the request body to send ("request": single-image tensors as {"shape", "data"},
channels-last, inputs drawn in float32 and printed exactly) and what the response must hold,
computed by PyTorch autograd in float64 on the same values: conv's output, grad_input [H, W, C],
grad_kernels [N, KH, KW, C] and grad_bias [N]; pool's output and grad_input (max pooling's ties
on purpose: PyTorch sends the gradient to the first maximum in scan order); the MLP's logits,
loss (cross-entropy of the softmax, with "target"), grad_input and grad_weights [in, out]."""
import json
import pathlib
import sys

import torch
import torch.nn.functional as F

from gen_conv import activation
from gen_grad import leaf, rand, tensor, tensor32

# (H, W, C, N, KH, KW, (sh, sw), (ph, pw), activation, negative_slope)
CONV_CASES = [
    (5, 5, 1, 1, 3, 3, (1, 1), (0, 0), "identity", None),
    (7, 9, 3, 4, 3, 3, (2, 2), (1, 1), "relu", None),
    (8, 6, 2, 3, 3, 3, (1, 1), (1, 1), "sigmoid", None),
    (9, 7, 4, 5, 2, 4, (1, 2), (2, 1), "tanh", None),
    (10, 8, 3, 2, 3, 3, (2, 2), (0, 0), "leaky_relu", None),
    (6, 11, 3, 2, 5, 3, (3, 1), (2, 0), "leaky_relu", 0.2),
    (7, 7, 2, 3, 3, 3, (1, 1), (1, 1), "leaky_relu", -0.5),
    (12, 10, 1, 16, 3, 3, (2, 2), (1, 1), "relu", None),
    (4, 4, 8, 3, 4, 4, (1, 1), (0, 0), "sigmoid", None),
]

# (function, H, W, C, size, stride or None (= size), ties) ; size "global" for global pooling
POOL_CASES = [
    ("max", 6, 6, 3, (2, 2), None, True),
    ("max", 7, 7, 2, (3, 3), (2, 2), True),
    ("max", 7, 9, 4, (3, 2), (1, 2), False),
    ("max", 7, 5, 1, (2, 2), None, True),
    ("average", 6, 8, 3, (2, 2), None, False),
    ("average", 7, 7, 2, (3, 3), (2, 2), False),
    ("average", 5, 9, 2, (2, 3), (1, 2), False),
    ("max", 5, 6, 3, "global", None, True),
    ("max", 4, 7, 2, "global", None, False),
    ("average", 5, 6, 3, "global", None, False),
]

# (input shape, hidden sizes, output size, activation, negative_slope, "grad_output" or a target)
MLP_CASES = [
    ((4,), [5], 3, "tanh", None, "grad_output"),
    ((6,), [8, 7], 4, "relu", None, 2),
    ((3,), [], 5, "identity", None, 0),
    ((10,), [6, 6, 6], 2, "sigmoid", None, "grad_output"),
    ((2, 3), [7], 4, "leaky_relu", -0.3, 3),
    ((5,), [9], 6, "leaky_relu", None, "grad_output"),
]


def slope_of(name, slope):
    return 0.01 if slope is None else slope


def conv_case(g, spec):
    H, W, C, N, KH, KW, s, p, act, slope = spec
    x, k, b = rand(g, H, W, C), rand(g, N, KH, KW, C, lo=-0.5, hi=0.5), rand(g, N, lo=-0.3, hi=0.3)
    x64, k64, b64 = leaf(x), leaf(k), leaf(b)
    z = F.conv2d(x64.permute(2, 0, 1)[None], k64.permute(0, 3, 1, 2), b64, stride=s, padding=p)
    y = activation(z, act, slope_of(act, slope))[0].permute(1, 2, 0)
    dy = rand(g, *y.shape)
    y.backward(dy.to(torch.float64))
    req = {"input": tensor32(x), "kernels": tensor32(k), "bias": tensor32(b)["data"],
           "stride": list(s), "padding": list(p), "activation": act, "grad_output": tensor32(dy)}
    if slope is not None:
        req["negative_slope"] = slope
    name = f"conv_{H}x{W}x{C}_n{N}_k{KH}x{KW}_s{s[0]}x{s[1]}_p{p[0]}x{p[1]}_{act}"
    if slope is not None:
        name += f"_{slope}"
    return {"name": name, "endpoint": "conv", "request": req, "output": tensor(y),
            "grad_input": tensor(x64.grad), "grad_kernels": tensor(k64.grad), "grad_bias": tensor(b64.grad)}


def pool_case(g, spec):
    fn, H, W, C, size, stride, ties = spec
    if ties:  # a few levels only: most windows hold their maximum twice or more
        x = torch.randint(0, 3, (H, W, C), generator=g).to(torch.float32) * 0.5 - 0.5
    else:
        x = rand(g, H, W, C)
    x64 = leaf(x)
    xn = x64.permute(2, 0, 1)[None]
    if size == "global":
        y = (F.adaptive_max_pool2d(xn, 1) if fn == "max" else F.adaptive_avg_pool2d(xn, 1)).reshape(C)
    else:
        st = stride or size
        y = (F.max_pool2d if fn == "max" else F.avg_pool2d)(xn, size, st)[0].permute(1, 2, 0)
    dy = rand(g, *y.shape)
    y.backward(dy.to(torch.float64))
    req = {"input": tensor32(x), "function": fn, "grad_output": tensor32(dy)}
    req["size"] = size if size == "global" else list(size)
    if stride:
        req["stride"] = list(stride)
    sz = size if size == "global" else f"{size[0]}x{size[1]}"
    name = f"pool_{fn}_{H}x{W}x{C}_{sz}" + (f"_s{stride[0]}x{stride[1]}" if stride else "") + ("_ties" if ties else "")
    return {"name": name, "endpoint": "pool", "request": req, "output": tensor(y), "grad_input": tensor(x64.grad)}


def mlp_case(g, spec):
    shape, hidden, n_out, act, slope, grad = spec
    x = rand(g, *shape)
    sizes = [x.numel()] + hidden + [n_out]
    Ws = [leaf(rand(g, sizes[i], sizes[i + 1], lo=-0.8, hi=0.8)) for i in range(len(sizes) - 1)]
    bs = [leaf(rand(g, sizes[i + 1], lo=-0.3, hi=0.3)) for i in range(len(sizes) - 1)]
    x64 = leaf(x)
    h = x64.reshape(-1)
    for i, (W, b) in enumerate(zip(Ws, bs)):
        h = h @ W + b
        if i < len(Ws) - 1:
            h = activation(h, act, slope_of(act, slope))
    req = {"input": tensor32(x), "hidden_layers": len(hidden), "hidden_size": hidden, "output_size": n_out,
           "activation": act, "weights": [{"weight": tensor32(W), "bias": tensor32(b)["data"]} for W, b in zip(Ws, bs)]}
    if slope is not None:
        req["negative_slope"] = slope
    case = {"endpoint": "mlp", "logits": tensor(h)}
    if grad == "grad_output":
        dy = rand(g, n_out)
        req["grad_output"] = tensor32(dy)
        h.backward(dy.to(torch.float64))
    else:
        req["target"] = grad
        loss = F.cross_entropy(h[None], torch.tensor([grad]))
        loss.backward()
        case["loss"] = float(f"{loss.item():.12g}")
    dims = "x".join(map(str, shape))
    case["name"] = f"mlp_{dims}_{'x'.join(map(str, hidden)) or 'none'}_{n_out}_{act}_" + \
        ("grad_output" if grad == "grad_output" else f"target{grad}")
    case["request"] = req
    case["grad_input"] = tensor(x64.grad)
    case["grad_weights"] = [{"weight": tensor(W.grad), "bias": tensor(b.grad)} for W, b in zip(Ws, bs)]
    return case


def main():
    out = pathlib.Path(sys.argv[1] if len(sys.argv) > 1 else "tests/fixtures")
    torch.set_num_threads(1)
    g = torch.Generator().manual_seed(1414)
    cases = [conv_case(g, s) for s in CONV_CASES] + [pool_case(g, s) for s in POOL_CASES] + \
        [mlp_case(g, s) for s in MLP_CASES]
    path = out / "srv_grad.json"
    path.write_text(json.dumps({"generator": "tests/reference/gen_srv_grad.py", "torch": torch.__version__,
                                "cases": cases}, separators=(",", ":")) + "\n")
    print(f"{path}: {len(cases)} cases, {path.stat().st_size} bytes")


if __name__ == "__main__":
    main()
