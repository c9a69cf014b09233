/* fuzz_base64.c — libFuzzer harness for the strict base64 decoder (srv_base64.h).
 * Properties checked: a decode either fails with a reason and an in-range position, or returns
 * a buffer of length at most 3/4 of the input; re-encoding the decoded bytes and decoding again
 * gives the same bytes (so the decoder and encoder agree); encoding arbitrary bytes then
 * decoding is the identity. */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "srv_base64.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void die(const char *what) {
    fprintf(stderr, "fuzz check failed: %s\n", what);
    abort();
}

static void roundtrip(const unsigned char *p, size_t n) {
    size_t elen = 0;
    char *enc = srv_base64_encode(p, n, &elen);
    if (!enc) die("encode returned NULL");
    if (elen != (n + 2) / 3 * 4 || strlen(enc) != elen) die("encoded length wrong");
    size_t dlen = 0, pos = 0;
    const char *why = NULL;
    unsigned char *dec = srv_base64_decode(enc, elen, &dlen, &why, &pos);
    if (n == 0) {
        if (dec) die("empty input must not decode");
    } else {
        if (!dec) die("decode(encode(x)) failed");
        if (dlen != n || memcmp(dec, p, n) != 0) die("decode(encode(x)) != x");
    }
    free(dec);
    free(enc);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    size_t len = 0, pos = (size_t)-1;
    const char *why = NULL;
    unsigned char *out = srv_base64_decode((const char *)data, size, &len, &why, &pos);
    if (out) {
        if (len > size / 4 * 3 + 3) die("decoded more bytes than the input can hold");
        roundtrip(out, len);
        free(out);
    } else {
        if (!why || !*why) die("failure without a reason");
        if (pos > size) die("failure position beyond the input");
    }
    roundtrip(data, size);
    return 0;
}
