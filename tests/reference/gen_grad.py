#!/usr/bin/python3
"""Reference fixtures for the backward passes, the loss and the optimisers (nnlab core/
nn_conv_batch, nn_pool_batch, nn_linear, nn_act, nn_loss, nn_optim).

Writes grad_conv.json, grad_pool.json, grad_linear.json, grad_act.json, grad_loss.json and
optim.json into the folder given as argv[1]. Inputs are drawn in float32 (what the C code
receives, printed with 9 significant digits: exact for float32) and every reference value is
computed by PyTorch autograd in float64 (printed with 12 significant digits, far below the
tests' 1e-5). The optimiser fixture is PyTorch's own float32 torch.optim run. Layouts are
nnlab's, batch-major and channels-last: images [B, H, W, C], kernels [N, KH, KW, C], MLP
weights [in, out]; PyTorch's NCHW and [out, in] are permuted to and from them."""
import json
import pathlib
import sys

import torch
import torch.nn.functional as F

from gen_conv import activation

ACTS = ["identity", "sigmoid", "tanh", "relu", "leaky_relu"]


def tensor(t, digits=12):
    t = t.detach().to(torch.float64).contiguous()
    return {"shape": list(t.shape), "data": [float(f"{v:.{digits}g}") for v in t.reshape(-1).tolist()]}


def tensor32(t):
    """A float32 input: 9 significant digits read back as the same float32."""
    return tensor(t, 9)


def rand(g, *shape, lo=-1.0, hi=1.0):
    return torch.rand(*shape, generator=g, dtype=torch.float32) * (hi - lo) + lo


def leaf(t):
    return t.to(torch.float64).requires_grad_(True)


# ---- convolution ----------------------------------------------------------------------------

# (B, H, W, C, N, KH, KW, sh, sw, ph, pw, activation, bias)
CONV_CASES = [
    (1, 5, 5, 1, 1, 3, 3, 1, 1, 0, 0, "identity", False),
    (2, 7, 9, 3, 4, 3, 3, 1, 1, 1, 1, "relu", True),
    (3, 11, 8, 2, 5, 3, 3, 2, 2, 0, 0, "sigmoid", True),
    (2, 9, 7, 4, 5, 2, 4, 1, 2, 2, 1, "tanh", True),
    (1, 13, 10, 7, 3, 5, 3, 3, 1, 2, 0, "leaky_relu", True),
    (4, 6, 8, 1, 2, 1, 5, 1, 3, 0, 2, "identity", True),
    (2, 10, 10, 8, 16, 3, 3, 1, 1, 1, 1, "relu", True),
    (3, 12, 9, 4, 17, 3, 2, 2, 1, 1, 0, "sigmoid", False),
    (1, 9, 11, 17, 1, 3, 3, 1, 1, 2, 2, "identity", True),
    (2, 9, 20, 5, 9, 4, 3, 2, 3, 2, 2, "leaky_relu", True),
    (5, 8, 13, 3, 1, 3, 3, 1, 1, 0, 0, "relu", True),
    (1, 7, 15, 4, 2, 3, 5, 2, 3, 1, 2, "tanh", False),
    (2, 3, 3, 7, 2, 3, 3, 1, 1, 2, 2, "identity", True),
    (1, 4, 6, 1, 12, 4, 6, 1, 1, 0, 0, "relu", True),
    (2, 17, 5, 3, 8, 7, 1, 2, 1, 1, 0, "sigmoid", True),
    (1, 2, 2, 3, 4, 3, 3, 3, 3, 1, 1, "tanh", True),
    (17, 6, 5, 2, 3, 3, 3, 1, 1, 1, 1, "relu", True),
    (1, 28, 28, 1, 8, 3, 3, 1, 1, 1, 1, "relu", True),   # the benchmark net's first layer
    (1, 14, 14, 8, 16, 3, 3, 1, 1, 1, 1, "relu", True),  # and its second
    (1, 11, 11, 16, 13, 1, 1, 1, 1, 0, 0, "leaky_relu", True),
    (2, 10, 9, 3, 6, 2, 2, 2, 2, 0, 0, "identity", True),  # windows that skip input pixels
    (1, 8, 12, 5, 7, 3, 4, 3, 2, 2, 1, "sigmoid", True),
]


def random_conv_cases(g, count):
    """More shapes, drawn: every stride 1-3, padding 0-2 (below the kernel), sizes 1-17."""
    out = []
    while len(out) < count:
        r = lambda lo, hi: int(torch.randint(lo, hi + 1, (1,), generator=g))
        B, H, W, C, N = r(1, 4), r(1, 12), r(1, 12), r(1, 17), r(1, 17)
        KH, KW, sh, sw = r(1, 4), r(1, 4), r(1, 3), r(1, 3)
        ph, pw = r(0, min(2, KH - 1)), r(0, min(2, KW - 1))
        if H + 2 * ph < KH or W + 2 * pw < KW:
            continue
        OH, OW = (H + 2 * ph - KH) // sh + 1, (W + 2 * pw - KW) // sw + 1
        if B * (H * W * C * 2 + OH * OW * N * 3) + N * KH * KW * C * 2 > 6000:
            continue
        out.append((B, H, W, C, N, KH, KW, sh, sw, ph, pw, ACTS[r(0, 4)], r(0, 1) == 1))
    return out


def conv_case(g, spec):
    B, H, W, C, N, KH, KW, sh, sw, ph, pw, act, has_bias = spec
    slope = 0.2 if act == "leaky_relu" else 0.01
    x = rand(g, B, H, W, C)
    k = rand(g, N, KH, KW, C)
    b = rand(g, N, lo=-0.5, hi=0.5) if has_bias else None
    x64, k64 = leaf(x), leaf(k)
    b64 = leaf(b if b is not None else torch.zeros(N))  # a zero bias still has a gradient
    z = F.conv2d(x64.permute(0, 3, 1, 2), k64.permute(0, 3, 1, 2), b64, stride=(sh, sw), padding=(ph, pw))
    y = activation(z, act, slope).permute(0, 2, 3, 1)                       # [B, OH, OW, N]
    dy = rand(g, *y.shape)
    y.backward(dy.to(torch.float64))
    case = {"name": f"b{B}_{H}x{W}x{C}_n{N}_k{KH}x{KW}_s{sh}x{sw}_p{ph}x{pw}_{act}",
            "stride": [sh, sw], "padding": [ph, pw], "activation": act, "negative_slope": slope,
            "input": tensor32(x), "kernels": tensor32(k), "grad_output": tensor32(dy),
            "output": tensor(y), "grad_input": tensor(x64.grad), "grad_kernels": tensor(k64.grad),
            "grad_bias": tensor(b64.grad)}
    if b is not None:
        case["bias"] = tensor32(b)
    return case


def conv_fixture():
    g = torch.Generator().manual_seed(1401)
    return [conv_case(g, s) for s in CONV_CASES + random_conv_cases(g, 24)]


# ---- pooling --------------------------------------------------------------------------------

# (function, B, H, W, C, size_h, size_w, stride_h, stride_w, ties)
POOL_CASES = [
    ("max", 2, 4, 4, 1, 2, 2, 2, 2, False),
    ("max", 3, 28, 28, 8, 2, 2, 2, 2, False),
    ("max", 2, 14, 14, 16, 2, 2, 2, 2, True),
    ("max", 1, 7, 9, 3, 3, 2, 2, 3, True),
    ("max", 2, 9, 8, 5, 3, 3, 1, 1, True),    # overlapping windows share maxima
    ("max", 1, 11, 6, 17, 2, 3, 3, 1, False),
    ("max", 4, 5, 5, 2, 5, 5, 1, 1, True),
    ("max", 1, 6, 6, 4, 1, 1, 1, 1, False),
    ("max", 2, 13, 7, 70, 2, 2, 2, 2, True),  # more channels than one block of 64
    ("average", 2, 4, 4, 1, 2, 2, 2, 2, False),
    ("average", 2, 9, 7, 3, 3, 3, 2, 2, False),
    ("average", 1, 8, 10, 6, 2, 3, 1, 2, False),
    ("average", 3, 6, 6, 17, 3, 2, 3, 1, False),
    ("average", 1, 5, 7, 4, 2, 2, 1, 1, False),
]

# (function, B, H, W, C, ties)
GLOBAL_CASES = [
    ("max", 2, 5, 5, 3, False),
    ("max", 3, 4, 6, 17, True),
    ("max", 1, 1, 1, 4, False),
    ("max", 2, 7, 3, 70, True),
    ("average", 2, 5, 5, 3, False),
    ("average", 1, 9, 4, 17, False),
    ("average", 3, 1, 1, 2, False),
]


def pool_input(g, B, H, W, C, ties):
    if ties:  # a few levels only: most windows hold their maximum twice or more
        return torch.randint(0, 3, (B, H, W, C), generator=g).to(torch.float32) * 0.5 - 0.5
    return rand(g, B, H, W, C)


def pool_fixture():
    g = torch.Generator().manual_seed(1402)
    cases = []
    for fn, B, H, W, C, kh, kw, sh, sw, ties in POOL_CASES:
        x = pool_input(g, B, H, W, C, ties)
        x64 = leaf(x)
        xn = x64.permute(0, 3, 1, 2)
        if fn == "max":
            y = F.max_pool2d(xn, (kh, kw), (sh, sw))
        else:
            y = F.avg_pool2d(xn, (kh, kw), (sh, sw))
        y = y.permute(0, 2, 3, 1)
        dy = rand(g, *y.shape)
        y.backward(dy.to(torch.float64))
        cases.append({"name": f"{fn}_b{B}_{H}x{W}x{C}_k{kh}x{kw}_s{sh}x{sw}{'_ties' if ties else ''}",
                      "function": fn, "global": False, "size": [kh, kw], "stride": [sh, sw],
                      "input": tensor32(x), "grad_output": tensor32(dy), "output": tensor(y),
                      "grad_input": tensor(x64.grad)})
    for fn, B, H, W, C, ties in GLOBAL_CASES:
        x = pool_input(g, B, H, W, C, ties)
        x64 = leaf(x)
        xn = x64.permute(0, 3, 1, 2)
        y = (F.adaptive_max_pool2d(xn, 1) if fn == "max" else F.adaptive_avg_pool2d(xn, 1)).reshape(B, C)
        dy = rand(g, B, C)
        y.backward(dy.to(torch.float64))
        cases.append({"name": f"global_{fn}_b{B}_{H}x{W}x{C}{'_ties' if ties else ''}", "function": fn,
                      "global": True, "input": tensor32(x), "grad_output": tensor32(dy), "output": tensor(y),
                      "grad_input": tensor(x64.grad)})
    return cases


# ---- linear layer, activations, loss ----------------------------------------------------------

LINEAR_CASES = [(1, 1, 1), (1, 5, 3), (4, 7, 10), (3, 17, 13), (4, 784, 10), (32, 49, 10), (5, 10, 33),
                (2, 64, 17), (17, 3, 1), (9, 40, 64)]


def linear_fixture():
    g = torch.Generator().manual_seed(1403)
    cases = []
    for B, nin, nout in LINEAR_CASES:
        x, W, b = rand(g, B, nin), rand(g, nin, nout, lo=-0.3, hi=0.3), rand(g, nout, lo=-0.5, hi=0.5)
        x64, W64, b64 = leaf(x), leaf(W), leaf(b)
        y = F.linear(x64, W64.t(), b64)                                       # x W + b
        dy = rand(g, B, nout)
        y.backward(dy.to(torch.float64))
        cases.append({"name": f"b{B}_{nin}_to_{nout}", "input": tensor32(x), "weight": tensor32(W),
                      "bias": tensor32(b), "grad_output": tensor32(dy), "output": tensor(y),
                      "grad_input": tensor(x64.grad), "grad_weight": tensor(W64.grad),
                      "grad_bias": tensor(b64.grad)})
    return cases


def act_fixture():
    """Backward from the output, as nn_act_backward_output computes it (autograd's own rule)."""
    g = torch.Generator().manual_seed(1404)
    cases = []
    for act in ACTS:
        for slope in ([0.01, 0.2, 0.0] if act == "leaky_relu" else [0.01]):
            x = torch.cat([rand(g, 60, lo=-6, hi=6), torch.tensor([0.0, 1e-3, -1e-3, 20.0, -20.0])])
            x64 = leaf(x)
            y = activation(x64, act, slope)
            dy = rand(g, x.numel())
            y.backward(dy.to(torch.float64))
            # the C code gets y as float32: the reference is the float64 gradient at that y's x
            cases.append({"name": f"{act}_{slope}", "activation": act, "negative_slope": slope,
                          "input": tensor32(x), "output": tensor(y), "grad_output": tensor32(dy),
                          "grad_input": tensor(x64.grad)})
    return cases


def loss_fixture():
    g = torch.Generator().manual_seed(1405)
    cases = []
    for B, K, scale, shift in [(1, 2, 1, 0), (4, 10, 3, 0), (32, 10, 2, 0), (3, 1000, 5, 0), (5, 7, 1000, 0),
                               (6, 10, 1, -1e4), (2, 3, 80, 50), (17, 5, 0.01, 0)]:
        z = rand(g, B, K) * scale + shift
        t = torch.randint(0, K, (B,), generator=g)
        z64 = leaf(z)
        loss = F.cross_entropy(z64, t)
        loss.backward()
        cases.append({"name": f"b{B}_k{K}_scale{scale}_shift{shift}", "logits": tensor32(z),
                      "target": [int(v) for v in t], "loss": float(loss), "grad_logits": tensor(z64.grad),
                      "correct": int((z64.argmax(1) == t).sum())})
    return cases


# ---- optimisers ---------------------------------------------------------------------------------

OPTIM_CASES = [
    ("sgd", {"lr": 0.1}),
    ("sgd", {"lr": 0.05, "momentum": 0.9}),
    ("sgd", {"lr": 0.05, "momentum": 0.8, "dampening": 0.1, "weight_decay": 0.01}),
    ("sgd", {"lr": 0.02, "momentum": 0.9, "nesterov": True, "weight_decay": 0.001}),
    ("adam", {"lr": 0.001}),
    ("adam", {"lr": 0.01, "betas": (0.8, 0.99), "eps": 1e-6, "weight_decay": 0.01}),
    ("adam", {"lr": 0.1}),
]


def optim_fixture():
    """torch.optim itself, float32, over 7 steps of given gradients (some tiny, some zero)."""
    g = torch.Generator().manual_seed(1406)
    cases = []
    n, steps = 37, 7
    for kind, opts in OPTIM_CASES:
        p0 = rand(g, n)
        grads = rand(g, steps, n) * torch.tensor([1.0, 1e-3, 10.0, 0.0, 1.0, 1e-7, 0.5])[:, None]
        p = p0.clone().requires_grad_(True)
        opt = (torch.optim.SGD if kind == "sgd" else torch.optim.Adam)([p], **opts)
        after = []
        for s in range(steps):
            opt.zero_grad()
            p.grad = grads[s].clone()
            opt.step()
            after.append(p.detach().clone())
        o = dict(opts)
        if "betas" in o:
            o["beta1"], o["beta2"] = o.pop("betas")
        cases.append({"name": f"{kind}_" + "_".join(f"{k}{v}" for k, v in o.items()), "optimizer": kind,
                      **{k: (float(v) if not isinstance(v, bool) else v) for k, v in o.items()},
                      "init": tensor32(p0), "grads": tensor32(grads), "params": tensor32(torch.stack(after))})
    return cases


def write(out, name, cases):
    path = out / name
    path.write_text(json.dumps({"generator": "tests/reference/gen_grad.py", "torch": torch.__version__,
                                "cases": cases}, separators=(",", ":")) + "\n")
    print(f"{path}: {len(cases)} cases, {path.stat().st_size} bytes")


def main():
    out = pathlib.Path(sys.argv[1] if len(sys.argv) > 1 else "tests/fixtures")
    torch.set_num_threads(1)
    write(out, "grad_conv.json", conv_fixture())
    write(out, "grad_pool.json", pool_fixture())
    write(out, "grad_linear.json", linear_fixture())
    write(out, "grad_act.json", act_fixture())
    write(out, "grad_loss.json", loss_fixture())
    write(out, "optim.json", optim_fixture())


if __name__ == "__main__":
    main()
