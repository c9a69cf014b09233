#!/usr/bin/python3
"""Write the small PNGs the srv_* unit tests decode (pure Python: zlib + struct, no PIL).

Run from anywhere: python3 tests/data/srv/make_images.py — the outputs are committed.
  rgb_3x2.png    8-bit RGB, 3 wide x 2 high, known pixels (see PIXELS)
  rgba_2x2.png   8-bit RGBA (alpha must be dropped)
  gray_2x2.png   8-bit grey
  gray16_2x2.png 16-bit grey (must be refused: 415)
  wide_5000x1.png 8-bit grey, 5000 x 1 (over the 4096 side limit: 413)
  not_png.png    text with a .png name (415)
  empty_idat_2x2.png  a valid grey PNG whose first IDAT chunk is empty (stb_image 2.27 does NULL + 0)
  bomb_16x16.png  16x16 RGB whose IDAT inflates to 32 MiB (must fail fast: 415)
  dht_overflow.jpg  solid_8x8.jpg with a DHT whose counts sum to 4080 (stb_image 2.27 overflows)
(solid_8x8.jpg, every pixel (200, 100, 50), was written once with stb_image_write, quality 95.)
"""
import pathlib
import struct
import zlib

HERE = pathlib.Path(__file__).resolve().parent
PIXELS = [[(255, 0, 0), (0, 255, 0), (0, 0, 255)],
          [(10, 20, 30), (128, 128, 128), (255, 255, 255)]]


def chunk(kind, data):
    c = struct.pack(">I", len(data)) + kind + data
    return c + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def png(width, height, bit_depth, color_type, rows):
    raw = b"".join(b"\x00" + r for r in rows)
    ihdr = struct.pack(">IIBBBBB", width, height, bit_depth, color_type, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(raw, 9))
            + chunk(b"IEND", b""))


def main():
    rgb = [bytes(v for px in row for v in px) for row in PIXELS]
    (HERE / "rgb_3x2.png").write_bytes(png(3, 2, 8, 2, rgb))
    rgba = [bytes([255, 0, 0, 0, 0, 255, 0, 128]), bytes([0, 0, 255, 255, 7, 8, 9, 10])]
    (HERE / "rgba_2x2.png").write_bytes(png(2, 2, 8, 6, rgba))
    (HERE / "gray_2x2.png").write_bytes(png(2, 2, 8, 0, [bytes([0, 64]), bytes([128, 255])]))
    g16 = [struct.pack(">HH", 0, 65535), struct.pack(">HH", 1000, 30000)]
    (HERE / "gray16_2x2.png").write_bytes(png(2, 2, 16, 0, g16))
    (HERE / "wide_5000x1.png").write_bytes(png(5000, 1, 8, 0, [bytes(i % 256 for i in range(5000))]))
    (HERE / "not_png.png").write_bytes(b"this is not an image\n")
    rows = [bytes([0, 64]), bytes([128, 255])]
    ihdr = struct.pack(">IIBBBBB", 2, 2, 8, 0, 0, 0, 0)
    raw = b"".join(b"\x00" + r for r in rows)
    (HERE / "empty_idat_2x2.png").write_bytes(
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", b"")
        + chunk(b"IDAT", zlib.compress(raw, 9)) + chunk(b"IEND", b""))
    bomb = zlib.compress(bytes(32 << 20), 9)
    ihdr = struct.pack(">IIBBBBB", 16, 16, 8, 2, 0, 0, 0)
    (HERE / "bomb_16x16.png").write_bytes(
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", bomb) + chunk(b"IEND", b""))
    jpg = bytearray((HERE / "solid_8x8.jpg").read_bytes())
    at = jpg.find(b"\xff\xc4")
    jpg[at + 5:at + 21] = bytes([255] * 16)  # the 16 code counts of the first table
    (HERE / "dht_overflow.jpg").write_bytes(bytes(jpg))


if __name__ == "__main__":
    main()
