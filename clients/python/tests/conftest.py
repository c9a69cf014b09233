"""The daemon the client tests talk to: $NNLAB_URL when set, else build/nnlabd (or
$NNLABD_BIN) started on a free port for the session and stopped at its end."""
from __future__ import annotations

import pathlib
import sys
from typing import Iterator

import pytest

HERE = pathlib.Path(__file__).resolve().parent
ROOT = HERE.parents[2]
sys.path.insert(0, str(HERE.parent))  # import nnlab from the source tree
sys.path.insert(0, str(HERE))

import daemon  # noqa: E402  (this folder's daemon.py)
import nnlab  # noqa: E402


@pytest.fixture(scope="session")
def url() -> Iterator[str]:
    try:
        with daemon.running() as u:
            yield u
    except RuntimeError as e:
        pytest.fail(str(e))


@pytest.fixture(scope="session")
def client(url: str) -> Iterator[nnlab.Client]:
    with nnlab.Client(url) as c:
        yield c


@pytest.fixture(scope="session")
def sample_png() -> pathlib.Path:
    return ROOT / "web" / "sample.png"
