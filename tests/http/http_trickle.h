/* http_trickle.h — slow clients for the HTTP tests of the connection guard: many raw connections
 * that each send a request head one byte at a time, and reconnect when the server closes them
 * (as a slowloris attacker does). */
#ifndef HTTP_TRICKLE_H
#define HTTP_TRICKLE_H

#include <stddef.h>

#define TRICKLE_MAX 512

typedef struct trickle {
    int fd[TRICKLE_MAX];
    size_t sent[TRICKLE_MAX];  /* head bytes sent on each */
    int n, reopened;
} trickle;

/* 1 when the server closed fd (EOF or reset), without consuming anything else. */
int trickle_closed_by_server(int fd);

/* Open n (at most TRICKLE_MAX) connections to the daemon on 127.0.0.1:port; nothing is sent. */
void trickle_open(trickle *t, int port, int n);
/* Send the next head byte on connection i; one the server closed is opened again instead. */
void trickle_byte(trickle *t, int port, int i);
/* Close them all. */
void trickle_close(trickle *t);

#endif
