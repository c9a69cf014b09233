#!/usr/bin/env python3
"""List the C functions longer than a limit (80 lines by default) in the given files or folders.

A function's length runs from the first line of its signature (a signature over several lines
counts whole) to its closing brace. Comments, strings and character literals are blanked before
braces are counted, and preprocessor lines (with their continuations) are skipped, so a function
written inside a macro is not seen.

    scripts/long_functions.py [--max N] [--allow FILE] PATH...

Prints `file:line: name (N lines)` for each function over the limit that the allow-list does
not name, and exits 1 if there is one. The allow-list holds `file:function` lines; `#` starts a
comment, which should say why that function may stay long. An allow-list entry that no longer
matches a long function is reported too, so the list cannot go stale.
"""
import argparse
import os
import re
import sys


def blank_comments_and_strings(text):
    """Replace comments, string and character literals by spaces, keeping line breaks."""
    out = []
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if text.startswith("/*", i):
            j = text.find("*/", i + 2)
            j = n if j < 0 else j + 2
            out.append(re.sub(r"[^\n]", " ", text[i:j]))
            i = j
        elif text.startswith("//", i):
            j = text.find("\n", i)
            j = n if j < 0 else j
            out.append(" " * (j - i))
            i = j
        elif c in "\"'":
            j = i + 1
            while j < n and text[j] != c and text[j] != "\n":
                j += 2 if text[j] == "\\" else 1
            j = min(j + 1, n)
            out.append(c + re.sub(r"[^\n]", " ", text[i + 1:j - 1]) + c)
            i = j
        else:
            out.append(c)
            i += 1
    return "".join(out)


def code_lines(text):
    """The file's lines with comments and strings blanked and preprocessor lines emptied."""
    lines = blank_comments_and_strings(text).split("\n")
    in_pp = False
    for k, line in enumerate(lines):
        if in_pp or line.lstrip().startswith("#"):
            in_pp = line.rstrip().endswith("\\")
            lines[k] = ""
    return lines


NAME_BEFORE_PAREN = re.compile(r"([A-Za-z_]\w*)\s*\($")


def functions(path):
    """Yield (name, first line, line count) for each function defined at file level."""
    with open(path, encoding="utf-8", errors="replace") as f:
        lines = code_lines(f.read())
    depth = 0
    head = None  # (first line, text) of the declaration being read at depth 0
    start = None  # (name, first line) of the function whose body is open
    for k, line in enumerate(lines, 1):
        if depth == 0 and head is not None and line[:1].strip() and ends_call(head[1]):
            head = None  # a macro call without ';' (VARIANTS(...)) or an attribute ended there
        for c in line:
            if depth == 0:
                if head is None and not c.isspace():
                    head = (k, "")
                if head is None:
                    continue
                if c == "{":
                    name = function_name(head[1])
                    start = (name, head[0]) if name else None
                    head = None
                    depth = 1
                elif c == ";":
                    head = None
                else:
                    head = (head[0], head[1] + c)
            else:
                if c == "{":
                    depth += 1
                elif c == "}":
                    depth -= 1
                    if depth == 0:
                        if start:
                            yield start[0], start[1], k - start[1] + 1
                        start = None
        if head is not None:
            head = (head[0], head[1] + " ")


def ends_call(decl):
    """Whether decl ends with a balanced ')' (a complete call or parameter list)."""
    decl = decl.rstrip()
    return decl.endswith(")") and decl.count("(") == decl.count(")")


def function_name(decl):
    """The name a function definition's declaration defines, or None (struct, initialiser...)."""
    decl = decl.strip()
    if "=" in decl or "(" not in decl or not decl.endswith(")"):
        return None
    # The name is the identifier before the '(' that opens the outermost parameter list.
    depth = 0
    for i in range(len(decl) - 1, -1, -1):
        if decl[i] == ")":
            depth += 1
        elif decl[i] == "(":
            depth -= 1
            if depth == 0:
                m = NAME_BEFORE_PAREN.search(decl[:i + 1])
                return m.group(1) if m else None
    return None


def c_files(paths):
    for p in paths:
        if os.path.isdir(p):
            for root, _, files in sorted(os.walk(p)):
                for f in sorted(files):
                    if f.endswith((".c", ".h")):
                        yield os.path.join(root, f)
        else:
            yield p


def read_allow(path):
    allow = {}
    if not path:
        return allow
    with open(path, encoding="utf-8") as f:
        for k, line in enumerate(f, 1):
            entry = line.split("#", 1)[0].strip()
            if entry:
                allow[entry] = k
    return allow


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--max", type=int, default=80, help="longest allowed function, in lines")
    ap.add_argument("--allow", help="file of file:function entries that may stay long")
    ap.add_argument("paths", nargs="+")
    args = ap.parse_args()
    allow = read_allow(args.allow)
    used = set()
    bad = 0
    for path in c_files(args.paths):
        for name, line, count in functions(path):
            if count <= args.max:
                continue
            key = f"{os.path.normpath(path)}:{name}"
            if key in allow:
                used.add(key)
                continue
            print(f"{path}:{line}: {name} ({count} lines, more than {args.max})")
            bad += 1
    for key in sorted(set(allow) - used):
        print(f"{args.allow}:{allow[key]}: {key} is allowed to be long but is not (drop the entry)")
        bad += 1
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
