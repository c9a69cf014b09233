/* fuzz_conv.c — libFuzzer harness for POST /conv's parser, validator and handler
 * (srv_handle_json with small limits); every response must pass fuzz_common.h's checks. */
#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    srv_limits lim;
    fuzz_limits(&lim);
    srv_response r = {0};
    srv_handle_json(&lim, "conv", "application/json", (const char *)data, size, NULL, &r);
    fuzz_check_response(&r);
    srv_response_free(&r);
    return 0;
}
