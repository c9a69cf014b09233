#!/usr/bin/python3
"""Reference fixtures for convolution and activations (nnlab core/nn_conv, core/nn_act).

Writes conv.json and act.json into the folder given as argv[1]. Inputs are drawn in float32
(what the C code receives) and every reference value is computed by torch.nn.functional in
float64. PyTorch's layouts are NCHW and weight [N, C, KH, KW]; the fixtures are stored in
nnlab's channels-last layouts: input [H, W, C], kernels [N, KH, KW, C], output [OH, OW, N]."""
import json
import pathlib
import sys

import torch
import torch.nn.functional as F


def tensor(t):
    t = t.detach().to(torch.float64).contiguous()
    return {"shape": list(t.shape), "data": [float(v) for v in t.reshape(-1).tolist()]}


def activation(x, name, slope):
    if name == "identity":
        return x
    if name == "sigmoid":
        return torch.sigmoid(x)
    if name == "tanh":
        return torch.tanh(x)
    if name == "relu":
        return F.relu(x)
    if name == "leaky_relu":
        return F.leaky_relu(x, negative_slope=slope)
    raise ValueError(name)


# (H, W, C, N, KH, KW, sh, sw, ph, pw, activation, bias)
CONV_CASES = [
    (5, 5, 1, 1, 3, 3, 1, 1, 0, 0, "identity", False),
    (7, 9, 3, 1, 3, 3, 1, 1, 1, 1, "relu", True),
    (11, 13, 3, 4, 3, 3, 2, 2, 0, 0, "sigmoid", True),
    (9, 7, 4, 5, 2, 4, 1, 2, 2, 1, "tanh", True),
    (13, 10, 7, 3, 5, 3, 3, 1, 2, 0, "leaky_relu", True),
    (6, 8, 1, 2, 1, 5, 1, 3, 0, 2, "identity", True),
    (10, 10, 3, 16, 3, 3, 1, 1, 1, 1, "relu", True),
    (12, 9, 4, 17, 3, 2, 2, 1, 1, 0, "sigmoid", False),
    (9, 11, 3, 64, 3, 3, 1, 1, 1, 1, "identity", True),
    (9, 20, 7, 33, 4, 3, 2, 3, 2, 2, "leaky_relu", True),
    (8, 31, 3, 1, 3, 3, 1, 1, 0, 0, "relu", True),
    (7, 40, 4, 1, 3, 5, 2, 3, 1, 2, "tanh", False),
    (3, 3, 7, 2, 3, 3, 1, 1, 2, 2, "identity", True),
    (4, 6, 1, 20, 4, 6, 1, 1, 0, 0, "relu", True),
    (17, 5, 3, 8, 7, 1, 2, 1, 1, 0, "sigmoid", True),
    (11, 11, 16, 32, 3, 3, 1, 1, 1, 1, "relu", True),
    (21, 23, 3, 16, 3, 3, 2, 2, 0, 0, "relu", True),
    (5, 30, 1, 1, 1, 1, 1, 2, 0, 1, "identity", True),
    (2, 2, 3, 4, 3, 3, 3, 3, 1, 1, "tanh", True),
    (5, 19, 3, 96, 3, 3, 1, 1, 1, 1, "leaky_relu", True),
    # 3x3 stride 1, C <= 4, N a multiple of 64: the Winograd path (odd sizes, every padding)
    (1, 1, 3, 64, 3, 3, 1, 1, 1, 1, "relu", True),
    (8, 7, 1, 64, 3, 3, 1, 1, 0, 0, "sigmoid", True),
    (10, 9, 4, 128, 3, 3, 1, 1, 2, 2, "tanh", False),
    (7, 6, 2, 64, 3, 3, 1, 1, 1, 0, "leaky_relu", True),
    (15, 13, 3, 192, 3, 3, 1, 1, 0, 1, "identity", True),
]


def conv_cases():
    g = torch.Generator().manual_seed(2024)
    cases = []
    for i, (H, W, C, N, KH, KW, sh, sw, ph, pw, act, has_bias) in enumerate(CONV_CASES):
        x = (torch.rand(H, W, C, generator=g, dtype=torch.float32) * 2 - 1)
        k = (torch.rand(N, KH, KW, C, generator=g, dtype=torch.float32) * 2 - 1)
        b = (torch.rand(N, generator=g, dtype=torch.float32) - 0.5) if has_bias else None
        slope = 0.2 if act == "leaky_relu" else 0.01
        # float32 values, float64 arithmetic; permute to PyTorch's layouts and back.
        x64 = x.to(torch.float64).permute(2, 0, 1).unsqueeze(0)          # [1, C, H, W]
        k64 = k.to(torch.float64).permute(0, 3, 1, 2).contiguous()       # [N, C, KH, KW]
        b64 = b.to(torch.float64) if b is not None else None
        y = F.conv2d(x64, k64, b64, stride=(sh, sw), padding=(ph, pw))
        y = activation(y, act, slope)[0].permute(1, 2, 0)                # [OH, OW, N]
        case = {
            "name": f"conv{i}_{H}x{W}x{C}_n{N}_k{KH}x{KW}_s{sh}x{sw}_p{ph}x{pw}_{act}",
            "stride": [sh, sw], "padding": [ph, pw],
            "activation": act, "negative_slope": slope,
            "input": tensor(x), "kernels": tensor(k), "output": tensor(y),
        }
        if b is not None:
            case["bias"] = tensor(b)
        cases.append(case)
    return cases


def act_cases():
    vals = [-1000.0, -100.0, -88.5, -50.0, -20.0, -10.0, -5.0, -1.5, -1.0, -0.625, -0.5, -0.1,
            -1e-3, -1e-7, 0.0, 1e-7, 1e-3, 0.1, 0.5, 0.6, 0.625, 0.7, 1.0, 2.0, 3.5, 9.0, 10.0,
            20.0, 50.0, 88.5, 100.0, 1000.0, 3.0e38, -3.0e38]
    g = torch.Generator().manual_seed(7)
    x = torch.tensor(vals, dtype=torch.float32)
    x = torch.cat([x, torch.randn(200, generator=g, dtype=torch.float32) * 6])
    x64 = x.to(torch.float64)
    cases = []
    for name, slope in [("identity", 0.01), ("sigmoid", 0.01), ("tanh", 0.01), ("relu", 0.01),
                        ("leaky_relu", 0.01), ("leaky_relu", 0.3)]:
        cases.append({"name": f"{name}_{slope}", "activation": name, "negative_slope": slope,
                      "input": tensor(x), "output": tensor(activation(x64, name, slope))})
    return cases


def main():
    out = pathlib.Path(sys.argv[1] if len(sys.argv) > 1 else "tests/fixtures")
    out.mkdir(parents=True, exist_ok=True)
    for fname, cases in [("conv.json", conv_cases()), ("act.json", act_cases())]:
        doc = {"generator": "tests/reference/gen_conv.py (torch %s, float64)" % torch.__version__,
               "cases": cases}
        (out / fname).write_text(json.dumps(doc, separators=(",", ":")) + "\n")
        print(f"wrote {out / fname}: {len(cases)} cases")


if __name__ == "__main__":
    main()
