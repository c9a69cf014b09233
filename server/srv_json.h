/* srv_json.h — strict JSON input on top of cJSON.
 *
 * cJSON alone is lenient in ways an API must not be: it stops at the end of the first value
 * (so `{"a":1} garbage` parses), keeps duplicate keys (and GetObjectItem returns the first),
 * reads numbers with strtod (so 01 and 1. parse), and its valueint saturates/truncates
 * (1.5 -> 1, 1e300 -> INT_MAX). These helpers reject all of
 * that and name the field at fault with a path: "stride", "architecture[2].size", "kernels".
 * Every getter returns 0 on success or -1 with the error recorded in *e. */
#ifndef SRV_JSON_H
#define SRV_JSON_H

#include <cJSON.h>
#include <stddef.h>

#include "srv_err.h"

/* The request's Content-Type: accepted are a missing header, application/json,
 * application/<anything>+json and application/x-www-form-urlencoded (what `curl -d` sends by
 * default), with an optional charset that must be utf-8 (or us-ascii). Anything else: 415. */
int srv_check_content_type(const char *content_type, srv_err *e);

/* Parse the whole body as one JSON value: nothing but whitespace may follow it, no duplicate
 * keys anywhere, strings without raw control characters or \u0000, numbers exactly as RFC 8259
 * writes them (not 01, 1., -.5 or 1.e5, which cJSON would take), and the top level must be an
 * object. NULL with 400 otherwise: field "body", or the path of the value at fault (a duplicate
 * key, a malformed number: "input[0][2]", "architecture[1].size"). */
cJSON *srv_json_parse(const char *body, size_t len, srv_err *e);

/* The RFC 8259 rules cJSON does not enforce, on a body cJSON has parsed: strings without raw
 * control characters or \u0000 (400 "body"), numbers in the JSON grammar (400 naming the field
 * that holds the first malformed one). One pass, ~7 ns per byte. 0 or -1. */
int srv_json_check_strict(const char *body, size_t len, srv_err *e);

/* First duplicate key in any object of the tree: 0 if none, else -1 with 400 and the key's path. */
int srv_json_check_duplicates(const cJSON *j, const char *path, srv_err *e);

/* Join paths: "base.key" (or "key" when base is empty), "base[i]". */
void srv_path_key(char *out, size_t n, const char *base, const char *key);
void srv_path_index(char *out, size_t n, const char *base, size_t i);

/* Reject keys of obj that are not in the NULL-terminated list `allowed` (400, field = the key). */
int srv_json_only_keys(const cJSON *obj, const char *base, const char *const *allowed, srv_err *e);
/* The same with a second NULL-terminated list (may be NULL) also allowed: the keys an endpoint
 * that wraps another adds to it (/check/conv = /conv's keys + "answer", "tolerance"). */
int srv_json_only_keys_plus(const cJSON *obj, const char *base, const char *const *allowed,
                            const char *const *extra, srv_err *e);

/* Type checks on a present value v at `path`. */
int srv_json_int(const cJSON *v, const char *path, long long lo, long long hi, long long *out,
                 srv_err *e);
int srv_json_num(const cJSON *v, const char *path, double *out, srv_err *e); /* finite */
int srv_json_bool(const cJSON *v, const char *path, int *out, srv_err *e);
int srv_json_string(const cJSON *v, const char *path, const char **out, srv_err *e);

/* Optional members of obj (missing or JSON null -> default). base is obj's own path. */
int srv_json_int_opt(const cJSON *obj, const char *key, const char *base, long long lo,
                     long long hi, long long def, long long *out, srv_err *e);
int srv_json_num_opt(const cJSON *obj, const char *key, const char *base, double def,
                     double *out, srv_err *e);
int srv_json_bool_opt(const cJSON *obj, const char *key, const char *base, int def, int *out,
                      srv_err *e);
int srv_json_string_opt(const cJSON *obj, const char *key, const char *base, const char *def,
                        const char **out, srv_err *e);
/* An int or a pair [a, b] (e.g. stride, padding, size): out[0], out[1]. */
int srv_json_pair_opt(const cJSON *obj, const char *key, const char *base, long long lo,
                      long long hi, long long def, long long out[2], srv_err *e);
/* A seed: an integer in [0, 2^53) (larger integers cannot be exact in JSON numbers). */
int srv_json_seed_opt(const cJSON *obj, const char *key, const char *base, unsigned long long def,
                      unsigned long long *out, srv_err *e);

/* The member or NULL (JSON null counts as absent). */
const cJSON *srv_json_get(const cJSON *obj, const char *key);

#endif
