#!/usr/bin/python3
"""Regenerate every reference fixture: runs each tests/reference/gen_*.py with the output folder.

Needs Debian's python3-torch (run with /usr/bin/python3). The JSON written is committed, so
`make test` never needs torch. Each generator is deterministic (fixed seeds, float64)."""
import pathlib
import subprocess
import sys

out = pathlib.Path(sys.argv[1] if len(sys.argv) > 1 else "tests/fixtures")
out.mkdir(parents=True, exist_ok=True)
here = pathlib.Path(__file__).resolve().parent
for gen in sorted(here.glob("gen_*.py")):
    print(f"== {gen.name}", flush=True)
    subprocess.run([sys.executable, str(gen), str(out)], check=True)
