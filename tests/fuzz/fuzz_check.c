/* fuzz_check.c — libFuzzer harness for POST /check/{conv,pool,mlp}: the first byte picks the
 * endpoint (mod 3), the rest is the body; srv_handle_json with small limits. Every response must
 * pass fuzz_common.h's checks, and a 200 must be consistent with itself: "pass" is true exactly
 * when the error fields are numbers and "mismatches" is 0 (then the diagnosis and the mismatch
 * map are empty); mismatches <= elements; "worst" is null exactly when the shapes differed;
 * every diagnosis has a code and a message. */
#include "fuzz_common.h"

static void check_verdict(const srv_response *r) {
    cJSON *j = cJSON_ParseWithLength(r->body, r->len);
    const cJSON *pass = cJSON_GetObjectItemCaseSensitive(j, "pass");
    const cJSON *bad = cJSON_GetObjectItemCaseSensitive(j, "mismatches");
    const cJSON *n = cJSON_GetObjectItemCaseSensitive(j, "elements");
    const cJSON *worst = cJSON_GetObjectItemCaseSensitive(j, "worst");
    const cJSON *diag = cJSON_GetObjectItemCaseSensitive(j, "diagnosis");
    const cJSON *map = cJSON_GetObjectItemCaseSensitive(j, "mismatch_map");
    if (!cJSON_IsBool(pass) || !cJSON_IsArray(diag) || !cJSON_IsNumber(n) || !map)
        fuzz_die("a check's answer lacks pass / diagnosis / elements / mismatch_map", r->body, r->len);
    int shaped = cJSON_IsNumber(bad);
    if (shaped != cJSON_IsObject(worst)) fuzz_die("worst and mismatches disagree on the shapes", r->body, r->len);
    if (shaped && bad->valuedouble > n->valuedouble) fuzz_die("more mismatches than elements", r->body, r->len);
    int ok = shaped && bad->valuedouble == 0;
    if (cJSON_IsTrue(pass) != ok) fuzz_die("pass disagrees with mismatches", r->body, r->len);
    if (ok && (cJSON_GetArraySize(diag) || !cJSON_IsNull(map))) fuzz_die("a pass with a diagnosis or a map", r->body, r->len);
    const cJSON *d;
    cJSON_ArrayForEach(d, diag) {
        if (!cJSON_IsString(cJSON_GetObjectItemCaseSensitive(d, "code")) ||
            !cJSON_IsString(cJSON_GetObjectItemCaseSensitive(d, "message")))
            fuzz_die("a diagnosis without code or message", r->body, r->len);
    }
    cJSON_Delete(j);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    static const char *const eps[] = {"check/conv", "check/pool", "check/mlp"};
    if (size >= 1) fuzz_endpoint(eps[data[0] % 3], data + 1, size - 1, check_verdict);
    return 0;
}
