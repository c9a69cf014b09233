#!/usr/bin/python3
"""Reference fixtures for pooling, the MLP and the CNN forward pass (nnlab core/nn_pool,
core/nn_mlp, core/nn_cnn).

Writes pool.json, mlp.json and cnn.json into the folder given as argv[1]. Inputs and parameters
are drawn in float32 (what the C code receives); every reference value is computed by
torch.nn.functional in float64 (max_pool2d, avg_pool2d, adaptive pools, conv2d, linear, softmax,
activations; gradients by autograd). PyTorch's layouts are NCHW, conv weight [N, C, KH, KW] and
Linear weight [out, in]; the fixtures are stored in nnlab's layouts: volumes [H, W, C], kernels
[N, KH, KW, C], MLP weights [in, out]."""
import json
import pathlib
import sys

import torch
import torch.nn.functional as F

from gen_conv import activation  # the same activations as the convolution fixtures


def tensor(t):
    t = t.detach().to(torch.float64).contiguous()
    return {"shape": list(t.shape), "data": [float(v) for v in t.reshape(-1).tolist()]}


def rand(g, *shape, lo=-1.0, hi=1.0):
    """Uniform float32 values (exactly what C will see), returned as float64."""
    return (torch.rand(*shape, generator=g, dtype=torch.float32) * (hi - lo) + lo).to(torch.float64)


def to_nchw(x):  # [H, W, C] -> [1, C, H, W]
    return x.permute(2, 0, 1).unsqueeze(0)


def to_hwc(y):  # [1, C, H, W] -> [H, W, C]
    return y[0].permute(1, 2, 0)


# ---- pooling ------------------------------------------------------------------------------
# (H, W, C, function, kh, kw, sh, sw, as_2d_map)
POOL_CASES = [
    (5, 5, 1, "max", 2, 2, 2, 2, False),
    (7, 9, 3, "average", 3, 3, 1, 1, False),
    (11, 13, 4, "max", 3, 2, 2, 3, False),
    (10, 7, 7, "average", 2, 4, 3, 1, False),
    (9, 9, 1, "max", 3, 3, 3, 3, True),
    (8, 11, 1, "average", 2, 3, 1, 2, True),
    (8, 6, 16, "max", 2, 2, 2, 2, False),
    (13, 11, 3, "average", 1, 1, 2, 2, False),
    (6, 10, 4, "max", 6, 1, 1, 3, False),
    (17, 15, 20, "average", 4, 3, 3, 2, False),
    (12, 12, 23, "max", 2, 3, 1, 2, False),
    (31, 29, 7, "max", 3, 3, 2, 2, False),
    (4, 4, 5, "average", 4, 4, 1, 1, False),
    (15, 9, 3, "max", 1, 3, 3, 1, False),
    (9, 16, 36, "average", 3, 5, 2, 3, False),
]

# (H, W, C, function)
GLOBAL_CASES = [
    (7, 5, 3, "max"),
    (9, 11, 4, "average"),
    (3, 3, 1, "average"),
    (20, 17, 7, "max"),
    (1, 1, 5, "average"),
    (13, 6, 70, "average"),
    (11, 12, 67, "max"),
]


def pool_cases():
    g = torch.Generator().manual_seed(7)
    cases = []
    for i, (H, W, C, fn, kh, kw, sh, sw, as2d) in enumerate(POOL_CASES):
        x = rand(g, H, W, C).requires_grad_(True)
        xt = to_nchw(x)
        if fn == "max":
            y = F.max_pool2d(xt, (kh, kw), (sh, sw))
        else:
            y = F.avg_pool2d(xt, (kh, kw), (sh, sw))
        y = to_hwc(y)
        dy = rand(g, *y.shape)
        (dx,) = torch.autograd.grad(y, x, dy)
        shape2d = (lambda t: t.reshape(t.shape[0], t.shape[1])) if as2d else (lambda t: t)
        cases.append({
            "name": f"pool{i}_{fn}_{H}x{W}x{C}_k{kh}x{kw}_s{sh}x{sw}" + ("_2d" if as2d else ""),
            "function": fn, "size": [kh, kw], "stride": [sh, sw],
            "input": tensor(shape2d(x)), "output": tensor(shape2d(y)),
            "grad_output": tensor(shape2d(dy)), "grad_input": tensor(shape2d(dx)),
        })
    for i, (H, W, C, fn) in enumerate(GLOBAL_CASES):
        x = rand(g, H, W, C)
        xt = to_nchw(x)
        y = F.adaptive_max_pool2d(xt, 1) if fn == "max" else F.adaptive_avg_pool2d(xt, 1)
        cases.append({
            "name": f"global{i}_{fn}_{H}x{W}x{C}", "function": fn, "global": True,
            "input": tensor(x), "output": tensor(y.reshape(C)),
        })
    return cases


# ---- MLP ----------------------------------------------------------------------------------
# (input, hidden sizes, output, activation, input scale)
MLP_CASES = [
    (4, [], 3, "identity", 1.0),
    (5, [8], 4, "tanh", 1.0),
    (7, [6, 9, 5], 10, "relu", 1.0),
    (3, [20], 1000, "tanh", 1.0),
    (12, [4, 4], 6, "sigmoid", 1.0),
    (9, [13], 7, "leaky_relu", 1.0),
    (6, [5], 8, "identity", 400.0),  # logits in the hundreds: softmax must subtract the max
    (32, [20], 1000, "tanh", 1.0),   # the default architecture's head
]


def mlp_forward(x, layers, act, slope):
    h = x
    for l, (W, b) in enumerate(layers):  # W [in, out]: F.linear takes [out, in]
        h = F.linear(h, W.t(), b)
        if l + 1 < len(layers):
            h = activation(h, act, slope)
    return h


def mlp_cases():
    g = torch.Generator().manual_seed(11)
    cases = []
    for i, (nin, hidden, nout, act, scale) in enumerate(MLP_CASES):
        slope = 0.1 if act == "leaky_relu" else 0.01
        x = (rand(g, nin) * scale).requires_grad_(True)
        sizes = [nin] + hidden + [nout]
        layers = []
        for a, b in zip(sizes[:-1], sizes[1:]):
            bound = 1.0 / a ** 0.5
            W = rand(g, a, b, lo=-bound, hi=bound).requires_grad_(True)
            bias = rand(g, b, lo=-bound, hi=bound).requires_grad_(True)
            layers.append((W, bias))
        logits = mlp_forward(x, layers, act, slope)
        probs = torch.softmax(logits, dim=0)
        dlogits = rand(g, nout)
        params = [p for wb in layers for p in wb]
        grads = torch.autograd.grad(logits, [x] + params, dlogits)
        dx, pgrads = grads[0], grads[1:]
        cases.append({
            "name": f"mlp{i}_{nin}_{'-'.join(map(str, hidden)) or 'none'}_{nout}_{act}",
            "hidden_sizes": hidden, "output_size": nout, "activation": act, "negative_slope": slope,
            "input": tensor(x),
            "weights": [{"weight": tensor(W), "bias": tensor(b)} for W, b in layers],
            "logits": tensor(logits), "softmax": tensor(probs),
            "grad_logits": tensor(dlogits), "grad_input": tensor(dx),
            "grad_weights": [{"weight": tensor(pgrads[2 * l]), "bias": tensor(pgrads[2 * l + 1])}
                             for l in range(len(layers))],
        })
    return cases


# ---- CNN ----------------------------------------------------------------------------------
DEFAULT_ARCH = [
    {"type": "conv", "filters": 16, "size": [3, 3], "stride": [2, 2], "padding": [0, 0], "activation": "relu"},
    {"type": "pool", "function": "max", "size": [2, 2], "stride": [2, 2]},
    {"type": "conv", "filters": 32, "size": [3, 3], "stride": [1, 1], "padding": [1, 1], "activation": "relu"},
    {"type": "pool", "function": "max", "size": [2, 2], "stride": [2, 2]},
    {"type": "global_pool", "function": "average"},
    {"type": "mlp", "hidden_sizes": [20], "activation": "tanh", "output_size": 1000},
]

CUSTOM_ARCH = [
    {"type": "conv", "filters": 6, "size": [5, 3], "stride": [2, 1], "padding": [1, 2],
     "activation": "leaky_relu", "negative_slope": 0.1},
    {"type": "pool", "function": "average", "size": [3, 2], "stride": [2, 1]},
    {"type": "conv", "filters": 5, "size": [2, 2], "stride": [1, 1], "padding": [0, 0], "activation": "sigmoid"},
    {"type": "pool", "function": "max", "size": [2, 2], "stride": [2, 2]},
    {"type": "mlp", "hidden_sizes": [7, 5], "activation": "relu", "output_size": 4},
]

CUSTOM_ARCH2 = [
    {"type": "conv", "filters": 7, "size": [3, 3], "stride": [3, 3], "padding": [2, 2], "activation": "tanh"},
    {"type": "conv", "filters": 3, "size": [1, 2], "stride": [1, 1], "padding": [0, 1], "activation": "identity"},
    {"type": "global_pool", "function": "max"},
    {"type": "mlp", "hidden_sizes": [], "activation": "identity", "output_size": 5},
    {"type": "mlp", "hidden_sizes": [3], "activation": "sigmoid", "output_size": 2},
]


def cnn_case(g, name, arch, H, W, C, image=True):
    x = rand(g, H, W, C, lo=0.0 if image else -1.0, hi=1.0)
    cur = x  # [H, W, C] or [n]
    layers, outputs = [], []
    for spec in arch:
        spec = dict(spec)
        t = spec["type"]
        if t == "conv":
            N, (kh, kw) = spec["filters"], spec["size"]
            cin = cur.shape[2]
            bound = (6.0 / (kh * kw * cin)) ** 0.5
            k = rand(g, N, kh, kw, cin, lo=-bound, hi=bound)
            b = rand(g, N, lo=-0.1, hi=0.1)
            y = F.conv2d(to_nchw(cur), k.permute(0, 3, 1, 2).contiguous(), b,
                         stride=tuple(spec["stride"]), padding=tuple(spec["padding"]))
            cur = to_hwc(activation(y, spec["activation"], spec.get("negative_slope", 0.01)))
            spec["kernels"], spec["bias"] = tensor(k), tensor(b)
        elif t == "pool":
            f = F.max_pool2d if spec["function"] == "max" else F.avg_pool2d
            cur = to_hwc(f(to_nchw(cur), tuple(spec["size"]), tuple(spec["stride"])))
        elif t == "global_pool":
            f = F.adaptive_max_pool2d if spec["function"] == "max" else F.adaptive_avg_pool2d
            cur = f(to_nchw(cur), 1).reshape(-1)
        elif t == "mlp":
            vec = cur.reshape(-1)
            sizes = [vec.shape[0]] + spec["hidden_sizes"] + [spec["output_size"]]
            wl = []
            for a, b_ in zip(sizes[:-1], sizes[1:]):
                bound = 1.0 / a ** 0.5
                wl.append((rand(g, a, b_, lo=-bound, hi=bound), rand(g, b_, lo=-bound, hi=bound)))
            cur = mlp_forward(vec, wl, spec["activation"], spec.get("negative_slope", 0.01))
            spec["weights"] = [{"weight": tensor(Wt), "bias": tensor(bt)} for Wt, bt in wl]
        layers.append(spec)
        outputs.append(tensor(cur))
    logits = cur.reshape(-1)
    return {"name": name, "input": tensor(x), "architecture": layers, "outputs": outputs,
            "logits": tensor(logits), "softmax": tensor(torch.softmax(logits, dim=0))}


def cnn_cases():
    g = torch.Generator().manual_seed(13)
    return [
        cnn_case(g, "default_37x29x3", DEFAULT_ARCH, 37, 29, 3),
        cnn_case(g, "default_16x16x1", DEFAULT_ARCH, 16, 16, 1),
        cnn_case(g, "custom_23x19x4", CUSTOM_ARCH, 23, 19, 4, image=False),
        cnn_case(g, "custom2_10x13x7", CUSTOM_ARCH2, 10, 13, 7, image=False),
    ]


def main():
    out = pathlib.Path(sys.argv[1] if len(sys.argv) > 1 else "tests/fixtures")
    out.mkdir(parents=True, exist_ok=True)
    torch.set_default_dtype(torch.float64)
    for fname, cases in (("pool.json", pool_cases()), ("mlp.json", mlp_cases()), ("cnn.json", cnn_cases())):
        doc = {"generator": "tests/reference/gen_net.py", "torch": torch.__version__, "cases": cases}
        (out / fname).write_text(json.dumps(doc, separators=(",", ":")) + "\n")
        print(f"wrote {out / fname}: {len(cases)} cases")


if __name__ == "__main__":
    main()
