/* loopback.c — see loopback.h. */
#include "loopback.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

int lb_tcp_pair(int *client, int *server) {
    int l = socket(AF_INET, SOCK_STREAM, 0);
    if (l < 0) return -1;
    struct sockaddr_in a;
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t al = sizeof a;
    int ok = bind(l, (struct sockaddr *)&a, sizeof a) == 0 && listen(l, 1) == 0 &&
             getsockname(l, (struct sockaddr *)&a, &al) == 0;
    *client = ok ? socket(AF_INET, SOCK_STREAM, 0) : -1;
    ok = ok && *client >= 0 && connect(*client, (struct sockaddr *)&a, sizeof a) == 0;
    *server = ok ? accept(l, NULL, NULL) : -1;
    close(l);
    return *server >= 0 ? 0 : -1;
}

void lb_sleep_ms(int ms) {
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0) {
    }
}
