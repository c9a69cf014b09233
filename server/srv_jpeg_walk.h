/* srv_jpeg_walk.h — walk a JPEG's marker segments the way stb_image 2.27 reads them, before stb
 * decodes it: the frame size, what decoding will cost, and the defects that derail stb.
 *
 * Cost: stb decodes every scan (SOS) over every 8x8 block of the components it covers, also in
 * a baseline file (each scan decodes and inverse-transforms its blocks again), and a scan whose
 * entropy-coded data is missing costs the same as a full one (stb reads zeros). A progressive
 * refinement scan of a few bytes over a 4096x4096 frame takes ~25 ms (measured), so a few KB of
 * scans take seconds and a 16 MiB body hours. The walk counts the scans and the blocks they
 * cover, and the Huffman tables defined (stb rebuilds its look-up tables for each: ~0.8 us for
 * an 18-byte table). */
#ifndef SRV_JPEG_WALK_H
#define SRV_JPEG_WALK_H

#include <stddef.h>

typedef struct srv_jpeg_info {
    int sized;              /* a frame header (SOF0/1/2, the first: stb's) gave the size */
    unsigned long width, height;
    int progressive;
    size_t scans;           /* scans stb decodes: after the frame header, up to EOI */
    double scan_blocks;     /* 8x8 blocks those scans cover, summed */
    double frame_blocks;    /* 8x8 blocks of all components (a progressive frame's last pass) */
    size_t huffman_tables;  /* Huffman tables defined */
} srv_jpeg_info;

/* Walk every marker segment (also those between progressive scans). 0, or -1 with *why (a
 * static string) for what derails stb (see srv_jpeg_walk.c). Counting stops where stb stops:
 * at EOI, or at a frame or scan header stb would refuse. */
int srv_jpeg_walk(const unsigned char *b, size_t n, srv_jpeg_info *info, const char **why);

#endif
