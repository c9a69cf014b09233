"""A daemon for the client's tests and the example notebook: build/nnlabd (or $NNLABD_BIN)
started on a free loopback port, stopped at the end — or, when $NNLAB_URL is set, that daemon.

    with running() as url: ...                        (conftest.py)
    python3 clients/python/tests/daemon.py -- CMD...  (runs CMD with NNLAB_URL set; its exit status)
"""
from __future__ import annotations

import contextlib
import os
import pathlib
import subprocess
import sys
from typing import Iterator, List, Optional

ROOT = pathlib.Path(__file__).resolve().parents[3]


@contextlib.contextmanager
def running(binary: Optional[str] = None) -> Iterator[str]:
    """Yield the URL of a daemon: $NNLAB_URL, or one started here for the duration."""
    if os.environ.get("NNLAB_URL"):
        yield os.environ["NNLAB_URL"]
        return
    path = pathlib.Path(binary or os.environ.get("NNLABD_BIN", ROOT / "build" / "nnlabd"))
    if not path.exists():
        raise RuntimeError(f"{path} is not built (make daemon), and NNLAB_URL is not set")
    proc = subprocess.Popen([str(path), "--port", "0", "--host", "127.0.0.1"],
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    line = proc.stdout.readline() if proc.stdout else ""
    if not line.startswith("listening on "):
        proc.kill()
        raise RuntimeError(f"{path} did not start: {line!r}")
    try:
        yield line[len("listening on "):].strip()
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()


def main(argv: List[str]) -> int:
    if not argv or argv[0] != "--" or len(argv) < 2:
        print("usage: daemon.py -- COMMAND [ARGS...]", file=sys.stderr)
        return 2
    with running() as url:
        return subprocess.call(argv[1:], env={**os.environ, "NNLAB_URL": url})


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
