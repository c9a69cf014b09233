"""NumPy arrays to and from the daemon's JSON: ``.npy`` tensors and images.

Going out, every ``np.ndarray`` becomes ``{"npy": "<base64 of the .npy file>"}`` (float32,
float64 and uint8 as they are; other numbers as float64, or float32 for float16; C order,
little-endian). Coming back, every ``{"shape", "dtype", "npy"}`` (and ``{"shape", "data"}``)
object becomes an ``np.ndarray``. An image argument may be a path, the bytes of a PNG/JPEG
file, a uint8 array (sent as a PNG, so it is decoded like a file: ``v / 255``, grey replicated
to RGB unless ``grayscale=True``) or a float array (sent as the ``input`` tensor as it is).
"""
from __future__ import annotations

import base64
import io
import os
import struct
import zlib
from typing import Any, Dict, Tuple, Union

import numpy as np

ImageLike = Union[str, "os.PathLike[str]", bytes, bytearray, np.ndarray]


def to_npy(a: np.ndarray) -> Dict[str, str]:
    """``{"npy": base64}`` for an array, in a dtype the daemon reads."""
    if a.dtype == np.float16:
        a = a.astype("<f4")
    elif a.dtype not in (np.float32, np.float64, np.uint8):
        a = a.astype("<f8")
    a = np.ascontiguousarray(a.astype(a.dtype.newbyteorder("<"), copy=False))
    buf = io.BytesIO()
    np.save(buf, a, allow_pickle=False)
    return {"npy": base64.b64encode(buf.getvalue()).decode("ascii")}


def encode(value: Any) -> Any:
    """A request value with every array (also inside lists, tuples and dicts) as .npy."""
    if isinstance(value, np.ndarray):
        return to_npy(value)
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, dict):
        return {k: encode(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [encode(v) for v in value]
    return value


def decode(value: Any) -> Any:
    """An answer with every tensor object as an ``np.ndarray`` (other values as they are)."""
    if isinstance(value, dict):
        if "npy" in value and isinstance(value["npy"], str) and set(value) <= {"npy", "shape", "dtype"}:
            arr = np.load(io.BytesIO(base64.b64decode(value["npy"])), allow_pickle=False)
            return arr
        if set(value) == {"shape", "data"} and isinstance(value["data"], list):
            return np.asarray(value["data"], dtype=np.float64).reshape(value["shape"])
        return {k: decode(v) for k, v in value.items()}
    if isinstance(value, list):
        return [decode(v) for v in value]
    return value


def png(a: np.ndarray) -> bytes:
    """A uint8 array [H, W] (grey), [H, W, 1], [H, W, 2] (grey + alpha), [H, W, 3] (RGB) or
    [H, W, 4] (RGBA) as a PNG file (8 bits, no filtering, zlib)."""
    if a.ndim == 2:
        a = a[:, :, None]
    if a.ndim != 3 or a.shape[2] not in (1, 2, 3, 4) or a.shape[0] < 1 or a.shape[1] < 1:
        raise ValueError(f"a uint8 image must be [H, W] or [H, W, C] with C in 1..4, not {a.shape}")
    h, w, c = a.shape
    color = {1: 0, 2: 4, 3: 2, 4: 6}[c]
    rows = np.concatenate([np.zeros((h, 1), np.uint8), np.ascontiguousarray(a, np.uint8).reshape(h, w * c)], axis=1)

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, color, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(rows.tobytes(), 6)) + chunk(b"IEND", b""))


def image_fields(image: ImageLike) -> Tuple[str, Any]:
    """The request field for an image argument: ``("image", base64)`` or ``("input", npy)``."""
    if isinstance(image, (str, os.PathLike)):
        with open(image, "rb") as f:
            return "image", base64.b64encode(f.read()).decode("ascii")
    if isinstance(image, (bytes, bytearray)):
        return "image", base64.b64encode(bytes(image)).decode("ascii")
    if isinstance(image, np.ndarray):
        if image.dtype == np.uint8:
            return "image", base64.b64encode(png(image)).decode("ascii")
        if image.dtype.kind not in "fiub":
            raise TypeError(f"an image array must hold numbers, not {image.dtype}")
        return "input", to_npy(image.astype(np.float32) if image.dtype.kind != "f" else image)
    raise TypeError("an image is a path, the bytes of a PNG/JPEG file, or an np.ndarray "
                    f"(uint8, or float in [0, 1]); got {type(image).__name__}")
