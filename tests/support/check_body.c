/* check_body.c — see check_body.h. */
#include "check_body.h"

#include <stdio.h>
#include <stdlib.h>

char *tcb_channels_check(void) {
    size_t nx = 64 * 64 * 3, na = 62 * 62 * 16 * 3;
    char *b = malloc(2 * (nx + na) + 512), *p = b;
    if (!b) return NULL;
    p += sprintf(p, "{\"input\": {\"shape\": [64, 64, 3], \"data\": [");
    for (size_t i = 0; i < nx; i++) p += sprintf(p, i ? ",%d" : "%d", (int)(i % 3));
    p += sprintf(p, "]}, \"filters\": {\"count\": 16, \"size\": 3, \"seed\": 1}, "
                    "\"answer\": {\"shape\": [62, 62, 16, 3], \"data\": [");
    for (size_t i = 0; i < na; i++) p += sprintf(p, i ? ",0" : "0");
    sprintf(p, "]}}");
    return b;
}
