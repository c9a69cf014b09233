#!/usr/bin/python3
"""Fixtures for the .npy reader and writer (server/srv_npy.c): writes the folder npy/ inside the
folder given as argv[1] — small .npy files and cases.json describing what each must give.

Files written by NumPy itself (np.save, numpy.lib.format.write_array with versions 1.0, 2.0
and 3.0): the three dtypes the server reads in several shapes (a scalar, an empty array, 1 to 8
dimensions), and real .npy files it must refuse with 415 (other dtypes, big-endian, Fortran
order, object and structured arrays). Then hand-made variants of a valid file: headers NumPy
also reads (other key order, double quotes, no trailing comma, Python 2's 'L' suffix) and
malformed ones (each a 400, or 415 for a wrong magic / version). np.load is run on every file
here, so each case records what NumPy itself does with it too ("numpy_reads")."""
import io
import json
import pathlib
import struct
import sys

import numpy as np
from numpy.lib import format as npf


def save(arr, version=None, allow_pickle=False):
    b = io.BytesIO()
    if version is None:
        np.save(b, arr, allow_pickle=allow_pickle)
    else:
        npf.write_array(b, arr, version=version, allow_pickle=allow_pickle)
    return b.getvalue()


def header_len(raw):
    return (10 + struct.unpack("<H", raw[8:10])[0]) if raw[6] == 1 else (12 + struct.unpack("<I", raw[8:12])[0])


def with_header(text, data=b"", version=1, pad=True):
    """A file with this header text (padded as NumPy pads when pad) and these data bytes."""
    h = text.encode("latin1" if version < 3 else "utf8")
    pre = 10 if version == 1 else 12
    if pad:
        h = h + b" " * (63 - (pre + len(h)) % 64) + b"\n"
    size = struct.pack("<H", len(h)) if version == 1 else struct.pack("<I", len(h))
    return b"\x93NUMPY" + bytes([version, 0]) + size + h + data


def numpy_reads(raw):
    try:
        np.load(io.BytesIO(raw), allow_pickle=False)
        return True
    except Exception:  # noqa: BLE001 (any refusal counts)
        return False


def main():
    out = pathlib.Path(sys.argv[1] if len(sys.argv) > 1 else "tests/fixtures") / "npy"
    out.mkdir(parents=True, exist_ok=True)
    for old in out.glob("*.npy"):
        old.unlink()
    cases = []
    rng = np.random.RandomState(3)

    def add(name, raw, **expect):
        (out / f"{name}.npy").write_bytes(raw)
        cases.append({"name": name, "numpy_reads": numpy_reads(raw), **expect})

    def ok(name, arr, version=None):
        raw = save(arr, version)
        dtype = {"float32": "float32", "float64": "float64", "uint8": "uint8"}[str(arr.dtype)]
        add(name, raw, status=0, dtype=dtype, shape=list(arr.shape),
            values=[float(v) for v in arr.reshape(-1)], header_len=header_len(raw))

    f = rng.randn(2, 3).astype(np.float32)
    ok("f32_2x3_v1", f)
    ok("f32_2x3_v2", f, (2, 0))
    ok("f32_2x3_v3", f, (3, 0))
    ok("f64_5", rng.randn(5))
    ok("f64_3x1x2_v2", rng.randn(3, 1, 2), (2, 0))
    ok("u8_4x3x3", rng.randint(0, 256, size=(4, 3, 3)).astype(np.uint8))
    ok("u8_7_v3", np.arange(250, 257, dtype=np.int64).clip(0, 255).astype(np.uint8), (3, 0))
    ok("f32_scalar", np.array(1.5, dtype=np.float32))
    ok("f32_empty", np.zeros((0,), dtype=np.float32))
    ok("f32_1", np.array([-0.0], dtype=np.float32))
    ok("f32_8d", rng.rand(1, 2, 1, 2, 1, 2, 1, 2).astype(np.float32))
    ok("f32_12x1", rng.randn(12, 1).astype(np.float32))
    ok("f32_123x2", rng.randn(123, 2).astype(np.float32))
    ok("f64_tiny_huge", np.array([1e-300, -2.5e300, 5e-324], dtype=np.float64))
    ok("f32_extremes", np.array([3.4028235e38, -1.1754944e-38, 1e-45], dtype=np.float32))
    ok("f32_fortran_1d", np.asfortranarray(np.arange(4, dtype=np.float32)))  # 1-D: C order too

    def refuse(name, arr, status, why, version=None, allow_pickle=False):
        add(name, save(arr, version, allow_pickle), status=status, why=why)

    refuse("i64", np.arange(3, dtype=np.int64), 415, "dtype '<i8'")
    refuse("f16", np.ones(3, dtype=np.float16), 415, "dtype '<f2'")
    refuse("c64", np.ones(2, dtype=np.complex64), 415, "dtype '<c8'")
    refuse("bool", np.ones(2, dtype=bool), 415, "dtype '|b1'")
    refuse("u16", np.ones(2, dtype=np.uint16), 415, "dtype '<u2'")
    refuse("unicode", np.array(["ab", "c"]), 415, "dtype '<U2'")
    refuse("f32_big_endian", np.arange(3, dtype=">f4"), 415, "big-endian")
    refuse("f64_big_endian", np.arange(3, dtype=">f8"), 415, "big-endian")
    refuse("f32_fortran", np.asfortranarray(np.arange(6, dtype=np.float32).reshape(2, 3)), 415,
           "Fortran order")
    refuse("object", np.array([1, "a", None], dtype=object), 415, "object arrays", allow_pickle=True)
    refuse("structured", np.zeros(2, dtype=[("a", "<f4"), ("b", "<i4")]), 415, "structured")

    data6 = np.arange(6, dtype=np.float32).tobytes()
    good = "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }"

    def variant(name, text, status, why="", data=data6, version=1, pad=True, shape=(2, 3),
                dtype="float32"):
        raw = with_header(text, data, version, pad)
        if status == 0:
            values = np.frombuffer(data, dtype="<f4" if dtype == "float32" else "u1")
            add(name, raw, status=0, dtype=dtype, shape=list(shape),
                values=[float(v) for v in values], header_len=None)
        else:
            add(name, raw, status=status, why=why)

    variant("key_order_quotes", '{"shape": (2, 3), "fortran_order": False, "descr": "<f4"}', 0)
    variant("no_padding_newline", good, 0, pad=False)
    variant("spaces_everywhere", "  { 'descr' : '<f4' ,\t'fortran_order':False,'shape':( 2 ,3 , ) }", 0)
    variant("python2_long", "{'descr': '<f4', 'fortran_order': False, 'shape': (2L, 3L), }", 0)
    variant("v2_handmade", good, 0, version=2)
    variant("u1_little", "{'descr': '<u1', 'fortran_order': False, 'shape': (6,), }", 0,
            data=bytes(range(6)), shape=(6,), dtype="uint8")
    variant("data_short", good, 400, "holds 20", data=data6[:-4])
    variant("data_long", good, 400, "holds 28", data=data6 + b"\0\0\0\0")
    variant("shape_not_tuple", "{'descr': '<f4', 'fortran_order': False, 'shape': (6), }", 400, "not a tuple")
    variant("shape_list", "{'descr': '<f4', 'fortran_order': False, 'shape': [2, 3], }", 400, "tuple")
    variant("shape_negative", "{'descr': '<f4', 'fortran_order': False, 'shape': (-2, 3), }", 400, "dimension")
    variant("shape_float", "{'descr': '<f4', 'fortran_order': False, 'shape': (2.0, 3), }", 400, "after a dimension")
    variant("shape_leading_zero", "{'descr': '<f4', 'fortran_order': False, 'shape': (02, 3), }", 400, "leading zero")
    variant("shape_9d", "{'descr': '<f4', 'fortran_order': False, 'shape': (1, 1, 1, 1, 1, 1, 2, 1, 3), }",
            400, "more than 8 dimensions")
    variant("shape_overflow", "{'descr': '<f4', 'fortran_order': False, 'shape': (4294967296, 4294967296, 4294967296), }",
            400, "too large")
    variant("shape_huge_dim", "{'descr': '<f4', 'fortran_order': False, 'shape': (99999999999999999999999, ), }",
            400, "too large")
    variant("python2_long_v3", "{'descr': '<f4', 'fortran_order': False, 'shape': (2L, 3L), }", 400,
            "after a dimension", version=3)
    variant("missing_shape", "{'descr': '<f4', 'fortran_order': False, }", 400, "no 'shape'")
    variant("missing_descr", "{'fortran_order': False, 'shape': (2, 3), }", 400, "no 'descr'")
    variant("missing_fortran", "{'descr': '<f4', 'shape': (2, 3), }", 400, "no 'fortran_order'")
    variant("extra_key", "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), 'x': 1, }", 400, "unknown key")
    variant("duplicate_key", "{'descr': '<f4', 'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }", 400, "twice")
    variant("fortran_not_bool", "{'descr': '<f4', 'fortran_order': 0, 'shape': (2, 3), }", 400, "True or False")
    variant("fortran_lowercase", "{'descr': '<f4', 'fortran_order': false, 'shape': (2, 3), }", 400, "True or False")
    variant("descr_not_string", "{'descr': 4, 'fortran_order': False, 'shape': (2, 3), }", 400, "quoted string")
    variant("unterminated_string", "{'descr': '<f4, 'fortran_order': False, 'shape': (2, 3), }", 400, "malformed")
    variant("escape_in_string", "{'descr': '<f\\x34', 'fortran_order': False, 'shape': (2, 3), }", 400, "escape")
    variant("no_closing_brace", "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), ", 400, "expected")
    variant("not_a_dict", "['<f4', False, (2, 3)]", 400, "must be a dict")
    variant("text_after_dict", good + " x", 400, "text after")
    variant("missing_colon", "{'descr' '<f4', 'fortran_order': False, 'shape': (2, 3), }", 400, "':'")
    variant("missing_comma", "{'descr': '<f4' 'fortran_order': False, 'shape': (2, 3), }", 400, "expected ','")
    variant("nul_in_header", "{'descr': '<f4',\0 'fortran_order': False, 'shape': (2, 3), }", 400, "malformed")
    variant("latin1_in_header", "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), '\xe9': 1}", 400, "unknown key")
    variant("empty_header", "", 400, "must be a dict", pad=False)
    # broken framing
    valid = save(np.arange(6, dtype=np.float32).reshape(2, 3))
    add("bad_magic", b"\x93NUMPZ" + valid[6:], status=415, why="not a .npy")
    add("png_magic", b"\x89PNG\r\n\x1a\n" + valid[8:], status=415, why="not a .npy")
    add("version_4", valid[:6] + b"\x04\x00" + valid[8:], status=415, why="version 4.0")
    add("version_1_1", valid[:6] + b"\x01\x01" + valid[8:], status=415, why="version 1.1")
    add("truncated_magic", valid[:4], status=415, why="not a .npy")
    add("truncated_prefix", valid[:9], status=400, why="truncated")
    add("truncated_header", valid[:40], status=400, why="truncated")
    add("header_len_too_large", valid[:8] + struct.pack("<H", 60000) + valid[10:], status=400, why="limit")
    add("v2_header_len_huge", b"\x93NUMPY\x02\x00" + struct.pack("<I", 0xFFFFFFF0) + b"{}", status=400, why="limit")
    add("empty", b"", status=415, why="not a .npy")
    for c in cases:
        # Whatever the server reads, NumPy reads too; where NumPy reads what the server refuses
        # (other dtypes, Fortran order, trailing bytes it leaves unread), the server is stricter.
        assert c["status"] != 0 or c["numpy_reads"], c["name"]
        if c["status"] and c["numpy_reads"]:
            print(f"  {c['name']}: NumPy reads it, the server answers {c['status']}")
    doc = {"generator": "tests/reference/gen_npy.py", "numpy": np.__version__, "cases": cases}
    with open(out / "cases.json", "w") as fh:
        json.dump(doc, fh, indent=1)
        fh.write("\n")


if __name__ == "__main__":
    main()
