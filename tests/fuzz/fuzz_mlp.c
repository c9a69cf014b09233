/* fuzz_mlp.c — libFuzzer harness for POST /mlp's parser, validator and handler
 * (srv_handle_json with small limits); every response must pass fuzz_common.h's checks. */
#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    fuzz_endpoint("mlp", data, size, NULL);
    return 0;
}
