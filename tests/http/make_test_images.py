#!/usr/bin/env python3
"""Write the small images the HTTP error tests send (tests/data/http_*), standard library only.

    /usr/bin/python3 tests/http/make_test_images.py   (from the repository root)

http_wide.png   5000x1 8-bit grayscale PNG: wider than the default 4096 limit (413 "image")
http_16bit.png  4x4 16-bit grayscale PNG: not 8-bit (415 "image")
http_tiny.gif   1x1 GIF: not PNG or JPEG (415 "image")
http_small.png  5x4 8-bit RGB PNG with known pixels (happy path: image decoding)
"""
import struct
import zlib


def png(width, height, depth, colour, rows):
    def chunk(tag, data):
        c = tag + data
        return struct.pack(">I", len(data)) + c + struct.pack(">I", zlib.crc32(c) & 0xFFFFFFFF)
    raw = b"".join(b"\x00" + bytes(r) for r in rows)
    ihdr = struct.pack(">IIBBBBB", width, height, depth, colour, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(raw, 9))
            + chunk(b"IEND", b""))


def main():
    with open("tests/data/http_wide.png", "wb") as f:
        f.write(png(5000, 1, 8, 0, [[(x * 7) % 256 for x in range(5000)]]))
    with open("tests/data/http_16bit.png", "wb") as f:
        f.write(png(4, 4, 16, 0, [[(x * 40 + y) % 256 for x in range(8)] for y in range(4)]))
    with open("tests/data/http_tiny.gif", "wb") as f:
        f.write(b"GIF89a\x01\x00\x01\x00\x80\x00\x00\x00\x00\x00\xff\xff\xff!\xf9\x04\x01\x00"
                b"\x00\x00\x00,\x00\x00\x00\x00\x01\x00\x01\x00\x00\x02\x02D\x01\x00;")
    # 5 wide, 4 high, RGB: pixel (x, y) = (10*x + y, 50 + 3*y, 255 - 20*x)
    rows = []
    for y in range(4):
        row = []
        for x in range(5):
            row += [10 * x + y, 50 + 3 * y, 255 - 20 * x]
        rows.append(row)
    with open("tests/data/http_small.png", "wb") as f:
        f.write(png(5, 4, 8, 2, rows))


if __name__ == "__main__":
    main()
