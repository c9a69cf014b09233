/* test_http_guard.c — the connection guard (server/http_guard.h) on real loopback connections
 * whose client addresses are made up: a connection past an address's limit closes that
 * address's oldest waiting connection (never a busy one, never another address's), or is
 * refused when all are busy; IPv6 clients count by /64; past the reserve the oldest waiting
 * connection of any address goes; slow connections go before new ones (those with part of a
 * request in before silent ones), new ones before those sending at speed; near libmicrohttpd's hard limit the accepting thread waits for closed
 * connections to end; a waiting connection is closed at its
 * deadline; a watched request's client is probed after its FIN and its cancel flag set once it
 * is gone. "Closed" is seen on the server's end of the socket: the guard shut its reading side
 * (recv returns 0). */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "http_guard.h"
#include "loopback.h"

static void tcp_pair(int *client, int *server) {
    cr_assert_eq(lb_tcp_pair(client, server), 0, "a loopback connection");
}

static struct sockaddr_storage v4(const char *ip) {
    struct sockaddr_storage ss;
    memset(&ss, 0, sizeof ss);
    struct sockaddr_in *a = (struct sockaddr_in *)&ss;
    a->sin_family = AF_INET;
    cr_assert(inet_pton(AF_INET, ip, &a->sin_addr) == 1);
    return ss;
}

static struct sockaddr_storage v6(const char *ip) {
    struct sockaddr_storage ss;
    memset(&ss, 0, sizeof ss);
    struct sockaddr_in6 *a = (struct sockaddr_in6 *)&ss;
    a->sin6_family = AF_INET6;
    cr_assert(inet_pton(AF_INET6, ip, &a->sin6_addr) == 1);
    return ss;
}

#define SA(ss) ((const struct sockaddr *)&(ss))

typedef struct conn {
    int client, server;
    http_conn *hc;
} conn;

static conn open_from(http_guard *g, const struct sockaddr *addr) {
    conn c;
    tcp_pair(&c.client, &c.server);
    c.hc = http_guard_track(g, c.server, addr);
    cr_assert(c.hc);
    lb_sleep_ms(2); /* distinct start times: "oldest" is well defined */
    return c;
}

/* 1 when the guard shut the reading side of the server's end. */
static int shut_by_guard(const conn *c) {
    char b;
    return recv(c->server, &b, 1, MSG_DONTWAIT) == 0;
}

static void close_conn(conn *c) {
    http_guard_untrack(c->hc);
    close(c->server);
    close(c->client);
}

static http_guard *start(unsigned max, unsigned reserve, unsigned per_ip, unsigned timeout_s) {
    http_guard_limits lim = {max, reserve, per_ip, timeout_s};
    http_guard *g = http_guard_start(&lim);
    cr_assert(g);
    return g;
}

Test(guard, an_address_past_its_limit_loses_its_oldest_waiting_connection) {
    http_guard *g = start(100, 0, 3, 60);
    struct sockaddr_storage a = v4("10.0.0.1"), b = v4("10.0.0.2");
    conn c[3];
    for (int i = 0; i < 3; i++) c[i] = open_from(g, SA(a));
    conn other = open_from(g, SA(b));
    http_conn_busy(c[0].hc); /* busy: never closed */
    cr_assert_eq(http_guard_accept(g, SA(a), sizeof a), MHD_YES);
    cr_assert(!shut_by_guard(&c[0]), "a busy connection is never closed");
    cr_assert(shut_by_guard(&c[1]), "the oldest waiting one of the address is");
    cr_assert(!shut_by_guard(&c[2]) && !shut_by_guard(&other));
    cr_assert_eq(http_guard_open(g), 3, "c[1] no longer counts");
    /* Now c[0] and c[2] (+ the accepted newcomer, tracked below) fill the address. */
    conn n = open_from(g, SA(a));
    http_conn_busy(c[2].hc);
    http_conn_busy(n.hc);
    cr_assert_eq(http_guard_accept(g, SA(a), sizeof a), MHD_NO, "all busy: refused");
    cr_assert_eq(http_guard_accept(g, SA(b), sizeof b), MHD_YES, "another address is not");
    for (int i = 0; i < 3; i++) close_conn(&c[i]);
    close_conn(&other);
    close_conn(&n);
    cr_assert_eq(http_guard_open(g), 0);
    http_guard_stop(g);
}

Test(guard, ipv6_clients_count_by_64_and_mapped_ipv4_as_ipv4) {
    http_guard *g = start(100, 0, 1, 60);
    struct sockaddr_storage a1 = v6("2001:db8:1:2::1"), a2 = v6("2001:db8:1:2:ffff::9"),
                            b = v6("2001:db8:1:3::1"), m = v6("::ffff:10.0.0.7"),
                            four = v4("10.0.0.7");
    conn c1 = open_from(g, SA(a1)), cb = open_from(g, SA(b)), cm = open_from(g, SA(four));
    cr_assert_eq(http_guard_accept(g, SA(a2), sizeof a2), MHD_YES);
    cr_assert(shut_by_guard(&c1), "same /64: the same client");
    cr_assert(!shut_by_guard(&cb), "another /64: another client");
    cr_assert_eq(http_guard_accept(g, SA(m), sizeof m), MHD_YES);
    cr_assert(shut_by_guard(&cm), "::ffff:10.0.0.7 is 10.0.0.7");
    close_conn(&c1);
    close_conn(&cb);
    close_conn(&cm);
    http_guard_stop(g);
}

Test(guard, past_the_reserve_the_oldest_waiting_connection_of_any_address_goes) {
    http_guard *g = start(8, 100 /* capped to 8 / 4 */, 0, 60);
    cr_assert_eq(http_guard_reserve(g), 2);
    conn c[6];
    for (int i = 0; i < 6; i++) {
        char ip[32];
        snprintf(ip, sizeof ip, "10.0.1.%d", i + 1);
        struct sockaddr_storage a = v4(ip);
        c[i] = open_from(g, SA(a));
    }
    http_conn_busy(c[0].hc);
    struct sockaddr_storage z = v4("10.9.9.9");
    cr_assert_eq(http_guard_accept(g, SA(z), sizeof z), MHD_YES);
    cr_assert(!shut_by_guard(&c[0]) && shut_by_guard(&c[1]), "oldest waiting: c[1]");
    for (int i = 2; i < 6; i++) cr_assert(!shut_by_guard(&c[i]));
    http_conn_waiting(c[0].hc); /* answered: it waits again, from now on (the newest) */
    conn n = open_from(g, SA(z));
    cr_assert_eq(http_guard_accept(g, SA(z), sizeof z), MHD_YES);
    cr_assert(shut_by_guard(&c[2]) && !shut_by_guard(&c[0]));
    for (int i = 0; i < 6; i++) close_conn(&c[i]);
    close_conn(&n);
    http_guard_stop(g);
}

static double mono_s(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

/* The server reads (as libmicrohttpd's thread would) whatever has arrived. */
static void drain(const conn *c) {
    char buf[65536];
    while (recv(c->server, buf, sizeof buf, MSG_DONTWAIT) > 0) {
    }
}

/* Evidence, not age: past the 1 s grace, a connection that has sent one byte (a trickler) goes
 * before a newer one, and a new one before an older one that sends at speed (an upload). */
Test(guard, slow_connections_go_first_then_new_ones_then_those_sending) {
    http_guard *g = start(100, 0, 1, 60);
    struct sockaddr_storage a = v4("10.0.0.1");
    conn sending = open_from(g, SA(a)), slow = open_from(g, SA(a));
    static char chunk[4096];
    memset(chunk, 'x', sizeof chunk);
    cr_assert_eq(send(slow.client, "G", 1, 0), 1);
    for (int i = 0; i < 24; i++) { /* 96 KiB over 1.2 s: 80 KiB/s */
        cr_assert_eq(send(sending.client, chunk, sizeof chunk, 0), (ssize_t)sizeof chunk);
        lb_sleep_ms(50);
        drain(&sending);
        drain(&slow);
    }
    conn fresh = open_from(g, SA(a));
    cr_assert_eq(http_guard_accept(g, SA(a), sizeof a), MHD_YES);
    cr_assert(shut_by_guard(&slow), "the trickler goes first, although another is older");
    cr_assert(!shut_by_guard(&sending) && !shut_by_guard(&fresh));
    cr_assert_eq(http_guard_accept(g, SA(a), sizeof a), MHD_YES);
    cr_assert(shut_by_guard(&fresh), "then the new one");
    cr_assert(!shut_by_guard(&sending));
    cr_assert_eq(http_guard_accept(g, SA(a), sizeof a), MHD_YES);
    cr_assert(shut_by_guard(&sending), "then the one sending");
    close_conn(&sending);
    close_conn(&slow);
    close_conn(&fresh);
    http_guard_stop(g);
}

/* Within their first second: a connection with part of a request in goes before an older one
 * with nothing in yet (that one would lose the request it is about to send), and one that has
 * already received 8 KiB is sending, so it goes last. */
Test(guard, new_ones_with_part_of_a_request_go_before_silent_ones_and_8_kib_in_is_sending) {
    http_guard *g = start(100, 0, 1, 60);
    struct sockaddr_storage a = v4("10.0.0.1");
    conn upload = open_from(g, SA(a)), silent = open_from(g, SA(a)),
         trickler = open_from(g, SA(a));
    static char body[9000];
    memset(body, 'x', sizeof body);
    cr_assert_eq(send(upload.client, body, sizeof body, 0), (ssize_t)sizeof body);
    cr_assert_eq(send(trickler.client, "POST / HTTP/1.1\r\n", 17, 0), 17);
    lb_sleep_ms(20);
    drain(&upload);
    drain(&trickler);
    cr_assert_eq(http_guard_accept(g, SA(a), sizeof a), MHD_YES);
    cr_assert(shut_by_guard(&trickler) && !shut_by_guard(&silent) && !shut_by_guard(&upload),
              "the one with a part of a request in goes first, although the newest");
    cr_assert_eq(http_guard_accept(g, SA(a), sizeof a), MHD_YES);
    cr_assert(shut_by_guard(&silent) && !shut_by_guard(&upload), "then the silent one");
    close_conn(&upload);
    close_conn(&silent);
    close_conn(&trickler);
    http_guard_stop(g);
}

typedef struct ender {
    conn *c;
    int n, delay_ms;
} ender;

/* What the connections' threads do once the guard closed them: read the end, shut our side. */
static void *end_later(void *arg) {
    ender *e = arg;
    lb_sleep_ms(e->delay_ms);
    for (int i = 0; i < e->n; i++)
        if (shut_by_guard(&e->c[i])) shutdown(e->c[i].server, SHUT_WR);
    return NULL;
}

/* Closed connections keep their libmicrohttpd slots until their threads end. Near the hard limit
 * (8 here, reserve 2: 5 open + 2 closing + the newcomer) the accepting thread waits for them, at
 * most 0.5 s per newcomer. */
Test(guard, near_the_hard_limit_the_accepting_thread_waits_for_closed_connections_to_end) {
    http_guard *g = start(8, 2, 0, 60);
    struct sockaddr_storage a = v4("10.0.0.1");
    conn c[9];
    for (int i = 0; i < 6; i++) c[i] = open_from(g, SA(a));
    double t0 = mono_s();
    cr_assert_eq(http_guard_accept(g, SA(a), sizeof a), MHD_YES); /* closes c[0] */
    cr_assert_lt(mono_s() - t0, 0.2, "one closing: no wait");
    c[6] = open_from(g, SA(a));
    ender e = {c, 7, 150};
    pthread_t th;
    cr_assert_eq(pthread_create(&th, NULL, end_later, &e), 0);
    t0 = mono_s();
    cr_assert_eq(http_guard_accept(g, SA(a), sizeof a), MHD_YES); /* closes c[1] */
    double waited = mono_s() - t0;
    pthread_join(th, NULL);
    cr_assert(waited > 0.12 && waited < 0.45, "waited %.3f s for c[0] and c[1] to end", waited);
    c[7] = open_from(g, SA(a));
    cr_assert_eq(http_guard_accept(g, SA(a), sizeof a), MHD_YES); /* closes c[2] */
    c[8] = open_from(g, SA(a));
    t0 = mono_s();
    cr_assert_eq(http_guard_accept(g, SA(a), sizeof a), MHD_YES); /* closes c[3] */
    waited = mono_s() - t0;
    cr_assert(waited > 0.45 && waited < 1.0, "c[2] and c[3] never end: gave up after %.3f s",
              waited);
    for (int i = 0; i < 9; i++) close_conn(&c[i]);
    http_guard_stop(g);
}

Test(guard, a_waiting_connection_is_closed_at_its_deadline_a_busy_one_is_not) {
    http_guard *g = start(100, 0, 0, 1);
    struct sockaddr_storage a = v4("10.0.0.1");
    conn w = open_from(g, SA(a)), b = open_from(g, SA(a));
    http_conn_busy(b.hc);
    lb_sleep_ms(600);
    cr_assert(!shut_by_guard(&w) && !http_conn_timed_out(w.hc), "not yet");
    lb_sleep_ms(700); /* 1 s deadline, checked every 100 ms */
    cr_assert(shut_by_guard(&w) && http_conn_timed_out(w.hc));
    cr_assert(!shut_by_guard(&b) && !http_conn_timed_out(b.hc));
    close_conn(&w);
    close_conn(&b);
    http_guard_stop(g);
}

Test(guard, a_watched_request_is_probed_after_a_fin_and_cancelled_once_its_client_is_gone) {
    http_guard *g = start(100, 0, 0, 60);
    struct sockaddr_storage a = v4("10.0.0.1");
    conn half = open_from(g, SA(a)), gone = open_from(g, SA(a));
    atomic_int cancel_half, cancel_gone;
    atomic_init(&cancel_half, 0);
    atomic_init(&cancel_gone, 0);
    http_conn_busy(half.hc);
    http_conn_busy(gone.hc);
    http_conn_watch(half.hc, &cancel_half);
    http_conn_watch(gone.hc, &cancel_gone);
    lb_sleep_ms(250);
    cr_assert_eq(atomic_load(&cancel_half) + atomic_load(&cancel_gone), 0, "no FIN, no probe");
    shutdown(half.client, SHUT_WR);
    close(gone.client);
    lb_sleep_ms(400); /* a tick sends the probe, a later one sees the reset */
    cr_assert_eq(atomic_load(&cancel_half), 0, "a half-close is not a hang-up");
    cr_assert_eq(atomic_load(&cancel_gone), 1, "a close is");
    char got[16] = "";
    cr_assert_eq(recv(half.client, got, sizeof got - 1, MSG_DONTWAIT), 9);
    cr_assert_str_eq(got, "HTTP/1.1 ", "the probe is the start of the answer");
    cr_assert_eq(http_conn_unwatch(half.hc), 9);
    cr_assert_eq(http_conn_unwatch(gone.hc), -1);
    close_conn(&half);
    http_guard_untrack(gone.hc); /* its client end is closed already */
    close(gone.server);
    http_guard_stop(g);
}
