"""The daemon the client tests talk to: $NNLAB_URL when set, else build/nnlabd (or
$NNLABD_BIN) started on a free port for the session and stopped at its end."""
from __future__ import annotations

import os
import pathlib
import subprocess
import sys
from typing import Iterator

import pytest

HERE = pathlib.Path(__file__).resolve().parent
ROOT = HERE.parents[2]
sys.path.insert(0, str(HERE.parent))  # import nnlab from the source tree

import nnlab  # noqa: E402


@pytest.fixture(scope="session")
def url() -> Iterator[str]:
    if os.environ.get("NNLAB_URL"):
        yield os.environ["NNLAB_URL"]
        return
    binary = pathlib.Path(os.environ.get("NNLABD_BIN", ROOT / "build" / "nnlabd"))
    if not binary.exists():
        pytest.fail(f"{binary} is not built (make daemon), and NNLAB_URL is not set")
    proc = subprocess.Popen([str(binary), "--port", "0", "--host", "127.0.0.1"],
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    line = proc.stdout.readline() if proc.stdout else ""
    if not line.startswith("listening on "):
        proc.kill()
        pytest.fail(f"{binary} did not start: {line!r}")
    try:
        yield line[len("listening on "):].strip()
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()


@pytest.fixture(scope="session")
def client(url: str) -> Iterator[nnlab.Client]:
    with nnlab.Client(url) as c:
        yield c


@pytest.fixture(scope="session")
def sample_png() -> pathlib.Path:
    return ROOT / "web" / "sample.png"
