/* srv_stb_image.h — Debian's stb_image as the daemon builds it: PNG and JPEG only, no stdio, no
 * HDR, a hard cap on the sides (STBI_MAX_DIMENSIONS), every allocation zero-filled and capped per
 * thread (srv_stb_set_cap). Include this, never <stb_image.h> itself: the declarations below are
 * those of srv_stb_image.c, the one translation unit that holds stb's implementation. */
#ifndef SRV_STB_IMAGE_H
#define SRV_STB_IMAGE_H

#include <stddef.h>

#define STBI_ONLY_PNG
#define STBI_ONLY_JPEG
#define STBI_NO_STDIO
#define STBI_NO_LINEAR
#define STBI_NO_HDR
#define STBI_MAX_DIMENSIONS (1 << 14) /* hard cap; the configurable limit is checked first */
#include "srv_stb_begin.h"
#include <stb_image.h>
#include "srv_stb_end.h"

/* The cap before a file's size is known (stb's header reads): 16 MiB. */
#define SRV_STB_CAP_HEADER ((size_t)16 << 20)

/* Cap each allocation stb makes on this thread at `bytes` (larger ones fail: stb reports
 * "outofmem"). Set it from the image's declared size before decoding, so that a decompression
 * bomb (a tiny IDAT that inflates to gigabytes) fails fast instead of allocating. */
void srv_stb_set_cap(size_t bytes);

#endif
