"""Grade a folder of students' answers with nnlab's /check: every <name>.npy in FOLDER is checked
against one task (by default the assignment's convolution layer: the sample image, 16 filters
numpy_randn with seed 42, sigmoid), one CSV line per file on stdout.

    python3 examples/grade.py FOLDER > grades.csv        (the daemon at $NNLAB_URL)

Change TASK for another exercise: the operation ("conv", "pool", "mlp") and its fields, exactly
as for the client's conv / pool / mlp methods.
"""
from __future__ import annotations

import csv
import pathlib
import sys

import numpy as np

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "clients" / "python"))
import nnlab  # noqa: E402

TASK = ("conv", {"image": ROOT / "web" / "sample.png", "activation": "sigmoid", "seed": 42,
                 "filters": {"count": 16, "size": 3, "init": "numpy_randn"}})


def grade(client: nnlab.Client, path: pathlib.Path) -> list:
    op, fields = TASK
    try:
        v = client.check(op, np.load(path, allow_pickle=False), **fields)
    except (nnlab.Error, ValueError, OSError) as e:
        return [path.stem, "error", "", "", str(e)]
    codes = " ".join(d["code"] for d in v["diagnosis"])
    return [path.stem, "pass" if v["pass"] else "fail", v["max_abs_error"], v["mismatches"], codes]


def main(folder: str) -> int:
    out = csv.writer(sys.stdout)
    out.writerow(["student", "verdict", "max_abs_error", "wrong_values", "diagnosis"])
    with nnlab.Client() as client:
        for path in sorted(pathlib.Path(folder).glob("*.npy")):
            out.writerow(grade(client, path))
    return 0


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    sys.exit(main(sys.argv[1]))
