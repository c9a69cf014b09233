/* fuzz_npy.c — libFuzzer harness for the .npy reader (srv_npy.h) and the {"npy"} tensor path.
 * The input is the bytes of a would-be .npy file. Properties checked:
 *   - srv_npy_parse answers 0, 400 or 415, with a reason when it refuses;
 *   - a file it reads has its data exactly inside the input (n * itemsize bytes to the end), the
 *     conversions run over it, and the header srv_npy_header writes for the same dtype and shape
 *     (float32/float64) reads back to that dtype and shape;
 *   - sent as {"input": {"npy": base64}} to /pool (max, size 1: the identity) with
 *     "output_format": "npy", every response passes fuzz_common.h's checks, and a 200's output
 *     .npy holds exactly the input's values as float32. */
#include <math.h>

#include "fuzz_common.h"
#include "srv_base64.h"
#include "srv_npy.h"

static void check_parse(const uint8_t *data, size_t size) {
    srv_npy a;
    char why[256] = "";
    int st = srv_npy_parse(data, size, &a, why, sizeof why);
    if (st != 0 && st != 400 && st != 415) fuzz_die("status other than 0, 400, 415", why, strlen(why));
    if (st) {
        if (!why[0]) fuzz_die("refused without a reason", NULL, 0);
        return;
    }
    size_t item = srv_npy_itemsize(a.dtype);
    if (a.data < data || a.data + a.n * item != data + size) fuzz_die("data outside the input", NULL, 0);
    float *f = malloc((a.n ? a.n : 1) * sizeof *f);
    double *d = malloc((a.n ? a.n : 1) * sizeof *d);
    if (!f || !d) abort();
    if (srv_npy_to_f32(&a, f) > a.n || srv_npy_to_f64(&a, d) > a.n) fuzz_die("conversion index past n", NULL, 0);
    free(f);
    free(d);
    if (a.dtype == SRV_NPY_U8) return;
    unsigned char *w = malloc(SRV_NPY_HEADER_CAP + a.n * item + 1);
    if (!w) abort();
    size_t hl = srv_npy_header(w, a.dtype, a.shape, a.ndim);
    memcpy(w + hl, a.data, a.n * item);
    srv_npy b;
    if (srv_npy_parse(w, hl + a.n * item, &b, why, sizeof why) != 0) fuzz_die("written header does not read back", why, strlen(why));
    if (b.dtype != a.dtype || b.ndim != a.ndim || memcmp(b.shape, a.shape, a.ndim * sizeof a.shape[0]) != 0)
        fuzz_die("written header reads back differently", (const char *)w, hl);
    free(w);
}

/* A 200's output.npy holds the input's values (the identity pool) as float32. */
static void check_identity(const uint8_t *data, size_t size, const srv_response *r) {
    cJSON *j = cJSON_ParseWithLength(r->body, r->len);
    const cJSON *o = cJSON_GetObjectItemCaseSensitive(j, "output");
    const cJSON *s = cJSON_GetObjectItemCaseSensitive(o, "npy");
    if (!cJSON_IsString(s)) fuzz_die("200 without output.npy", r->body, r->len);
    size_t len, pos;
    const char *why;
    unsigned char *out = srv_base64_decode(s->valuestring, strlen(s->valuestring), &len, &why, &pos);
    srv_npy a, b;
    char reason[256];
    if (!out || srv_npy_parse(out, len, &b, reason, sizeof reason) != 0 || b.dtype != SRV_NPY_F32)
        fuzz_die("output.npy is not a float32 .npy", r->body, r->len);
    if (srv_npy_parse(data, size, &a, reason, sizeof reason) != 0) fuzz_die("the server read what the parser refuses", NULL, 0);
    if (a.n != b.n) fuzz_die("identity pool changed the element count", r->body, r->len);
    float *want = malloc((a.n ? a.n : 1) * sizeof *want);
    if (!want) abort();
    srv_npy_to_f32(&a, want);
    if (memcmp(want, b.data, a.n * sizeof *want) != 0) fuzz_die("output bits differ from the input's", r->body, r->len);
    free(want);
    free(out);
    cJSON_Delete(j);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    check_parse(data, size);
    char *b64 = srv_base64_encode(data, size, NULL);
    if (!b64) abort();
    size_t n = strlen(b64) + 128;
    char *body = malloc(n);
    if (!body) abort();
    int len = snprintf(body, n, "{\"input\":{\"npy\":\"%s\"},\"function\":\"max\",\"size\":1,\"output_format\":\"npy\"}", b64);
    srv_limits lim;
    fuzz_limits(&lim);
    srv_response r = {0};
    srv_handle_json(&lim, "pool", "application/json", body, (size_t)len, NULL, &r);
    fuzz_check_response(&r);
    if (r.status == 200) check_identity(data, size, &r);
    srv_response_free(&r);
    free(body);
    free(b64);
    return 0;
}
