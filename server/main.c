/* main.c — nnlabd entry point (placeholder until the HTTP layer lands; see issue 4). */
#include <stdio.h>

int main(void) {
    fprintf(stderr, "nnlabd: not built yet\n");
    return 1;
}
