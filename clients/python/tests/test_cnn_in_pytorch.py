"""docs/training.md's recipe for repeating a /train/cnn run in PyTorch (examples/cnn_in_pytorch.py)
runs as written against the test daemon: nnlab's and PyTorch's losses agree over the first 20
steps as the document says (both float32; they drift apart later as PyTorch's own memory formats
do, which tests/unit/test_cnn_train.c bounds)."""
from __future__ import annotations

import os
import pathlib
import re
import subprocess
import sys

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[3]
SCRIPT = ROOT / "examples" / "cnn_in_pytorch.py"
DATA = pathlib.Path("/usr/share/datasets/fashion-mnist")


def test_recipe_matches_pytorch_step_by_step(url: str) -> None:
    pytest.importorskip("torch", reason="the recipe needs python3-torch")
    if not (DATA / "train-images-idx3-ubyte.gz").exists():
        pytest.skip("the recipe reads Fashion-MNIST from dataset-fashion-mnist")
    out = subprocess.run([sys.executable, str(SCRIPT), url, "20"], capture_output=True, text=True,
                         timeout=600, env=dict(os.environ, OMP_NUM_THREADS="2"))
    assert out.returncode == 0, out.stderr
    m = re.search(r"^20 steps; loss ([\d.]+) -> ([\d.]+); largest relative difference (\S+) in the "
                  r"first 20 steps", out.stdout, re.M)
    assert m, out.stdout
    first, last, rel = float(m[1]), float(m[2]), float(m[3])
    assert 2.0 < first < 2.6  # ln 10 = 2.30 from random weights
    assert last < first  # it learned
    assert rel <= 1e-5, out.stdout
