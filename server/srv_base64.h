/* srv_base64.h — strict standard base64 (RFC 4648 section 4, alphabet A-Z a-z 0-9 + /).
 *
 * Rules: an optional "data:<type>;base64," prefix is skipped; ASCII whitespace (space, tab, CR,
 * LF) anywhere is ignored, so line-wrapped output of `base64` works; "=" padding is optional but
 * when present must be correct and only at the end; a final group of 1 character, characters
 * outside the alphabet (including base64url's - and _) and non-zero unused bits in the last
 * group are errors. */
#ifndef SRV_BASE64_H
#define SRV_BASE64_H

#include <stddef.h>

/* Decode s[0..n). Returns a malloc'd buffer and its length, or NULL with a static reason in
 * *why ("invalid character at position 12", ...) and *pos set to the offending offset. An
 * empty input decodes to NULL with "empty". */
unsigned char *srv_base64_decode(const char *s, size_t n, size_t *out_len, const char **why,
                                 size_t *pos);

/* Encode into a malloc'd NUL-terminated string (with padding); NULL on allocation failure. */
char *srv_base64_encode(const unsigned char *p, size_t n, size_t *out_len);

/* The length of the padded base64 text of n bytes. */
size_t srv_base64_encoded_len(size_t n);
/* Encode the concatenation of a[0..na) and b[0..nb) (b may be NULL when nb is 0) into dst, which
 * holds srv_base64_encoded_len(na + nb) characters (no NUL is written); returns that length.
 * For a .npy file: its header and its data, without copying them together first. */
size_t srv_base64_encode_into(char *dst, const unsigned char *a, size_t na, const unsigned char *b,
                              size_t nb);

#endif
