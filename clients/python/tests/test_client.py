"""The Python client against a real daemon (conftest.py starts one): every method, arrays in
and out as .npy, images from a path, bytes and arrays, NumPy's own random kernels compared with
NumPy in this process, the training stream read as it arrives, and the errors (a body over the
daemon's limit among them)."""
from __future__ import annotations

import base64
import time

import numpy as np
import pytest

import nnlab
from nnlab.tensors import png


def conv_ref(x: np.ndarray, k: np.ndarray, b: np.ndarray, stride: int = 1, pad: int = 0) -> np.ndarray:
    """Cross-correlation as PyTorch computes it, in float64: x [H, W, C], k [N, KH, KW, C]."""
    x = np.pad(x.astype(np.float64), ((pad, pad), (pad, pad), (0, 0)))
    n, kh, kw, _ = k.shape
    oh, ow = (x.shape[0] - kh) // stride + 1, (x.shape[1] - kw) // stride + 1
    y = np.empty((oh, ow, n))
    for i in range(oh):
        for j in range(ow):
            win = x[i * stride:i * stride + kh, j * stride:j * stride + kw, :]
            y[i, j] = np.tensordot(k.astype(np.float64), win, axes=([1, 2, 3], [0, 1, 2])) + b
    return y


def test_health(client: nnlab.Client) -> None:
    h = client.health()
    assert h["status"] == "ok" and "version" in h


def test_conv_arrays_in_and_out(client: nnlab.Client) -> None:
    rng = np.random.default_rng(1)
    x = rng.random((7, 6, 3), dtype=np.float32)
    k = rng.standard_normal((4, 3, 3, 3)).astype(np.float32)
    b = np.array([0.5, -0.25, 0.0, 1.0], np.float32)
    r = client.conv(x, kernels=k, bias=b, padding=1, stride=2)
    assert isinstance(r["output"], np.ndarray) and r["output"].dtype == np.float32
    assert r["output"].shape == (4, 3, 4)
    np.testing.assert_array_equal(r["kernels"], k)
    np.testing.assert_array_equal(r["bias"], b)
    np.testing.assert_allclose(r["output"], conv_ref(x, k, b, 2, 1), rtol=1e-5, atol=1e-5)
    assert r["input_shape"] == [7, 6, 3]
    # float64 and input= give the same bits; a response's kernels go back in as they are
    r64 = client.conv(input=x.astype(np.float64), kernels=r["kernels"], bias=b, padding=1, stride=2)
    np.testing.assert_array_equal(r64["output"], r["output"])


def test_images_path_bytes_and_arrays(client: nnlab.Client, sample_png) -> None:
    a = client.conv(sample_png, kernel="sobel_x", activation="relu")
    b = client.conv(str(sample_png), kernel="sobel_x", activation="relu")
    c = client.conv(sample_png.read_bytes(), kernel="sobel_x", activation="relu")
    assert a["output"].shape == (254, 254, 1)
    np.testing.assert_array_equal(a["output"], b["output"])
    np.testing.assert_array_equal(a["output"], c["output"])
    # a uint8 array goes as a PNG: the same as its float image v / 255 sent as a tensor
    img = np.random.default_rng(2).integers(0, 256, size=(9, 11, 3), dtype=np.uint8)
    u = client.conv(img, kernel="laplacian")
    f = client.conv(img.astype(np.float32) / np.float32(255), kernel="laplacian")
    np.testing.assert_array_equal(u["output"], f["output"])
    grey = client.conv(img[:, :, 0], kernel="box", grayscale=True)
    assert grey["input_shape"] == [9, 11, 1]
    with pytest.raises(TypeError):
        client.conv(12, kernel="box")


def test_png_encoder_round_trips_through_the_daemon(client: nnlab.Client) -> None:
    img = np.arange(2 * 3 * 4, dtype=np.uint8).reshape(2, 3, 4) * 10
    r = client.pool(png(img), function="max", size=1)  # RGBA: alpha dropped, v / 255
    np.testing.assert_array_equal(r["output"], img[:, :, :3].astype(np.float32) / np.float32(255))


def test_numpy_randn_kernels_are_numpys(client: nnlab.Client, sample_png) -> None:
    """The assignment's layer: np.random.seed(42), then one randn(3, 3, C) per filter."""
    r = client.conv(sample_png, filters={"count": 16, "size": 3, "init": "numpy_randn"}, seed=42,
                    activation="sigmoid")
    np.random.seed(42)
    want = np.stack([np.random.randn(3, 3, 3) for _ in range(16)]).astype(np.float32)
    np.testing.assert_array_equal(r["kernels"], want)
    assert r["output"].shape == (254, 254, 16)
    np.random.seed(42)
    r = client.conv(sample_png, filters={"count": 1, "size": 3, "init": "numpy_rand"}, seed=42)
    np.testing.assert_array_equal(r["kernels"][0], np.random.rand(3, 3, 3).astype(np.float32))
    for seed in (0, 2**32 - 1):
        np.random.seed(seed)
        want = np.stack([np.random.randn(2, 2, 3) for _ in range(5)]).astype(np.float32)
        r = client.conv(np.zeros((4, 4, 3), np.float32), filters={"count": 5, "size": 2, "init": "numpy_randn",
                                                                "seed": seed})
        np.testing.assert_array_equal(r["kernels"], want)


def test_mlp_numpy_weights_and_softmax(client: nnlab.Client) -> None:
    x = np.linspace(-1, 1, 16).astype(np.float32)
    r = client.mlp(x, hidden_layers=2, hidden_size=64, activation="relu", output_size=10,
                   init="numpy_randn", seed=42, return_weights=True)
    np.random.seed(42)
    ws = [np.random.randn(16, 64), np.random.randn(64, 64), np.random.randn(64, 10)]
    for got, want in zip(r["weights"], ws):
        np.testing.assert_array_equal(got["weight"], want.astype(np.float32))
        np.testing.assert_array_equal(got["bias"], 0)
    h = x.astype(np.float64)
    for i, w in enumerate(ws):
        h = h @ w.astype(np.float32).astype(np.float64)
        if i < 2:
            h = np.maximum(h, 0)
    np.testing.assert_allclose(r["logits"], h, rtol=1e-4, atol=1e-3)
    assert r["softmax"].shape == (10,) and abs(float(r["softmax"].sum()) - 1) < 1e-5


def test_pool_and_cnn(client: nnlab.Client, sample_png) -> None:
    x = np.random.default_rng(3).random((6, 6, 2)).astype(np.float32)
    r = client.pool(x, function="max", size=2)
    np.testing.assert_array_equal(r["output"], x.reshape(3, 2, 3, 2, 2).max(axis=(1, 3)))
    g = client.pool(x, function="average", size="global")
    np.testing.assert_allclose(g["output"], x.mean(axis=(0, 1)), rtol=1e-6)
    c = client.cnn(sample_png, seed=1)
    assert c["output"].shape == (1000,) and abs(float(c["output"].sum()) - 1) < 1e-4
    assert [layer["output_shape"] for layer in c["layers"]][:2] == [[127, 127, 16], [63, 63, 16]]


def test_errors_carry_status_code_message_field(client: nnlab.Client) -> None:
    with pytest.raises(nnlab.Error) as e:
        client.conv(np.zeros((4, 4, 1), np.float32), kernel="box", stride=0)
    assert (e.value.status, e.value.code, e.value.field) == (400, "invalid_argument", "stride")
    assert "stride" in e.value.message and "stride" in str(e.value)
    with pytest.raises(nnlab.Error) as e:
        client.conv(np.zeros((4, 4, 1), np.float32), filters={"count": 2, "size": 3, "init": "numpy_randn"},
                    seed=2**32)
    assert (e.value.status, e.value.field) == (400, "seed")
    with pytest.raises(nnlab.Error) as e:
        client.conv(np.zeros((2, 2, 1), np.float32), kernels=np.zeros((1, 3, 3, 2), np.float32))
    assert e.value.status == 400 and e.value.field == "kernels"
    with pytest.raises(nnlab.Error) as e:
        nnlab.Client("http://127.0.0.1:1").health()
    assert e.value.status == 0 and e.value.code == "connection_error" and "NNLAB_URL" in e.value.message


def test_a_body_over_the_limit_is_a_413_not_a_connection_error(small_body_url: str) -> None:
    """The daemon refuses a body over --max-body as soon as it sees its length, before the
    client has sent it. Just over, it reads and drops the rest and the 413 is read after the
    send; far over (past the 64 MiB it drains), it closes, the client's send fails, and the 413
    it wrote first is read from the socket: a connection error either way before."""
    with nnlab.Client(small_body_url) as c:
        limit = c.health()["limits"]["max_body_bytes"]
        for size in (2 * limit, limit + (100 << 20)):
            with pytest.raises(nnlab.Error) as e:
                c.conv(input=[[1.0]], kernel="box", filler="x" * size)
            assert (e.value.status, e.value.code, e.value.field) == (413, "too_large", "body"), str(e.value)
            assert f"{limit}" in e.value.message
        assert c.health()["status"] == "ok"  # and the client goes on, on a new connection


def test_train_streams_events_as_they_arrive(client: nnlab.Client) -> None:
    times, events = [], []
    t0 = time.monotonic()
    for ev in client.train("lstm", samples=20000, test_samples=50, epochs=3, hidden_size=6, seed=2,
                           report_every=2000):
        times.append(time.monotonic() - t0)
        events.append(ev)
    kinds = [e["type"] for e in events]
    assert kinds[0] == "start" and kinds[-1] == "done" and kinds.count("epoch") == 3
    assert "progress" in kinds
    # read as they arrive: the run's lines come spread over it (a buffered reader would get them
    # all at the end, within a millisecond); the first epoch ends about a third of the way in
    span = times[-1] - times[0]
    first_epoch = times[kinds.index("epoch")]
    assert span > 0.02 and times[-1] - first_epoch > 0.3 * span, times
    done = events[-1]
    assert isinstance(done["weights"]["weight_ih"], np.ndarray)
    assert done["weights"]["weight_ih"].dtype == np.float64 and done["weights"]["weight_ih"].shape == (24, 2)
    assert len(done["train_loss"]) == 3
    # leaving the loop early hangs up (the daemon cancels the run)
    for ev in client.train("gru", samples=20000, epochs=50, seed=1):
        assert ev["type"] == "start"
        break


def test_train_without_stream_returns_done(client: nnlab.Client) -> None:
    a = client.train("gru", stream=False, samples=40, test_samples=10, epochs=2, hidden_size=3, seed=5)
    assert a["type"] == "done"
    # same request, same weights (float64 .npy, exact); they go back in as initial weights
    b = client.train("gru", stream=False, samples=40, test_samples=10, epochs=2, hidden_size=3, seed=5)
    for name, w in a["weights"].items():
        np.testing.assert_array_equal(w, b["weights"][name])
    c = client.train("gru", stream=False, samples=40, test_samples=10, epochs=1, hidden_size=3, seed=5,
                     init=a["weights"])
    assert c["type"] == "done" and len(c["train_loss"]) == 1
    # a dataset of [T, 2] arrays
    ds = [{"x": np.array([[0.5, 1], [0.25, 0], [0.75, 1]]), "y": 1.25}] * 8
    d = client.train("rnn", stream=False, dataset=ds, test_samples=4, epochs=1, hidden_size=2)
    assert d["type"] == "done"
    with pytest.raises(nnlab.Error) as e:
        next(iter(client.train("rnn", epochs=0)))
    assert e.value.status == 400 and e.value.field == "epochs"


def _missing(client: nnlab.Client, path: str) -> bool:
    """True when the daemon does not have this POST endpoint yet: a GET is 404, not 405 (a
    GET costs nothing, where an empty POST would run the endpoint's defaults: a whole training)."""
    try:
        client._request("GET", path)
    except nnlab.Error as e:
        return e.status == 404
    return False


def test_check(client: nnlab.Client, sample_png) -> None:
    x = np.random.default_rng(4).random((6, 6, 1)).astype(np.float32)
    k = np.array([[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]], np.float32)[:, :, None]
    good = client.conv(x, kernel=k)["output"]
    r = client.check("conv", good, input=x, kernel=k)
    assert r["pass"] is True and r["diagnosis"] == [] and r["mismatch_map"] is None
    plain_sum = conv_ref(x, np.ones((1, 3, 3, 1), np.float32), np.zeros(1)).astype(np.float32)
    r = client.check("conv", plain_sum, input=x, kernel=k)
    assert r["pass"] is False and [d["code"] for d in r["diagnosis"]] == ["kernel_ignored"]
    assert isinstance(r["mismatch_map"], np.ndarray) and r["mismatch_map"].shape == (4, 4)
    # A student's float64 NumPy answer on the image itself (pixels / 255) passes; its true
    # convolution (the kernel flipped) is named.
    img = client.pool(sample_png, size=1)["output"].astype(np.float64)  # the pixels as read
    sobel = np.array([[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]], np.float64)
    bank = np.repeat(sobel[None, :, :, None], 3, axis=3)
    mine = 1 / (1 + np.exp(-conv_ref(img, bank, np.zeros(1))))
    r = client.check("conv", mine, image=sample_png, kernel="sobel_x", activation="sigmoid")
    assert r["pass"] is True, r
    assert r["max_abs_error"] < 1e-6
    flipped = 1 / (1 + np.exp(-conv_ref(img, bank[:, ::-1, ::-1, :], np.zeros(1))))
    r = client.check("conv", flipped, image=sample_png, kernel="sobel_x", activation="sigmoid")
    assert [d["code"] for d in r["diagnosis"]] == ["kernel_flipped"]
    # pooling and the MLP: the other function, the softmax left out
    v = np.random.default_rng(5).standard_normal((8, 8, 2)).astype(np.float32)
    avg = v.reshape(4, 2, 4, 2, 2).mean(axis=(1, 3))
    r = client.check("pool", avg, input=v, function="max", size=2)
    assert [d["code"] for d in r["diagnosis"]] == ["avg_instead_of_max"]
    m = client.mlp(np.arange(4.0), hidden_layers=1, hidden_size=5, output_size=3, init="numpy_randn", seed=42)
    r = client.check("mlp", m["logits"], input=np.arange(4.0), hidden_layers=1, hidden_size=5, output_size=3,
                     init="numpy_randn", seed=42)
    assert [d["code"] for d in r["diagnosis"]] == ["softmax_missing"]


def test_run(client: nnlab.Client) -> None:
    if _missing(client, "/run/gru"):
        pytest.skip("this daemon has no POST /run/{model} yet (404)")
    done = client.train("gru", stream=False, samples=20, test_samples=5, epochs=1, hidden_size=3, seed=1)
    r = client.run("gru", done["weights"], [[0.5, 1], [0.2, 0], [0.3, 1]])
    assert np.asarray(r["hidden"]).shape == (3, 3)


def test_train_cnn(client: nnlab.Client) -> None:
    if _missing(client, "/train/cnn"):
        pytest.skip("this daemon has no POST /train/cnn yet (404)")
    done = client.train("cnn", stream=False, epochs=1, train_samples=64, test_samples=32, seed=1)
    assert done["type"] == "done"
    assert 0 <= done["final"]["test_accuracy"] <= 1 and len(done["test_accuracy"]) == 1
    assert [w["type"] for w in done["weights"]][0] == "conv"  # /cnn's architecture form


def test_encode_decode_helpers() -> None:
    from nnlab.tensors import decode, encode

    a = np.arange(6, dtype=">f8").reshape(2, 3)  # big-endian: sent as little-endian float64
    out = encode({"w": [a, np.int32(3)], "k": np.asfortranarray(np.ones((2, 2), np.float32))})
    back = decode(out)
    np.testing.assert_array_equal(back["w"][0], a)
    assert back["w"][1] == 3 and back["k"].flags["C_CONTIGUOUS"]
    raw = base64.b64decode(out["w"][0]["npy"])
    assert b"'<f8'" in raw[:80]
    assert decode({"shape": [2], "data": [1.5, 2]}).tolist() == [1.5, 2.0]


def test_conv_grad_output_is_the_backward_pass(client: nnlab.Client) -> None:
    """grad_output [OH, OW, N] gives grad_input, grad_kernels and grad_bias: the gradients of
    L = sum(grad_output * output), here against NumPy's float64 sums (identity activation)."""
    rng = np.random.default_rng(14)
    x = rng.standard_normal((6, 5, 2)).astype(np.float32)
    k = rng.standard_normal((3, 3, 3, 2)).astype(np.float32)
    b = np.array([0.1, -0.2, 0.3], np.float32)
    s, p = 2, 1
    oh, ow = (6 + 2 * p - 3) // s + 1, (5 + 2 * p - 3) // s + 1
    dy = rng.standard_normal((oh, ow, 3)).astype(np.float32)
    r = client.conv(x, kernels=k, bias=b, stride=s, padding=p, grad_output=dy)
    xp = np.pad(x.astype(np.float64), ((p, p), (p, p), (0, 0)))
    dxp, dk = np.zeros_like(xp), np.zeros((3, 3, 3, 2))
    for i in range(oh):
        for j in range(ow):
            win = (slice(i * s, i * s + 3), slice(j * s, j * s + 3))
            dk += dy[i, j].astype(np.float64)[:, None, None, None] * xp[win][None]
            dxp[win] += np.tensordot(dy[i, j].astype(np.float64), k.astype(np.float64), axes=(0, 0))
    assert r["grad_input"].shape == (6, 5, 2) and r["grad_kernels"].shape == (3, 3, 3, 2)
    np.testing.assert_allclose(r["grad_input"], dxp[p:-p, p:-p], rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(r["grad_kernels"], dk, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(r["grad_bias"], dy.astype(np.float64).sum((0, 1)), rtol=1e-5, atol=1e-5)


def test_pool_grad_output_goes_to_the_first_maximum(client: nnlab.Client) -> None:
    x = np.array([[1, 1, 0, 2], [0, 1, 2, 2]], np.float32)[:, :, None]  # ties in both windows
    r = client.pool(x, function="max", size=2, grad_output=np.array([[[3.0], [5.0]]], np.float32))
    np.testing.assert_array_equal(r["grad_input"][:, :, 0], [[3, 0, 0, 5], [0, 0, 0, 0]])
    r = client.pool(x, function="average", size="global", grad_output=np.array([8.0], np.float32))
    np.testing.assert_allclose(r["grad_input"], np.ones((2, 4, 1)))


def test_mlp_target_gives_the_loss_and_its_gradients(client: nnlab.Client) -> None:
    rng = np.random.default_rng(15)
    x = rng.standard_normal(4).astype(np.float32)
    W0, b0 = rng.standard_normal((4, 5)).astype(np.float32), rng.standard_normal(5).astype(np.float32)
    W1, b1 = rng.standard_normal((5, 3)).astype(np.float32), rng.standard_normal(3).astype(np.float32)
    weights = [{"weight": W0, "bias": b0}, {"weight": W1, "bias": b1}]
    r = client.mlp(x, hidden_layers=1, hidden_size=5, output_size=3, activation="tanh", weights=weights, target=2)
    d = lambda a: a.astype(np.float64)  # noqa: E731
    h = np.tanh(d(x) @ d(W0) + d(b0))
    z = h @ d(W1) + d(b1)
    p = np.exp(z - z.max()) / np.exp(z - z.max()).sum()
    assert r["loss"] == pytest.approx(-np.log(p[2]), rel=1e-6)
    dz = p - np.eye(3)[2]
    dh = (d(W1) @ dz) * (1 - h * h)
    np.testing.assert_allclose(r["grad_weights"][1]["weight"], np.outer(h, dz), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(r["grad_weights"][1]["bias"], dz, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(r["grad_weights"][0]["weight"], np.outer(d(x), dh), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(r["grad_input"], d(W0) @ dh, rtol=1e-5, atol=1e-6)
    # grad_output instead of a target: the gradient of sum(grad_output * logits)
    g = client.mlp(x, hidden_layers=1, hidden_size=5, output_size=3, activation="tanh", weights=weights,
                   grad_output=dz.astype(np.float32))
    np.testing.assert_allclose(g["grad_input"], r["grad_input"], rtol=1e-5, atol=1e-6)
    assert "loss" not in g
    with pytest.raises(nnlab.Error) as e:
        client.mlp(x, hidden_layers=1, hidden_size=5, output_size=3, target=3)
    assert e.value.status == 400 and e.value.field == "target"
