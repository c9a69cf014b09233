/* loopback.h — real TCP connections on 127.0.0.1 for tests of socket code (no daemon). */
#ifndef NN_TEST_LOOPBACK_H
#define NN_TEST_LOOPBACK_H

/* One connection: *client and *server are its two ends (the server end as accept() returns
 * it). Returns 0, or -1 when a socket call failed. */
int lb_tcp_pair(int *client, int *server);

/* Sleep this many milliseconds (lets loopback segments — FIN, RST — arrive). */
void lb_sleep_ms(int ms);

#endif
