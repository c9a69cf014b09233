/* http_trickle.c — see http_trickle.h. */
#include "http_trickle.h"

#include <criterion/criterion.h>
#include <errno.h>
#include <sys/socket.h>
#include <unistd.h>

#include "http_support.h"

static const char TRICKLED[] = "POST /conv HTTP/1.1\r\nHost: x\r\nX-Slow: "
                               "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";

int trickle_closed_by_server(int fd) {
    char c;
    ssize_t n = recv(fd, &c, 1, MSG_PEEK | MSG_DONTWAIT);
    return n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR);
}

void trickle_open(trickle *t, int port, int n) {
    cr_assert(n <= TRICKLE_MAX);
    t->n = n;
    for (int i = 0; i < n; i++) {
        t->fd[i] = th_connect(port);
        t->sent[i] = 0;
    }
}

void trickle_byte(trickle *t, int port, int i) {
    if (trickle_closed_by_server(t->fd[i]) ||
        send(t->fd[i], TRICKLED + t->sent[i] % (sizeof TRICKLED - 1), 1,
             MSG_NOSIGNAL | MSG_DONTWAIT) != 1) {
        close(t->fd[i]);
        t->fd[i] = th_connect(port);
        t->sent[i] = 0;
        t->reopened++;
        return;
    }
    t->sent[i]++;
}

void trickle_close(trickle *t) {
    for (int i = 0; i < t->n; i++) close(t->fd[i]);
}
