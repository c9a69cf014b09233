#!/usr/bin/env python3
"""Generate the known-bad image set: crafted PNG/JPEG files that must each get a clean
4xx JSON error from POST /conv, quickly, even under AddressSanitizer.

Only the standard library (zlib, struct) is used, so the files are reproducible anywhere:
    python3 tests/data/bad_images/make.py [outdir]      # default: this script's directory
It writes the files and manifest.json: one entry per file with
    "expect": "4xx"   the daemon must answer 400/413/415 with the contract's JSON error;
              "any"   stb_image legitimately decodes it (e.g. it ignores CRCs): 200 or 4xx, never 5xx;
              "200"   a control that must succeed (proves the harness posts images correctly);
    "max_ms": the time budget for the answer (on the sanitizer build);
    "why":    what is wrong with the file;
    "gray":   also sent with "grayscale": true;
    "status": (some files) the exact status the 4xx must be.
Every file must also decode to the same answer every time (test_bad_images decodes each twice
with the heap and the stack filled with different garbage; bad_images.py posts each twice).
"""
import json
import os
import struct
import sys
import zlib

OUT = sys.argv[1] if len(sys.argv) > 1 else os.path.dirname(os.path.abspath(__file__))
MANIFEST = []

# -- PNG ---------------------------------------------------------------------------------------
SIG = b"\x89PNG\r\n\x1a\n"


def chunk(ctype, data, crc=None):
    if crc is None:
        crc = zlib.crc32(ctype + data) & 0xFFFFFFFF
    return struct.pack(">I", len(data)) + ctype + data + struct.pack(">I", crc)


def ihdr(w, h, depth=8, ctype=2, interlace=0):
    return chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, depth, ctype, 0, 0, interlace))


def raw_rows(w, h, bpp, filt=0, value=0x80):
    """Scanlines: one filter byte then w*bpp bytes per row."""
    return b"".join(bytes([filt]) + bytes([value]) * (w * bpp) for _ in range(h))


def png(w, h, depth=8, ctype=2, channels=3, raw=None, idat=None, extra=b""):
    if idat is None:
        if raw is None:
            raw = raw_rows(w, h, channels * depth // 8)
        idat = zlib.compress(raw, 9)
    return SIG + ihdr(w, h, depth, ctype) + extra + chunk(b"IDAT", idat) + chunk(b"IEND", b"")


def zeros_zlib(n):
    """A zlib stream that inflates to n zero bytes, compressed chunk by chunk (bounded memory)."""
    c = zlib.compressobj(9)
    block = bytes(1 << 20)
    parts = []
    left = n
    while left > 0:
        k = min(left, len(block))
        parts.append(c.compress(block[:k]))
        left -= k
    parts.append(c.flush())
    return b"".join(parts)


# -- JPEG (a minimal baseline encoder: every block DC=0, AC=EOB) --------------------------------
def seg(marker, payload):
    return bytes([0xFF, marker]) + struct.pack(">H", len(payload) + 2) + payload


def dqt(table_id=0):
    return seg(0xDB, bytes([table_id]) + bytes([1]) * 64)


def sof(w, h, ncomp=3, marker=0xC0, precision=8, comps=None):
    if comps is None:
        comps = [(i + 1, 0x11, 0) for i in range(ncomp)]
    body = struct.pack(">BHHB", precision, h, w, len(comps))
    for cid, hv, tq in comps:
        body += bytes([cid, hv, tq])
    return seg(marker, body)


def dht(tclass, tid, counts, symbols):
    return seg(0xC4, bytes([(tclass << 4) | tid]) + bytes(counts) + bytes(symbols))


def one_code_tables():
    # DC table 0 and AC table 0 each hold one 1-bit code "0": DC category 0 / AC end-of-block.
    counts = [1] + [0] * 15
    return dht(0, 0, counts, [0]) + dht(1, 0, counts, [0])


def sos(ncomp=3, ss=0, se=63, ahal=0):
    body = bytes([ncomp])
    for i in range(ncomp):
        body += bytes([i + 1, 0x00])
    return seg(0xDA, body + bytes([ss, se, ahal]))


def scan_bits(w, h, ncomp):
    blocks = ((w + 7) // 8) * ((h + 7) // 8) * ncomp
    nbits = 2 * blocks  # "0" (DC cat 0) + "0" (EOB) per block
    nbytes = (nbits + 7) // 8
    data = bytearray(nbytes)
    pad = nbytes * 8 - nbits
    if pad:
        data[-1] |= (1 << pad) - 1  # pad with 1-bits, as the standard says
    return bytes(data)


def jpeg(w, h, ncomp=3, scan=None, sofseg=None, tables=None, head_extra=b""):
    if scan is None:
        scan = scan_bits(w, h, ncomp)
    if sofseg is None:
        sofseg = sof(w, h, ncomp)
    if tables is None:
        tables = one_code_tables()
    return (b"\xFF\xD8" + head_extra + dqt() + sofseg + tables + sos(ncomp) + scan +
            b"\xFF\xD9")


# -- deflate streams written bit by bit (block structures zlib.compress never makes) -------------
class BitWriter:
    """Bits least significant first, as deflate packs them; Huffman codes most significant first."""

    def __init__(self):
        self.out, self.acc, self.n = bytearray(), 0, 0

    def bits(self, value, n):
        self.acc |= value << self.n
        self.n += n
        while self.n >= 8:
            self.out.append(self.acc & 0xFF)
            self.acc >>= 8
            self.n -= 8

    def code(self, code, n):
        for i in range(n - 1, -1, -1):
            self.bits((code >> i) & 1, 1)

    def stored_final(self, data):
        """data in stored blocks (at most 65535 bytes each, the last one final): all the bytes."""
        pieces = [data[i:i + 65535] for i in range(0, len(data), 65535)] or [b""]
        for k, piece in enumerate(pieces):
            self.bits(1 if k == len(pieces) - 1 else 0, 1)
            self.bits(0, 2)
            if self.n:
                self.bits(0, 8 - self.n)
            self.out += struct.pack("<HH", len(piece), len(piece) ^ 0xFFFF) + piece
        return bytes(self.out)


def zlib_empty_blocks(nblocks, raw, dynamic):
    """A valid zlib stream: nblocks empty blocks (fixed codes: 10 bits each; dynamic: 91 bits,
    each a complete code set, as zlib requires), then raw in a final stored block."""
    w = BitWriter()
    cl_order = [16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15]
    for _ in range(nblocks):
        w.bits(0, 1)
        if not dynamic:
            w.bits(1, 2)
            w.code(0, 7)  # end of block (256) in the fixed code
            continue
        w.bits(2, 2)
        w.bits(0, 5)   # 257 literal/length codes
        w.bits(0, 5)   # 1 distance code
        w.bits(14, 4)  # 18 code length codes
        for sym in cl_order[:18]:
            w.bits(1 if sym in (1, 18) else 0, 3)  # code length code: 1 -> '0', 18 -> '1'
        w.code(0, 1)                    # literal 0: length 1
        w.code(1, 1); w.bits(127, 7)    # 138 zeros
        w.code(1, 1); w.bits(106, 7)    # 117 zeros: literals 1..255
        w.code(0, 1)                    # 256 (end of block): length 1
        w.code(0, 1)                    # distance 0: length 1
        w.code(1, 1)                    # end of block: literal 0 is '0', 256 is '1'
    return b"\x78\x01" + w.stored_final(raw) + struct.pack(">I", zlib.adler32(raw))


def adam7_raw(w, h, pixel):
    """Filtered scanlines of an Adam7-interlaced image whose every pixel is `pixel` (bytes)."""
    out = b""
    for x0, y0, dx, dy in ((0, 0, 8, 8), (4, 0, 8, 8), (0, 4, 4, 8), (2, 0, 4, 4), (0, 2, 2, 4),
                           (1, 0, 2, 2), (0, 1, 1, 2)):
        pw = (w - x0 + dx - 1) // dx if w > x0 else 0
        ph = (h - y0 + dy - 1) // dy if h > y0 else 0
        if pw and ph:
            out += (b"\x00" + pixel * pw) * ph
    return out


def palette_png(w, h, plte, indices, trns=None, plte_chunks=1):
    """An 8-bit palette PNG: plte is a list of (r, g, b), indices one byte per pixel."""
    raw = b"".join(b"\x00" + bytes(indices[y * w:(y + 1) * w]) for y in range(h))
    extra = chunk(b"PLTE", b"".join(bytes(c) for c in plte)) * plte_chunks
    if trns is not None:
        extra += chunk(b"tRNS", bytes(trns))
    return png(w, h, ctype=3, channels=1, raw=raw, extra=extra)


# -- progressive JPEG (SOF2): every coefficient zero, one 1-bit code per block and scan ----------
def jpeg_scans(w, h, ncomp, scans, marker=0xC2, dri=0, data=None, tables=None):
    """A JPEG with the given scans [(components (1-based), Ss, Se, Ah, Al)]: each scan's data is
    one '0' bit per block it covers (DC difference 0, end of block, refinement bit 0), padded
    with 1-bits; data(i, nblocks) may replace it. Sampling 1x1."""
    out = b"\xFF\xD8" + dqt() + sof(w, h, ncomp, marker=marker) + (tables or one_code_tables())
    if dri:
        out += seg(0xDD, struct.pack(">H", dri))
    per_comp = ((w + 7) // 8) * ((h + 7) // 8)
    for i, (comps, ss, se, ah, al) in enumerate(scans):
        body = bytes([len(comps)]) + b"".join(bytes([c, 0x00]) for c in comps)
        out += seg(0xDA, body + bytes([ss, se, (ah << 4) | al]))
        nbits = per_comp * len(comps)
        scan = data(i, nbits) if data else None
        if scan is None:
            scan = bytearray((nbits + 7) // 8)
            if nbits % 8:
                scan[-1] |= (1 << (8 - nbits % 8)) - 1
        out += bytes(scan)
    return out + b"\xFF\xD9"


# libjpeg's jpeg_simple_progression() for YCbCr: the 10 scans every libjpeg progressive JPEG has.
LIBJPEG_SCRIPT = [((1, 2, 3), 0, 0, 0, 1), ((1,), 1, 5, 0, 2), ((3,), 1, 63, 0, 1),
                  ((2,), 1, 63, 0, 1), ((1,), 6, 63, 0, 2), ((1,), 1, 63, 2, 1),
                  ((1, 2, 3), 0, 0, 1, 0), ((3,), 1, 63, 1, 0), ((2,), 1, 63, 1, 0),
                  ((1,), 1, 63, 1, 0)]


def refinement_scans(ncomp, n):
    """A DC scan, then n AC refinement scans cycling over the components: each empty (1 byte),
    each a full pass over its component's blocks in stb_image."""
    return [(tuple(range(1, ncomp + 1)), 0, 0, 0, 0)] + \
        [((i % ncomp + 1,), 1, 63, 1, 0) for i in range(n)]


# -- the set ---------------------------------------------------------------------------------------
# Open bugs these files reproduce (see docs/reliability.md and docs/known-issues.md). bad_images.py
# fails on them; with --known-ok (the quick run in `make test`) they print XFAIL instead, and XPASS
# when they pass, so the entry can be deleted once fixed.
KNOWN = {}  # none open


def add(name, data, expect, why, max_ms=200, gray=True, status=None):
    with open(os.path.join(OUT, name), "wb") as f:
        f.write(data)
    entry = {"file": name, "expect": expect, "max_ms": max_ms, "why": why, "bytes": len(data),
             "gray": gray}
    if status:
        entry["status"] = status
    if name in KNOWN:
        entry["known_issue"] = KNOWN[name]
    MANIFEST.append(entry)


def main():
    os.makedirs(OUT, exist_ok=True)
    good_png = png(64, 64)
    good_jpg = jpeg(64, 64)

    # Controls: the harness must get 200 for these, or its 4xx results prove nothing.
    add("control_valid.png", good_png, "200", "a valid 64x64 RGB PNG (control)")
    add("control_valid.jpg", good_jpg, "200", "a valid 64x64 baseline JPEG (control)")

    # Huge declared dimensions: rejected from the header (stbi_info) before any decoding.
    add("png_huge_100000x100000.png", png(100000, 100000, idat=zeros_zlib(1024)), "4xx",
        "IHDR declares 100000x100000 (10^10 pixels) with a tiny IDAT")
    add("png_huge_5000x1.png", png(5000, 1), "4xx",
        "5000 pixels wide: one side above the 4096 limit although the area is small")
    add("png_huge_2147483647.png", png(0x7FFFFFFF, 0x7FFFFFFF, idat=zeros_zlib(64)), "4xx",
        "IHDR declares 2^31-1 x 2^31-1 (int overflow bait)")
    add("png_huge_4294967295.png", png(0xFFFFFFFF, 1, idat=zeros_zlib(64)), "4xx",
        "IHDR width 2^32-1 (outside the PNG spec)")
    add("jpg_huge_65535x65535.jpg", jpeg(65535, 65535, scan=b"\x00" * 16), "4xx",
        "SOF0 declares 65535x65535 with 16 bytes of scan data")
    add("jpg_huge_5000x8.jpg", jpeg(5000, 8), "4xx",
        "5000 pixels wide: one side above the 4096 limit")

    # Zero dimensions.
    add("png_zero_width.png", png(0, 16, idat=zeros_zlib(16)), "4xx", "IHDR width 0")
    add("png_zero_height.png", png(16, 0, idat=zeros_zlib(16)), "4xx", "IHDR height 0")
    add("jpg_zero_height.jpg", jpeg(16, 0, scan=scan_bits(16, 8, 3)), "4xx",
        "SOF height 0 (DNL-delayed height, unsupported)")
    add("jpg_zero_width.jpg", jpeg(0, 16, scan=scan_bits(8, 16, 3)), "4xx", "SOF width 0")

    # Bit depth: the contract accepts 8-bit images only.
    add("png_16bit_rgb.png", png(8, 8, depth=16, ctype=2, channels=3), "4xx",
        "a valid 16-bit RGB PNG (8-bit only)")
    add("png_16bit_gray.png", png(8, 8, depth=16, ctype=0, channels=1), "4xx",
        "a valid 16-bit grayscale PNG (8-bit only)")
    add("jpg_12bit.jpg", jpeg(8, 8, sofseg=sof(8, 8, 3, marker=0xC1, precision=12)), "4xx",
        "SOF1 with 12-bit precision")

    # Truncated files.
    add("png_truncated_signature.png", SIG[:5], "4xx", "5 bytes of the PNG signature")
    add("png_truncated_ihdr.png", (SIG + ihdr(64, 64))[:20], "4xx", "cut inside IHDR")
    add("png_truncated_idat.png", good_png[:len(good_png) // 2], "4xx",
        "a valid PNG cut in the middle of its IDAT")
    add("jpg_truncated_soi.jpg", b"\xFF\xD8", "4xx", "SOI marker only")
    add("jpg_truncated_header.jpg", good_jpg[:30], "4xx", "cut inside the DQT segment")
    add("jpg_truncated_before_scan.jpg", good_jpg[:good_jpg.index(b"\xFF\xDA")], "4xx",
        "headers and tables but no scan")
    add("jpg_truncated_scan.jpg", good_jpg[:-6], "any",
        "scan data cut short (stb_image pads missing entropy data with zeros: may decode)")

    # Corrupt chunks / segments.
    bad_crc = bytearray(good_png)
    bad_crc[29] ^= 0xFF  # first byte of IHDR's CRC
    add("png_bad_crc.png", bytes(bad_crc), "any",
        "IHDR CRC wrong (stb_image does not verify CRCs: may decode)")
    add("png_corrupt_zlib.png", png(64, 64, idat=b"\x78\x9c" + bytes(range(7, 250)) * 4),
        "4xx", "IDAT is not a valid zlib stream")
    add("png_zlib_bad_header.png", png(64, 64, idat=b"\x00\x00" + zlib.compress(b"x" * 99)),
        "4xx", "zlib header checksum wrong")
    add("png_empty_first_idat.png",
        SIG + ihdr(6, 5) + chunk(b"IDAT", b"") + chunk(b"IDAT", zlib.compress(raw_rows(6, 5, 3)))
        + chunk(b"IEND", b""), "any",
        "a valid PNG whose first IDAT chunk is empty: stb_image 2.27 computes NULL + 0 "
        "(UBSan pointer-overflow), which aborts a -fno-sanitize-recover build")
    add("png_empty_idat_cut_crc.png",
        SIG + ihdr(6, 5) + struct.pack(">I", 0) + b"IDAT" + b"\x42\x82", "4xx",
        "an empty first IDAT whose CRC is cut short (found by fuzz_image): stb_image 2.27 still "
        "computes NULL + 0 (UBSan) before it notices the truncation")
    add("png_no_idat.png", SIG + ihdr(64, 64) + chunk(b"IEND", b""), "4xx", "no IDAT chunk")
    add("png_bad_chunk_length.png",
        SIG + ihdr(64, 64) + struct.pack(">I", 0xFFFFFFF0) + b"IDAT" + b"\x00" * 32, "4xx",
        "a chunk declares 4 GiB of data")
    add("png_bad_color_type.png", png(8, 8, ctype=5), "4xx", "IHDR color type 5 (invalid)")
    add("png_bad_depth.png", png(8, 8, depth=7), "4xx", "IHDR bit depth 7 (invalid)")
    add("png_bad_filter.png", png(16, 16, raw=raw_rows(16, 16, 3, filt=9)), "4xx",
        "scanline filter type 9 (valid: 0-4)")
    add("png_palette_no_plte.png", png(8, 8, ctype=3, channels=1), "4xx",
        "palette image without a PLTE chunk")
    add("png_interlace_bad.png", SIG + chunk(b"IHDR", struct.pack(">IIBBBBB", 8, 8, 8, 2, 0, 0, 7))
        + chunk(b"IDAT", zlib.compress(raw_rows(8, 8, 3))) + chunk(b"IEND", b""), "4xx",
        "interlace method 7 (invalid)")
    add("png_garbage_after_header.png",
        SIG + ihdr(64, 64) + bytes((i * 131 + 7) & 0xFF for i in range(1024)), "4xx",
        "a valid IHDR followed by 1 KiB of garbage")
    add("jpg_garbage_after_soi.jpg", b"\xFF\xD8" + bytes((i * 97 + 3) & 0xFF for i in range(1024)),
        "4xx", "SOI followed by 1 KiB of garbage")
    add("jpg_bad_dqt.jpg", b"\xFF\xD8" + seg(0xDB, bytes([0x05]) + bytes(64)) + good_jpg[2:],
        "4xx", "DQT for table 5 (valid: 0-3)")
    add("jpg_bad_component_count.jpg",
        jpeg(8, 8, sofseg=sof(8, 8, comps=[(i + 1, 0x11, 0) for i in range(5)])), "4xx",
        "SOF with 5 components")
    add("jpg_bad_sampling.jpg", jpeg(8, 8, sofseg=sof(8, 8, comps=[(1, 0x55, 0), (2, 0x11, 0),
                                                                   (3, 0x11, 0)])), "4xx",
        "sampling factor 5x5 (valid: 1-4)")
    add("jpg_bad_huffman.jpg", jpeg(8, 8, tables=dht(0, 0, [3] + [0] * 15, [0, 1, 2]) +
                                    dht(1, 0, [1] + [0] * 15, [0])), "4xx",
        "a DC table with three 1-bit codes (over-subscribed)")
    prog_bad = (b"\xFF\xD8" + dqt() + sof(16, 16, 3, marker=0xC2) +
                dht(0, 0, [3] + [0] * 15, [0, 1, 2]) + sos(3, 0, 0, 0) +
                b"\x55" * 32 + b"\xFF\xD9")
    add("jpg_progressive_bad_tables.jpg", prog_bad, "4xx",
        "progressive JPEG (SOF2) whose DC table has three 1-bit codes (over-subscribed)")
    prog_noht = (b"\xFF\xD8" + dqt() + sof(16, 16, 3, marker=0xC2) + sos(3, 1, 63, 0) +
                 b"\x55" * 32 + b"\xFF\xD9")
    add("jpg_progressive_ac_first_multi.jpg", prog_noht, "4xx",
        "progressive AC scan over 3 components (must be one) with no Huffman tables")
    add("jpg_dht_counts_overflow.jpg",
        b"\xFF\xD8" + dqt() + sof(8, 8, 1) + seg(0xC4, bytes([0x13]) + bytes([255] * 16)) +
        b"\xFF\xD9", "4xx",
        "a DHT whose 16 code counts sum to 4080 (> 256 symbols): stb_image 2.27 writes past "
        "its 257-entry size table (UBSan: index out of bounds) unless the counts are checked")
    add("jpg_undefined_huffman_table.jpg", jpeg(8, 8, tables=b""), "4xx",
        "a baseline JPEG whose scan uses Huffman tables that no DHT defined: stb_image 2.27 "
        "decodes with uninitialised tables (valgrind: uninitialised jumps; UBSan: index out of "
        "bounds in stbi__jpeg_huff_decode, found by fuzz_image)")
    # The file fuzz_conv found after 14 M executions (decoded from its base64), byte for byte.
    add("jpg_sos_cut_off.jpg", bytes.fromhex(
        "ffd8ffdb0043000101010101010101010101010101010101010101010101010101010101010101010101"
        "0104000100440401010101010101010101010101010101010101010101ffc00011080008000803011100"
        "021100033100ffc40014000100000000000000000000000000000000ffc4001410010000000000000000"
        "0000000000000000ffda000c030100020103"), "4xx",
        "a scan header (SOS) cut off by the end of the file, whose second component names an AC "
        "table no DHT defined: stb_image 2.27 reads the missing bytes as zeros, decodes with the "
        "undefined table and indexes 1e9 bytes past its 257-entry size table (UBSan; a crash "
        "without sanitizers), found by fuzz_conv after 14 M executions")
    add("jpg_arithmetic.jpg", jpeg(8, 8, sofseg=sof(8, 8, 3, marker=0xC9)), "4xx",
        "SOF9 (arithmetic coding, unsupported)")

    # Decompression bombs.
    add("png_bomb_4096_rgba.png",
        png(4096, 4096, ctype=6, channels=4, idat=zeros_zlib(4096 * (4096 * 4 + 1))), "4xx",
        "4096x4096 RGBA inside the side limit, IDAT of 64 MiB from 65 KiB: as RGB floats "
        "that is 50 M elements, over the 16 M tensor limit (not sent with grayscale: 4096x4096x1 "
        "is exactly the limit, a legitimate if expensive request)", gray=False)
    add("png_bomb_idat_256m.png", png(16, 16, idat=zeros_zlib(256 << 20)), "4xx",
        "16x16 RGB whose IDAT inflates to 256 MiB (stb_image inflates the whole stream, "
        "growing its buffer, unless the decoder's allocations are capped)", max_ms=1000)
    add("png_idat_length_2g.png",
        SIG + ihdr(16, 16) + chunk(b"IDAT", zlib.compress(raw_rows(16, 16, 3))[:20]) +
        struct.pack(">I", 0x7FFFFF00) + b"IDAT" + b"\x00" * 16, "4xx",
        "a second IDAT declaring 2 GiB - 256 of data, 16 bytes present: stb_image reallocates its "
        "IDAT buffer to the declared size (2 GiB) before reading it (found by fuzz_image)")
    add("jpg_bomb_4096.jpg", jpeg(4096, 4096, scan=b"\x00" * 64), "4xx",
        "4096x4096 3-component JPEG with 64 bytes of scan data: 50 M float elements (not sent "
        "with grayscale: 4096x4096x1 is exactly the tensor limit)", gray=False)

    # Decoding work: bounded from the walk of the file, before stb decodes (413 over the work
    # budget, 415 over the scan cap).
    empty = lambda i, nbits: b"\x00"  # noqa: E731  (stb reads the missing data as zeros)
    add("jpg_progressive_400_scans.jpg", jpeg_scans(2048, 2048, 3, refinement_scans(3, 400),
                                                    data=empty), "4xx",
        "2048x2048 progressive JPEG of 4.6 KB: a DC scan and 400 empty AC refinement scans, each "
        "a full pass over a component in stb_image (~6 ms each: 2.5 s in all) -> 415, more than "
        "64 scans", status=415)
    add("jpg_progressive_40_scans_grey.jpg", jpeg_scans(4096, 4096, 1, refinement_scans(1, 40),
                                                        data=empty), "4xx",
        "4096x4096 grey progressive JPEG: 41 scans (under the scan cap) whose passes over the "
        "frame (~25 ms each) need more than the work budget -> 413 (as RGB it is over the "
        "tensor limit, also 413)", status=413)
    add("jpg_baseline_48_scans.jpg", jpeg_scans(2304, 2304, 3, [((1, 2, 3), 0, 63, 0, 0)] * 48,
                                                marker=0xC0, data=empty), "4xx",
        "2304x2304 baseline JPEG repeating its one scan 48 times: stb decodes and inverse-"
        "transforms every block again for each scan (~27 ms each) -> 413", status=413)
    add("jpg_scans_65.jpg", jpeg_scans(16, 16, 1, refinement_scans(1, 64)), "4xx",
        "a 16x16 progressive JPEG with 65 scans: over the cap of 64 whatever the frame size",
        status=415)
    add("jpg_progressive_libjpeg_script.jpg", jpeg_scans(64, 64, 3, LIBJPEG_SCRIPT), "200",
        "a 64x64 progressive JPEG with libjpeg's 10-scan script (control)")
    add("png_fixed_block_bomb.png", png(16, 16, idat=zlib_empty_blocks(800000, raw_rows(16, 16, 3),
                                                                      dynamic=False)), "4xx",
        "16x16 PNG whose 1 MB IDAT is 800000 empty deflate blocks with the fixed codes: stb "
        "rebuilds its Huffman tables for each (1.5 us: 1.2 s in all; a 12 MiB body of them, 15 s) "
        "-> 413 (1 s allowed: a 1.3 MB body under ASan)", status=413, max_ms=1000)
    add("png_dynamic_blocks_2000.png", png(16, 16, idat=zlib_empty_blocks(2000, raw_rows(16, 16, 3),
                                                                         dynamic=True)), "200",
        "16x16 PNG whose IDAT starts with 2000 empty deflate blocks with dynamic codes (0.9 us "
        "each in stb): counted, well within the work budget (control)")
    add("png_interlaced_control.png",
        SIG + ihdr(64, 64, interlace=1) + chunk(b"IDAT", zlib.compress(adam7_raw(64, 64, b"\x10\x80\xf0")))
        + chunk(b"IEND", b""), "200", "a 64x64 Adam7-interlaced RGB PNG (control: its inflated size is computed per pass)")

    # Sizes over stb_image's own cap (16384): 413 with the size, like any image over the limit.
    add("png_16385x1.png", png(16385, 1), "4xx",
        "a valid 16385x1 PNG: wider than stb_image's hard cap -> 413 with its size (not 415)",
        status=413)
    add("jpg_16385x8.jpg", jpeg(16385, 8), "4xx",
        "a 16385x8 baseline JPEG: wider than stb_image's hard cap -> 413 with its size",
        status=413)

    # Determinism: what stb_image 2.27 leaves unset must not reach the answer.
    add("png_palette_short_plte.png", palette_png(16, 16, [(200, 100, 50)], list(range(256))),
        "any", "16x16 palette PNG whose PLTE has one entry while its pixels use indices 0-255: stb "
        "read the other 255 colours from an uninitialised stack array (they differed between "
        "runs); they are black now, as in libpng")
    add("png_palette_control.png", palette_png(16, 16, [(i * 16, 255 - i * 16, 7) for i in range(16)],
                                               [i % 16 for i in range(256)]), "200",
        "16x16 palette PNG, 16 PLTE entries, every index within them (control)")
    add("png_trns_longer_than_plte.png",
        palette_png(4, 4, [(1, 2, 3), (4, 5, 6)], [0, 1] * 8, trns=[255, 128, 0]), "4xx",
        "palette PNG with a 3-entry tRNS for a 2-entry PLTE (stb refuses it; still refused now "
        "that the PLTE it reads is padded)", status=415)
    add("png_two_plte.png", palette_png(4, 4, [(1, 2, 3), (4, 5, 6)], [0, 1] * 8, plte_chunks=2),
        "4xx", "palette PNG with two PLTE chunks (the PNG standard allows one)", status=415)
    short = palette_png(16, 16, [(200, 100, 50)], list(range(256)))
    add("png_plte_after_iend.png", short + chunk(b"PLTE", bytes([9, 9, 9]))
        + chunk(b"IDAT", b"\x00" * 283), "any",
        "the short-PLTE PNG followed, after its IEND, by a second one-entry PLTE and an IDAT "
        "(found by fuzz_image): the repaired copy padded both PLTEs into room for one (a heap "
        "overflow under ASan); only the first is padded now, and stb stops at IEND")
    # Each block's DC difference -32767 (a 1-bit code "0" for category 15, then 15 zero bits):
    # the prediction grows by that every block until stb 2.27's int product with 2^Al (13) or
    # the quantiser (255) overflows (found by fuzz_image; stb's file is built with -fwrapv).
    dc15 = dht(0, 0, [1] + [0] * 15, [15]) + dht(1, 0, [1] + [0] * 15, [0])
    add("jpg_dc_overflow_progressive.jpg",
        jpeg_scans(64, 64, 1, [((1,), 0, 0, 0, 13)], tables=dc15, data=lambda i, n: bytes(2 * n)),
        "any", "64x64 grey progressive JPEG, one DC scan with Al = 13, every block's DC difference "
               "-32767: stb's dc * 2^13 passed INT_MIN at the 9th block (undefined behaviour, "
               "UBSan's signed-integer-overflow; found by fuzz_image)")
    base = jpeg(136, 128, 1, scan=bytes(272 * 2 + 2 * 17 * 16), tables=dc15)
    base = base.replace(dqt(), seg(0xDB, bytes([0]) + bytes([255]) * 64), 1)
    add("jpg_dc_overflow_baseline.jpg", base, "any",
        "136x128 grey baseline JPEG, quantiser 255, every block's DC difference -32767 and its AC "
        "end-of-block: stb's dc * 255 passes INT_MIN at block 258")
    add("jpg_progressive_no_dc.jpg", jpeg_scans(64, 64, 1, [((1,), 1, 63, 0, 0)]), "any",
        "64x64 progressive JPEG with one AC scan and no DC scan: stb never set the coefficients "
        "(their DC terms were stale heap bytes; the output changed from call to call)")
    add("jpg_baseline_one_component_scanned.jpg",
        jpeg_scans(64, 64, 3, [((1,), 0, 63, 0, 0)], marker=0xC0), "any",
        "64x64 3-component baseline JPEG whose only scan covers component 1: stb never wrote the "
        "planes of components 2 and 3")
    add("jpg_restart_ends_scan.jpg",
        jpeg_scans(64, 64, 1, [((1,), 0, 63, 0, 0)], marker=0xC0, dri=1,
                   data=lambda i, nbits: b"\x3f"), "any",
        "64x64 baseline JPEG with a restart interval of 1 whose scan ends after one block (EOI, "
        "not RST0): stb stops the scan there and never wrote the other 63 blocks")

    # Not PNG or JPEG at all (only PNG and JPEG are compiled in).
    add("gif_tiny.gif", b"GIF89a\x01\x00\x01\x00\x80\x00\x00\x00\x00\x00\xff\xff\xff!\xf9\x04"
        b"\x01\x00\x00\x00\x00,\x00\x00\x00\x00\x01\x00\x01\x00\x00\x02\x02D\x01\x00;", "4xx",
        "a valid GIF (unsupported format)")
    add("bmp_tiny.bmp", b"BM" + struct.pack("<IHHI", 58, 0, 0, 54) +
        struct.pack("<IiiHHIIiiII", 40, 1, 1, 1, 24, 0, 4, 2835, 2835, 0, 0) + b"\x00\x00\xff\x00",
        "4xx", "a valid BMP (unsupported format)")
    add("text.png", b"this is not an image\n", "4xx", "text with a .png name")
    add("empty.png", b"", "4xx", "an empty file")

    with open(os.path.join(OUT, "manifest.json"), "w") as f:
        json.dump(MANIFEST, f, indent=1)
        f.write("\n")
    print("wrote %d files to %s" % (len(MANIFEST), OUT))


if __name__ == "__main__":
    main()
