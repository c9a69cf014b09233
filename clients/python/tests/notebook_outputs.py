"""Compare the outputs of two executions of a notebook: every code cell's text (streams,
text/plain results, errors) must be the same, and each cell must show as many figures.
Figures are compared by count only: their PNG bytes depend on the matplotlib version.

    python3 notebook_outputs.py COMMITTED.ipynb EXECUTED.ipynb     (exit 1 and the differences)
"""
from __future__ import annotations

import json
import sys
from typing import Any, Dict, List, Tuple


def summary(path: str) -> List[Tuple[str, List[str], int]]:
    """Per code cell: its source's first line, its text outputs, its number of images."""
    with open(path, encoding="utf-8") as f:
        nb: Dict[str, Any] = json.load(f)
    cells = []
    for cell in nb["cells"]:
        if cell["cell_type"] != "code":
            continue
        texts, images = [], 0
        for out in cell.get("outputs", []):
            kind = out["output_type"]
            if kind == "stream":
                texts.append("".join(out["text"]))
            elif kind == "error":
                texts.append(f"{out['ename']}: {out['evalue']}")
            else:
                data = out.get("data", {})
                images += "image/png" in data
                if "image/png" not in data and "text/plain" in data:
                    texts.append("".join(data["text/plain"]))
        source = "".join(cell["source"]).strip().split("\n")[0]
        cells.append((source, texts, images))
    return cells


def main(argv: List[str]) -> int:
    if len(argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    want, got = summary(argv[0]), summary(argv[1])
    problems = []
    if len(want) != len(got):
        problems.append(f"{len(want)} code cells committed, {len(got)} executed")
    for i, (w, g) in enumerate(zip(want, got)):
        if w != g:
            problems.append(f"cell {i} ({w[0]!r}):\n  committed {w[1:]!r}\n  executed  {g[1:]!r}")
    errors = [t for _, texts, _ in got for t in texts if "Error" in t.split(":")[0]]
    problems += [f"the execution raised {e}" for e in errors]
    for p in problems:
        print("notebook:", p, file=sys.stderr)
    if not problems:
        print(f"notebook: {len(got)} code cells, outputs as committed ({argv[0]})")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
