/* fuzz_image_msan.c — the image decoding path under MemorySanitizer (clang -fsanitize=memory):
 * srv_pixels_decode, i.e. stb_image 2.27 compiled into srv_pixels.c and the walks before it.
 * MSan must see every instruction that touches the memory, so this harness links only objects
 * built with MSan (mk/fuzz.mk: an archive of core/ and server/srv_*, from which the linker takes
 * srv_pixels, the PNG/JPEG/zlib walks and what they call) and libc, which MSan intercepts; no
 * library is linked, so nothing of cJSON or libmicrohttpd (uninstrumented) can run in it.
 * Input as fuzz_image.c (byte 0: bit 0 grayscale; bytes 1-2: resize, unused here; then the
 * file), so the two share the seeds (tests/fuzz/corpus/image) and the dictionary.
 * Checks: every byte of a decoded image is initialised (__msan_check_mem_is_initialized reports
 * the first one that is not, with where it came from); a failure is 413 or 415 with a message. */
#include <sanitizer/msan_interface.h>
#include <stddef.h>
#include <stdint.h>

#include "fuzz_common.h"
#include "srv_pixels.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 3) return 0;
    srv_limits lim;
    fuzz_limits(&lim);
    lim.max_work_flops = 1e8; /* decoding only: a 64x64 image counts ~1e6-1e7, a bomb more */
    size_t channels = data[0] & 1 ? 1 : 3;
    srv_pixels px;
    srv_err e = {0};
    if (srv_pixels_decode(data + 3, size - 3, channels, &lim, "image", &px, &e) != 0) {
        if ((e.status != 413 && e.status != 415) || !e.message[0])
            fuzz_die("decode failure with a status other than 413/415, or no message", e.message, 0);
        return 0;
    }
    if (!px.rgb || !px.width || !px.height || px.width > lim.max_image_side ||
        px.height > lim.max_image_side)
        fuzz_die("decoded image has a wrong size", "", 0);
    __msan_check_mem_is_initialized(px.rgb, px.width * px.height * 3);
    srv_pixels_free(&px);
    return 0;
}
