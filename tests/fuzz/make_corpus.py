#!/usr/bin/env python3
"""Write the committed seed corpora of the fuzz harnesses: tests/fuzz/corpus/<name>/.

    python3 tests/fuzz/make_corpus.py

Seeds are small valid requests of each endpoint (so the fuzzer starts deep inside the
validators), a few invalid ones, for the image harness every file of tests/data/bad_images
plus small valid PNG/JPEG files, and for the npy harness the .npy files of tests/fixtures/npy. Standard library only; the output is deterministic."""
import base64
import hashlib
import json
import os
import struct
import sys
import zlib

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, os.path.join(ROOT, "tests", "data", "bad_images"))
import make as badimg  # noqa: E402  (the PNG/JPEG writers)


def put(name, data):
    d = os.path.join(HERE, "corpus", name)
    os.makedirs(d, exist_ok=True)
    if isinstance(data, (dict, list)):
        data = json.dumps(data, separators=(",", ":")).encode()
    elif isinstance(data, str):
        data = data.encode()
    with open(os.path.join(d, hashlib.sha1(data).hexdigest()[:16]), "wb") as f:
        f.write(data)


def png_rgb(w, h):
    raw = b"".join(b"\x00" + bytes(v for x in range(w)
                                   for v in ((x * 40 + y * 10) & 255, (x * y) & 255, 200))
                   for y in range(h))
    return badimg.png(w, h, raw=raw)


def b64(data):
    return base64.b64encode(data).decode()


def t(shape, start=0.1):
    n = 1
    for s in shape:
        n *= s
    return {"shape": shape, "data": [round(start * ((i % 7) - 3), 3) for i in range(n)]}


def npy(shape, values, descr="<f4"):
    """{"npy": base64} of a .npy file (version 1.0, header padded to 64 bytes)."""
    fmt = {"<f4": "<%df", "<f8": "<%dd", "|u1": "<%dB"}[descr]
    dims = ", ".join(str(d) for d in shape) + ("," if len(shape) == 1 else "")
    head = "{'descr': '%s', 'fortran_order': False, 'shape': (%s), }" % (descr, dims)
    head += " " * (63 - (10 + len(head)) % 64) + "\n"
    raw = b"\x93NUMPY\x01\x00" + struct.pack("<H", len(head)) + head.encode() + struct.pack(fmt % len(values), *values)
    return {"npy": b64(raw)}


def image28(k):
    """A 28x28 grey image as a nested [28, 28, 1] list of 0/1 (k shifts the pattern)."""
    return [[[(x + y + k) % 3 // 2] for x in range(28)] for y in range(28)]


def train_cnn(small_png):
    """/train/cnn: the body alone. Fashion-MNIST is not there in the harness, so the runs give
    both sets inline; its limits allow 4 images a set, 2 epochs, 4096 parameters and 2e5 flops
    a training step (the default net is refused: 413)."""
    gray_png = b64(badimg.png(4, 4, ctype=0, channels=1))
    gray28 = b64(badimg.png(28, 28, ctype=0, channels=1))
    jpg = b64(badimg.jpeg(8, 8, ncomp=1))
    bright = b64(badimg.png(4, 4, ctype=0, channels=1, raw=b"".join(b"\x00" + bytes([200] * 4) for _ in range(4))))
    train = [{"image": image28(0), "label": 0}, {"image": t([28, 28, 1]), "label": 3},
             {"image": {"shape": [28, 28], "data": [0.5] * 784}, "label": 9},
             {"image": gray_png, "label": 1}]
    test = [{"image": image28(1), "label": 0}, {"image": "data:image/png;base64," + gray_png, "label": 9}]
    # most seeds carry tiny PNG / JPEG images (resized to 28x28): short inputs mutate faster
    small = {"dataset": [{"image": gray_png, "label": 1}, {"image": jpg, "label": 3}],
             "test_dataset": [{"image": gray_png, "label": 0}]}
    pool4_mlp0 = [{"type": "pool", "function": "max", "size": 4}, {"type": "mlp", "hidden_layers": 0}]
    for r in [
        # the default net: 413 under the harness's limits
        dict(small, epochs=1),
        # conv -> max pool -> mlp 0 hidden layers; Adam, streamed, a line each step
        dict({"dataset": train, "test_dataset": test}, epochs=2, batch_size=1, report_every=1,
             architecture=[{"type": "conv", "filters": 2, "size": 3, "stride": 2, "padding": 1},
                           {"type": "pool", "function": "max", "size": 2},
                           {"type": "mlp", "hidden_layers": 0, "output_size": 10}]),
        # conv -> average pool -> global max pool -> mlp 1 hidden layer; SGD, one body, no shuffle
        dict(small, epochs=2, batch_size=1, optimizer="sgd", momentum=0.5, learning_rate=0.05, lr_decay=1,
             shuffle=False, stream=False, seed=7,
             architecture=[{"type": "conv", "filters": 3, "size": 3, "stride": 2, "activation": "leaky_relu",
                            "negative_slope": 0.1, "init": "xavier"},
                           {"type": "pool", "function": "average", "size": 2},
                           {"type": "global_pool", "function": "max"},
                           {"type": "mlp", "hidden_layers": 1, "hidden_size": 4, "activation": "tanh",
                            "init": "uniform"}]),
        # pool -> mlp with base64 PNG / JPEG images, .npy output
        {"dataset": [{"image": gray28, "label": 2}, {"image": jpg, "label": 5}],
         "test_dataset": [{"image": npy([28, 28, 1], [0.25] * 784), "label": 5}],
         "epochs": 1, "train_samples": 2, "test_samples": 1, "optimizer": "sgd", "output_format": "npy",
         "architecture": [{"type": "pool", "function": "average", "size": 4, "stride": 4},
                          {"type": "mlp", "hidden_layers": 1, "hidden_size": [3], "activation": "sigmoid"}]},
        dict(small, epochs=1, batch_size=1, stream=False, architecture=pool4_mlp0),
        # init: every weight given, in the form of a done event's "weights"
        dict(small, epochs=1, report_every=1,
             init=[{"type": "conv", "filters": 1, "size": [3, 3], "stride": [3, 3], "padding": [0, 0],
                    "activation": "relu", "kernels": t([1, 3, 3, 1]), "bias": [0.0]},
                   {"type": "global_pool", "function": "average"},
                   {"type": "mlp", "hidden_layers": 0, "hidden_size": [], "activation": "relu",
                    "output_size": 10, "weights": [{"weight": t([1, 10]), "bias": t([10])}]}]),
        dict(small, epochs=2, batch_size=1, stream=False, optimizer="adam", learning_rate=0.01,
             init=[{"type": "pool", "function": "max", "size": [4, 4], "stride": [4, 4]},
                   {"type": "mlp", "hidden_layers": 1, "hidden_size": [2], "activation": "tanh",
                    "output_size": 10,
                    "weights": [{"weight": t([49, 2]), "bias": [0.1, -0.1]},
                                {"weight": t([2, 10]), "bias": t([10])}]}]),
        # weights so large that the logits overflow: the run diverges (400 "diverged", an error line)
        {"dataset": [{"image": bright, "label": 1}], "test_dataset": [{"image": bright, "label": 1}], "epochs": 1,
         "init": [{"type": "pool", "function": "max", "size": [4, 4], "stride": [4, 4]},
                  {"type": "mlp", "hidden_layers": 0, "hidden_size": [], "activation": "relu", "output_size": 10,
                   "weights": [{"weight": {"shape": [49, 10],
                                           "data": [3e38 if i % 10 == 0 else -3e38 for i in range(490)]},
                                "bias": [0] * 10}]}]},
        # a learning rate that may diverge
        dict(small, epochs=2, batch_size=1, optimizer="sgd", learning_rate=10, momentum=0.99,
             architecture=pool4_mlp0),
        # invalid: no data set here (503 dataset_unavailable), one set only, both layer forms,
        # unknown optimizer, momentum with Adam, a bad label, a bad image, too many outputs,
        # batch_size over the set, epochs over the limit, truncated JSON
        {"epochs": 1, "train_samples": 100},
        dict(test_dataset=test[:1], architecture=pool4_mlp0),
        dict(small, architecture=pool4_mlp0, init=pool4_mlp0),
        dict(small, architecture=pool4_mlp0, optimizer="rmsprop"),
        dict(small, architecture=pool4_mlp0, momentum=0.9),
        {"dataset": [{"image": image28(0), "label": 10}], "test_dataset": test[:1]},
        {"dataset": [{"image": t([27, 28, 1]), "label": 1}], "test_dataset": test[:1]},
        dict(small, epochs=1, architecture=[{"type": "pool", "size": 4}, {"type": "mlp", "output_size": 5}]),
        dict(small, epochs=1, architecture=pool4_mlp0, batch_size=3),
        dict(small, architecture=pool4_mlp0, epochs=1e9, lr_decay=0),
        '{"dataset": [{"image": [[0.5',
    ]:
        put("train_cnn", r)


def main():
    small_png = png_rgb(6, 5)
    small_jpg = badimg.jpeg(8, 8)
    # /conv
    for r in [
        {"input": t([5, 5, 1]), "kernel": "sobel_x"},
        {"input": [[[0.1, 0.2], [0.3, 0.4]], [[0.5, 0.6], [0.7, 0.8]]], "kernel": t([2, 2, 2])},
        {"input": t([6, 6, 3]), "kernels": t([2, 3, 3, 3]), "bias": [0.1, -0.1], "stride": 2,
         "padding": [1, 0], "activation": "leaky_relu", "negative_slope": 0.2},
        {"input": t([6, 6, 2]), "filters": {"count": 3, "size": [3, 2], "init": "he", "seed": 5},
         "activation": "ReLU", "render": True},
        {"image": b64(small_png), "kernel": "gaussian", "grayscale": True},
        {"image": "data:image/png;base64," + b64(small_png), "kernel": "laplacian",
         "resize": [4, 4], "activation": "tanh"},
        {"image": b64(small_jpg), "kernel": "box", "padding": 1},
        {"input": t([4, 4, 1]), "kernel": "identity", "stride": [1, 2], "activation": "sigmoid"},
        {"input": t([3, 3, 1]), "kernel": t([5, 5, 1])},
        {"input": t([4, 4, 1]), "kernel": "sharpen", "stride": 0},
        '{"input": [1, 2,',
        {"input": npy([3, 3, 2], [0.5 * (i % 5) for i in range(18)]), "kernels": npy([1, 2, 2, 2], [1, 0, 0, 1, -1, 0, 0, 1]),
         "bias": npy([1], [0.25]), "output_format": "npy"},
        {"input": npy([4, 4], list(range(16)), "|u1"), "filters": {"count": 2, "size": 2, "init": "numpy_randn"},
         "seed": 42, "output_format": "npy"},
        '{"input": {"shape": [2, 2, 1], "data": [1, 2, 3, 4]}, "kernel": "sobel_y", "kernel": "box"}',
        # the backward pass ("grad_output"): stride, padding, activations, .npy, a wrong shape
        {"input": t([6, 6, 3]), "kernels": t([2, 3, 3, 3]), "bias": [0.1, -0.1], "stride": 2, "padding": 1,
         "activation": "relu", "grad_output": t([3, 3, 2])},
        {"input": t([5, 4, 2]), "kernels": t([3, 2, 2, 2]), "activation": "leaky_relu", "negative_slope": -0.5,
         "grad_output": t([4, 3, 3])},
        {"input": t([4, 4, 1]), "kernel": "sobel_x", "padding": 1, "activation": "sigmoid",
         "grad_output": npy([4, 4, 1], [0.25 * (i % 3) for i in range(16)]), "output_format": "npy"},
        {"input": t([3, 3, 1]), "kernel": t([2, 2, 1]), "grad_output": t([2, 2])},
    ]:
        put("conv", r)
    # /pool
    for r in [
        {"input": t([4, 4, 2]), "function": "max", "size": 2},
        {"input": t([5, 5]), "function": "average", "size": [2, 3], "stride": 1},
        {"input": t([4, 6, 3]), "function": "max", "size": "global"},
        {"input": [[1, 2, 3], [4, 5, 6], [7, 8, 9]], "function": "average", "size": 3,
         "render": True},
        {"input": t([2, 2, 1]), "function": "median", "size": 2},
        {"input": t([2, 2, 1]), "function": "max", "size": 3},
        {"input": [[1, 1, 0, 2], [0, 1, 2, 2]], "function": "max", "size": 2, "grad_output": [[[3], [5]]]},
        {"input": t([5, 5, 2]), "function": "average", "size": 3, "stride": 2, "grad_output": t([2, 2, 2])},
        {"input": t([4, 6, 3]), "function": "max", "size": "global", "grad_output": npy([3], [1, 2, 3]),
         "output_format": "npy"},
        {"input": t([4, 4, 1]), "function": "max", "size": 2, "grad_output": t([3, 3, 1])},
    ]:
        put("pool", r)
    # /mlp
    for r in [
        {"input": [0.5, -0.2, 0.1], "hidden_layers": 1, "hidden_size": 4, "activation": "tanh",
         "output_size": 2, "seed": 1},
        {"input": t([2, 3]), "hidden_layers": 2, "hidden_size": [3, 2], "activation": "Leaky ReLU",
         "output_size": 3, "seed": 2},
        {"input": [1.0, 2.0], "hidden_layers": 0, "output_size": 2,
         "weights": [{"weight": t([2, 2]), "bias": [0.1, 0.2]}]},
        {"input": [1.0], "hidden_layers": 1, "hidden_size": 2, "output_size": 1,
         "activation": "relu", "weights": [{"weight": t([1, 2]), "bias": [0, 0]},
                                           {"weight": t([2, 1]), "bias": [0]}]},
        {"input": [1.0], "hidden_layers": -1, "output_size": 1},
        {"input": npy([3], [1, 2, 3], "<f8"), "hidden_layers": 0, "output_size": 2, "output_format": "npy",
         "weights": [{"weight": npy([3, 2], [0.1, 0.2, 0.3, 0.4, 0.5, 0.6]), "bias": npy([2], [0, 1])}]},
        {"input": [0.5, -0.5], "hidden_layers": 1, "hidden_size": 3, "output_size": 2, "init": "numpy_rand",
         "seed": 7, "return_weights": True, "output_format": "npy"},
        # the backward pass: a target (the loss) or grad_output
        {"input": [0.5, -0.2, 0.1], "hidden_layers": 1, "hidden_size": 4, "output_size": 3, "seed": 1, "target": 2},
        {"input": t([2, 3]), "hidden_layers": 2, "hidden_size": [3, 2], "activation": "leaky_relu",
         "negative_slope": -0.3, "output_size": 2, "seed": 2, "grad_output": [1, -1], "output_format": "npy"},
        {"input": [1.0, 2.0], "hidden_layers": 0, "output_size": 2, "target": 2},
        {"input": [1.0, 2.0], "hidden_layers": 0, "output_size": 2, "target": 0, "grad_output": [1, 0]},
    ]:
        put("mlp", r)
    # /cnn
    for r in [
        {"input": t([8, 8, 3]), "seed": 1,
         "architecture": [{"type": "conv", "filters": 2, "size": 3, "stride": 1, "padding": 1,
                           "activation": "relu"},
                          {"type": "pool", "function": "max", "size": 2, "stride": 2},
                          {"type": "global_pool", "function": "average"},
                          {"type": "mlp", "hidden_layers": 1, "hidden_size": 3,
                           "activation": "tanh", "output_size": 4}]},
        {"image": b64(small_png), "softmax": False, "seed": 3,
         "architecture": [{"type": "conv", "filters": 1, "size": 2, "activation": "identity",
                           "kernels": t([1, 2, 2, 3]), "bias": [0.5]},
                          {"type": "global_pool", "function": "max"}]},
        {"input": t([6, 6, 1]), "architecture": [{"type": "global_pool", "function": "max"},
                                                 {"type": "mlp", "hidden_layers": 0,
                                                  "output_size": 2,
                                                  "weights": [{"weight": t([1, 2]),
                                                               "bias": [0, 1]}]}]},
        {"input": t([4, 4, 1]), "architecture": [{"type": "dense"}]},
        {"input": t([8, 8, 3]), "render": True, "seed": 2,
         "architecture": [{"type": "conv", "filters": 1, "size": 3}]},
    ]:
        put("cnn", r)
    # /train/{rnn,lstm,gru}: first byte picks the model (0 rnn, 1 lstm, 2 gru)
    for m in (0, 1, 2):
        for r in [
            {"samples": 4, "test_samples": 2, "epochs": 1, "hidden_size": 2, "seed": 1,
             "report_every": 1, "min_length": 2, "max_length": 4},
            {"samples": 3, "test_samples": 2, "epochs": 2, "hidden_size": 3, "stream": False,
             "learning_rate": 0.1, "clip": 1, "batch_size": 2, "max_length": 3, "min_length": 3},
            {"test_samples": 1, "epochs": 1, "hidden_size": 1, "learning_rate": 1000.0,
             "dataset": [{"x": [[0.5, 1.0], [0.2, 1.0], [0.9, 0.0]], "y": 0.7},
                         {"x": [[0.1, 1.0], [0.3, 1.0]], "y": 0.4}]},
            {"samples": 2, "test_samples": 1, "epochs": 1, "hidden_size": 1, "max_length": 3,
             "init": {"weight_ih": [[0.1, 0.2]], "weight_hh": [[0.3]], "bias_ih": [0.0],
                      "bias_hh": [0.0], "fc.weight": [[1.0]], "fc.bias": [0.0]}},
            {"samples": 1e9},
            {"test_samples": 1, "epochs": 1, "hidden_size": 1, "stream": False, "output_format": "npy",
             "dataset": [{"x": npy([2, 2], [0.5, 1, 0.25, 1], "<f8"), "y": 0.75}],
             "init": {"fc.weight": npy([1, 1], [0.5], "<f8")}},
        ]:
            put("train", bytes([m]) + json.dumps(r, separators=(",", ":")).encode())
        for r in [{"samples": 3, "test_samples": 2, "epochs": 1, "hidden_size": 2, "max_length": 5,
                   "probe_samples": 2, "export": "pytorch"},
                  {"samples": 3, "test_samples": 2, "epochs": 1, "probe_samples": 0, "stream": False,
                   "export": "pytorch", "output_format": "npy"}]:
            put("train", bytes([m]) + json.dumps(r, separators=(",", ":")).encode())
    # /train/sweep: first byte 3
    for r in [{"lengths": [2, 4], "samples": 3, "test_samples": 2, "epochs": 1, "hidden_size": 2},
              {"models": ["gru", "rnn"], "lengths": [3], "samples": 2, "test_samples": 1, "epochs": 2,
               "hidden_size": 1, "stream": False, "seed": 4},
              {"models": ["lstm", "lstm"]}, {"lengths": [1]}]:
        put("train", bytes([3]) + json.dumps(r, separators=(",", ":")).encode())
    train_cnn(small_png)
    # /run/{rnn,lstm,gru}: first byte picks the model
    for m, g in ((0, 1), (1, 4), (2, 3)):
        w = {"weight_ih": [[0.5, -0.25]] * g, "weight_hh": [[0.75]] * g, "bias_ih": [0.1] * g,
             "bias_hh": [0.0] * g, "fc.weight": [[1.5]], "fc.bias": [0.2]}
        for r in [{"weights": w, "sequence": [[0.5, 1], [0.25, 0], [0.125, 1]]},
                  {"weights": w, "sequence": npy([2, 2], [0.5, 1, 0.25, 1], "<f8"), "output_format": "npy"},
                  {"weights": w, "sequence": [[1, 0]] * 9}, {"weights": {}, "sequence": [[1, 0]]}]:
            put("run", bytes([m]) + json.dumps(r, separators=(",", ":")).encode())
    # /check/{conv,pool,mlp}: the first byte picks the endpoint (0 conv, 1 pool, 2 mlp)
    def check(ep, r):
        put("check", bytes([ep]) + json.dumps(r, separators=(",", ":")).encode())
    img = [[[0.1], [0.2], [0.3]], [[0.4], [0.5], [0.6]], [[0.7], [0.8], [0.9]]]
    check(0, {"input": img, "kernel": "box", "answer": [[4.5]]})
    check(0, {"input": img, "kernel": "box", "answer": [[1.0]], "tolerance": {"atol": 0.1, "rtol": 0}})
    check(0, {"input": t([5, 4, 2]), "kernels": t([2, 3, 3, 2]), "bias": [0.1, -0.1], "stride": 2,
              "padding": 1, "activation": "relu", "answer": t([3, 2, 2])})
    check(0, {"input": t([4, 4, 1]), "kernel": [[1, 0], [0, -1]], "activation": "sigmoid",
              "answer": t([4, 4])})
    check(0, {"image": b64(small_png), "kernel": "sobel_x", "answer": npy([3, 4, 1], [0.5] * 12),
              "output_format": "npy"})
    check(0, {"input": t([4, 4, 3]), "filters": {"count": 2, "size": 2, "init": "numpy_randn"}, "seed": 42,
              "answer": t([3, 3, 2, 3])})
    check(1, {"input": t([4, 4, 2]), "size": 2, "answer": t([2, 2, 2])})
    check(1, {"input": t([5, 5, 1]), "function": "average", "size": 2, "stride": 2, "answer": t([3, 3])})
    check(1, {"input": t([4, 3, 2]), "size": "global", "function": "max", "answer": [0.1, 0.2]})
    check(2, {"input": [0.5, -0.2, 0.1], "hidden_layers": 1, "hidden_size": 3, "output_size": 2, "seed": 1,
              "answer": [0.5, 0.5]})
    check(2, {"input": [1.0, 2.0], "hidden_layers": 1, "hidden_size": 2, "output_size": 2, "softmax": False,
              "weights": [{"weight": t([2, 2]), "bias": [0.1, 0.2]}, {"weight": t([2, 2]), "bias": [0, 1]}],
              "answer": [1, 2]})
    check(2, {"input": [1.0], "hidden_layers": 0, "output_size": 3, "init": "numpy_randn", "seed": 42,
              "answer": npy([1, 3], [0.2, 0.3, 0.5], "<f8")})
    # base64
    for s in ["", "QQ==", "QUI=", "QUJD", "QUJDRA", "data:image/png;base64,iVBORw0KGgo=",
              "QU\nJD\r\n RA==", "QQ=", "Q", "QUJD-_==", "QR==", b64(small_png)]:
        put("base64", s)
    # image: 3 header bytes (flags, resize h, resize w) + file
    bad = os.path.join(ROOT, "tests", "data", "bad_images")
    files = sorted(f for f in os.listdir(bad) if f.endswith((".png", ".jpg", ".gif", ".bmp")))
    for f in files:
        with open(os.path.join(bad, f), "rb") as fh:
            data = fh.read()
        if len(data) <= 4096:
            put("image", b"\x00\x07\x09" + data)
    for flags in (0, 1, 2, 3):
        put("image", bytes([flags, 3, 5]) + small_png)
        put("image", bytes([flags, 12, 2]) + small_jpg)
    put("image", b"\x02\x01\x01" + badimg.png(4, 4, ctype=6, channels=4))
    put("image", b"\x01\x02\x02" + badimg.png(4, 4, ctype=0, channels=1))
    put("image", b"\x00\x02\x02" + badimg.png(3, 3, ctype=4, channels=2))
    put("image", b"\x03\x02\x02" + badimg.jpeg(16, 16, ncomp=1))
    # npy: the small .npy files NumPy wrote for the reader's tests (tests/fixtures/npy)
    npy_dir = os.path.join(ROOT, "tests", "fixtures", "npy")
    for f in sorted(os.listdir(npy_dir)):
        if f.endswith(".npy") and os.path.getsize(os.path.join(npy_dir, f)) <= 4096:
            with open(os.path.join(npy_dir, f), "rb") as fh:
                put("npy", fh.read())
    print("corpora written to", os.path.join(HERE, "corpus"))


if __name__ == "__main__":
    main()
