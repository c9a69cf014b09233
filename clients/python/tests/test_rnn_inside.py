"""The recurrent nets from inside, through the client against a real daemon: the gradient by step
in every epoch event, the sweep over sequence lengths, a trained net run step by step, and the
PyTorch export — the script the start event carries, run with this Python's torch, must train
to the daemon's own losses (to 1e-8; skipped where torch is not installed)."""
from __future__ import annotations

import json
import pathlib
import subprocess
import sys

import numpy as np
import pytest

import nnlab


def test_gradient_by_step_in_every_epoch(client: nnlab.Client) -> None:
    events = list(client.train("rnn", samples=200, test_samples=50, min_length=20, max_length=20,
                               epochs=2, seed=3, probe_samples=8))
    epochs = [e for e in events if e["type"] == "epoch"]
    assert len(epochs) == 2 and events[0]["probe_samples"] == 8
    for e in epochs:
        g = np.asarray(e["gradient_by_step"])
        assert g.shape == (20,) and e["probe_samples"] == 8
        assert np.all(g > 0) and g[0] < g[-1]  # Elman: the first step gets the least


def test_sweep_streams_a_point_per_model_and_length(client: nnlab.Client) -> None:
    events = list(client.sweep(models=["rnn", "lstm"], lengths=[5, 8], samples=40, test_samples=10,
                               epochs=2, seed=1))
    kinds = [e["type"] for e in events]
    assert kinds[0] == "start" and kinds[-1] == "done"
    points = [(e["model"], e["length"]) for e in events if e["type"] == "point"]
    assert points == [("rnn", 5), ("lstm", 5), ("rnn", 8), ("lstm", 8)]
    assert kinds.count("progress") == 8
    done = client.sweep(stream=False, models=["rnn", "lstm"], lengths=[5, 8], samples=40,
                        test_samples=10, epochs=2, seed=1)
    assert [p["test_loss"] for p in done["points"]] == [p["test_loss"] for p in events[-1]["points"]]
    with pytest.raises(nnlab.Error) as e:
        next(client.sweep(lengths=[1]))
    assert e.value.status == 400 and e.value.field == "lengths[0]"


def test_run_step_by_step(client: nnlab.Client) -> None:
    done = client.train("lstm", stream=False, samples=20, test_samples=5, epochs=1, hidden_size=4, seed=1)
    seq = np.array([[0.5, 1], [0.2, 0], [0.3, 1], [0.9, 0]])
    r = client.run("lstm", done["weights"], seq)
    assert r["hidden"].shape == (4, 4) and r["hidden"].dtype == np.float64
    assert sorted(r["gates"]) == ["cell", "f", "g", "i", "o"]
    # h_t = o_t * tanh(c_t): the states and gates the daemon returns agree with each other
    g = r["gates"]
    np.testing.assert_allclose(r["hidden"], g["o"] * np.tanh(g["cell"]), rtol=1e-12, atol=1e-15)
    # and the output is the head on the last hidden state
    w = done["weights"]
    np.testing.assert_allclose(r["output"], float(w["fc.weight"] @ r["hidden"][-1] + w["fc.bias"]), rtol=1e-12)


def _torch_available() -> bool:
    return subprocess.run([sys.executable, "-c", "import torch"], capture_output=True).returncode == 0


@pytest.mark.parametrize("model,batch", [("rnn", 1), ("lstm", 4), ("gru", 3)])
def test_pytorch_export_trains_to_the_same_losses(client: nnlab.Client, tmp_path: pathlib.Path,
                                                  model: str, batch: int) -> None:
    if not _torch_available():
        pytest.skip(f"PyTorch is not installed for {sys.executable} (apt-get install python3-torch): "
                    "the exported script cannot be run here")
    events = list(client.train(model, samples=60, test_samples=20, min_length=4, max_length=12,
                               epochs=3, hidden_size=5, batch_size=batch, learning_rate=0.01, seed=7,
                               export="pytorch"))
    script, done = events[0]["pytorch"], events[-1]
    path = tmp_path / f"nnlab_{model}.py"
    path.write_text(script)
    out = subprocess.run([sys.executable, str(path)], capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, out.stderr
    torch_losses = json.loads(out.stdout.strip().splitlines()[-1])
    for key in ("train_loss", "test_loss"):
        np.testing.assert_allclose(torch_losses[key], done[key], rtol=1e-8, atol=0)
