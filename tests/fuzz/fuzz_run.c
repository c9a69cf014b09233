/* fuzz_run.c — libFuzzer harness for POST /run/{rnn,lstm,gru}: the first byte picks the model,
 * the rest is the body, through srv_handle_json with small limits; every response must pass
 * fuzz_common.h's checks. */
#include "fuzz_common.h"

static const char *const ENDPOINTS[] = {"run/rnn", "run/lstm", "run/gru"};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size >= 1) fuzz_endpoint(ENDPOINTS[data[0] % 3], data + 1, size - 1, NULL);
    return 0;
}
