#!/usr/bin/env python3
"""Draw web/sample.png: a 256x256 RGB test picture for the convolution presets.

Procedural (no input files, standard library only), so the project may publish it: a colour
gradient background, a filled disc, a rectangle, a triangle, a ring, diagonal stripes and a
checkerboard — hard edges at several orientations for sobel/laplacian, smooth ramps for the
blurs. Deterministic: running it again gives the same bytes.

    /usr/bin/python3 scripts/make_sample_png.py [OUT.png]   (default web/sample.png)
"""
import math
import struct
import sys
import zlib

W = H = 256


def pixel(x, y):
    # Background: diagonal colour gradient.
    r = int(40 + 150 * x / (W - 1))
    g = int(60 + 120 * y / (H - 1))
    b = int(200 - 120 * (x + y) / (2 * (W - 1)))
    # Checkerboard patch (top-left).
    if 16 <= x < 96 and 16 <= y < 96:
        c = 230 if ((x - 16) // 10 + (y - 16) // 10) % 2 == 0 else 25
        r = g = b = c
    # Filled disc (top-right), orange.
    if (x - 184) ** 2 + (y - 60) ** 2 <= 42 ** 2:
        r, g, b = 250, 150, 30
    # Ring (bottom-right), white.
    d = math.hypot(x - 190, y - 190)
    if 30 <= d <= 38:
        r, g, b = 245, 245, 245
    # Rectangle (bottom-left), dark green.
    if 24 <= x < 110 and 150 <= y < 232:
        r, g, b = 20, 110, 50
    # Triangle (centre), red: inside three half-planes.
    ax, ay, bx, by, cx, cy = 128, 100, 90, 170, 166, 170
    def side(px, py, qx, qy):
        return (x - qx) * (py - qy) - (px - qx) * (y - qy)
    s1, s2, s3 = side(ax, ay, bx, by), side(bx, by, cx, cy), side(cx, cy, ax, ay)
    if (s1 <= 0 and s2 <= 0 and s3 <= 0) or (s1 >= 0 and s2 >= 0 and s3 >= 0):
        r, g, b = 200, 30, 40
    # Diagonal stripes band (right middle).
    if 120 <= y < 140 and x >= 140 and ((x + y) // 6) % 2 == 0:
        r, g, b = 20, 20, 20
    return r, g, b


def png(width, height, rows):
    def chunk(tag, data):
        c = tag + data
        return struct.pack(">I", len(data)) + c + struct.pack(">I", zlib.crc32(c) & 0xFFFFFFFF)
    raw = b"".join(b"\x00" + bytes(row) for row in rows)
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)  # 8-bit RGB
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(raw, 9))
            + chunk(b"IEND", b""))


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else "web/sample.png"
    rows = []
    for y in range(H):
        row = []
        for x in range(W):
            row.extend(pixel(x, y))
        rows.append(row)
    with open(out, "wb") as f:
        f.write(png(W, H, rows))


if __name__ == "__main__":
    main()
