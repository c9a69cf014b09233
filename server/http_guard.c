/* http_guard.c — connection admission, deadlines and hang-up watch (see http_guard.h). */
#include "http_guard.h"

#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "http_metrics.h"
#include "http_socket.h"

/* How often the watchdog looks (ms): the slack of a deadline, half the time a hang-up of a
 * watched request takes to be noticed. */
#define TICK_MS 100
/* A connection that has waited less than this has not had the time to show that it is slow (a
 * client may connect, then take a moment to send; s). */
#define GRACE_S 1.0
/* A connection that received at least this much per second of waiting (and at least this much
 * in all) is sending a request (an upload on a slow link), not trickling one (bytes/s). */
#define SENDING_BPS 8192.0
/* How long the accepting thread waits at most, per new connection, for evicted ones to end (s),
 * and how often it looks meanwhile (ns). */
#define CLOSING_WAIT_S 0.5
#define CLOSING_POLL_NS 1000000L

/* Which waiting connection is closed to make room: the first class that has one, oldest first
 * within a class (see http_guard.h). */
enum { V_SLOW, V_PART, V_NEW, V_SENDING, V_NONE };

/* A client address as limits see it: IPv4 (or IPv4-mapped IPv6) whole, IPv6 by its /64 (one
 * host usually owns a whole /64, and picking new addresses in it costs nothing). */
typedef struct addr_key {
    unsigned char b[8];
    unsigned char len;
} addr_key;

struct http_conn {
    http_conn *prev, *next;
    http_guard *g;
    int fd;
    addr_key key;
    double since;        /* when it began waiting for its current request (monotonic s) */
    long long rx0;       /* the kernel's count of bytes received at `since` (-1: unknown) */
    int busy;
    int killed;          /* closed by the guard: 1 + http_drop */
    int ended;           /* killed, and libmicrohttpd has since shut our side: its thread ends */
    unsigned seen;       /* the victim search that last examined it, and what it found (V_*) */
    int cls;
    atomic_int *cancel;  /* the watched request's flag, NULL when not watched */
    int probe;           /* prefix bytes sent as a probe, -1 once the client is gone */
};

struct http_guard {
    http_guard_limits lim;
    unsigned reserve;    /* effective */
    pthread_mutex_t mu;
    pthread_cond_t cv;   /* wakes the watchdog to stop */
    http_conn *head;
    unsigned live;       /* connections in the table not closed by the guard */
    unsigned closing;    /* closed by the guard, their threads not yet seen ending */
    unsigned search;     /* victim searches so far */
    int stop;
    pthread_t thread;
};

static double now_s(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

static void key_of(const struct sockaddr *sa, addr_key *k) {
    memset(k, 0, sizeof *k);
    if (!sa) return;
    if (sa->sa_family == AF_INET) {
        const struct sockaddr_in *a = (const struct sockaddr_in *)sa;
        memcpy(k->b, &a->sin_addr, 4);
        k->len = 4;
    } else if (sa->sa_family == AF_INET6) {
        const struct sockaddr_in6 *a = (const struct sockaddr_in6 *)sa;
        if (IN6_IS_ADDR_V4MAPPED(&a->sin6_addr)) {
            memcpy(k->b, a->sin6_addr.s6_addr + 12, 4);
            k->len = 4;
        } else {
            memcpy(k->b, a->sin6_addr.s6_addr, 8);
            k->len = 8;
        }
    }
}

static int key_eq(const addr_key *a, const addr_key *b) {
    return a->len == b->len && memcmp(a->b, b->b, a->len) == 0;
}

/* Close a waiting connection (under the lock). */
static void drop(http_guard *g, http_conn *hc, http_drop why) {
    hc->killed = 1 + (int)why;
    g->live--;
    g->closing++;
    shutdown(hc->fd, SHUT_RD);
    http_metrics_dropped(why);
}

/* A candidate's class as far as the current search knows: unexamined, it is presumed the most
 * evictable class its age allows; examining it can only move it to a later one. */
static int rank(const http_guard *g, const http_conn *hc, double now) {
    if (hc->seen == g->search) return hc->cls;
    return now - hc->since < GRACE_S ? V_PART : V_SLOW;
}

static void examine(http_guard *g, http_conn *hc, double now) {
    http_tcp t;
    http_socket_tcp(hc->fd, &t);
    double waited = now - hc->since;
    /* Sending: at speed, and at least a grace's worth of it (a trickler's first burst is not). */
    double need = SENDING_BPS * (waited > GRACE_S ? waited : GRACE_S);
    hc->seen = g->search;
    long long in = t.received >= 0 && hc->rx0 >= 0 ? t.received - hc->rx0 : -1;
    if (in >= 0 && (double)in >= need) hc->cls = V_SENDING;
    else if (waited >= GRACE_S) hc->cls = V_SLOW;
    /* Part of a request in goes before nothing yet: if it is in fact all of the request, it is
     * read and answered anyway; a silent one would lose the request it is about to send. */
    else hc->cls = in == 0 ? V_NEW : V_PART;
}

/* The waiting connection to close to make room (of one address when key != NULL), NULL when
 * none is waiting. The best-ranked candidate is examined (a system call) until the best-ranked
 * one has been: since examining only ranks a connection later, that one is the true best, and
 * usually the first examined. */
static http_conn *pick_victim(http_guard *g, const addr_key *key) {
    double now = now_s();
    g->search++;
    for (;;) {
        http_conn *best = NULL;
        int best_rank = V_NONE;
        for (http_conn *hc = g->head; hc; hc = hc->next) {
            if (hc->busy || hc->killed || (key && !key_eq(&hc->key, key))) continue;
            int r = rank(g, hc, now);
            if (r < best_rank || (r == best_rank && best && hc->since < best->since)) {
                best = hc;
                best_rank = r;
            }
        }
        if (!best || best->seen == g->search) return best;
        examine(g, best, now);
    }
}

/* Note the closed connections whose threads have shut our side since last looked. */
static void reap(http_guard *g) {
    for (http_conn *hc = g->head; hc && g->closing > 0; hc = hc->next) {
        if (!hc->killed || hc->ended) continue;
        http_tcp t;
        http_socket_tcp(hc->fd, &t);
        if (t.fin_sent) {
            hc->ended = 1;
            g->closing--;
        }
    }
}

/* A closed connection keeps its libmicrohttpd slot until its thread has ended and this (the
 * accepting) thread has cleaned it up, right after this callback. libmicrohttpd checks its hard
 * limit before asking the guard and closes a newcomer at the limit at once: a reset for a client
 * whose request had arrived. So while the connections still closing would bring the next
 * newcomer within a margin of that limit, wait here (the newcomers wait unharmed in the listen
 * queue) and let their threads run. Under the lock. */
static void wait_for_closing(http_guard *g) {
    unsigned margin = g->reserve / 2 > 1 ? g->reserve / 2 : 1;
    double t0 = now_s();
    while (g->closing > 0 && g->live + g->closing + 1 + margin > g->lim.max_connections) {
        reap(g);
        if (g->live + g->closing + 1 + margin <= g->lim.max_connections) break;
        if (now_s() - t0 >= CLOSING_WAIT_S) break;
        pthread_mutex_unlock(&g->mu);
        struct timespec ts = {0, CLOSING_POLL_NS};
        nanosleep(&ts, NULL);
        pthread_mutex_lock(&g->mu);
    }
}

enum MHD_Result http_guard_accept(void *cls, const struct sockaddr *addr, socklen_t addrlen) {
    (void)addrlen;
    http_guard *g = cls;
    addr_key key;
    key_of(addr, &key);
    enum MHD_Result ok = MHD_YES;
    pthread_mutex_lock(&g->mu);
    if (g->lim.per_ip > 0) {
        unsigned same = 0;
        for (http_conn *hc = g->head; hc; hc = hc->next)
            same += !hc->killed && key_eq(&hc->key, &key);
        if (same >= g->lim.per_ip) {
            http_conn *victim = pick_victim(g, &key);
            if (victim) {
                drop(g, victim, HTTP_DROP_EVICTED);
            } else {
                http_metrics_dropped(HTTP_DROP_REFUSED);
                ok = MHD_NO;
            }
        }
    }
    if (ok == MHD_YES && g->reserve > 0 && g->live >= g->lim.max_connections - g->reserve) {
        http_conn *victim = pick_victim(g, NULL);
        if (victim) drop(g, victim, HTTP_DROP_EVICTED);
    }
    if (ok == MHD_YES) wait_for_closing(g);
    pthread_mutex_unlock(&g->mu);
    return ok;
}

http_conn *http_guard_track(http_guard *g, int fd, const struct sockaddr *addr) {
    http_conn *hc = calloc(1, sizeof *hc);
    if (!hc) return NULL;
    hc->g = g;
    hc->fd = fd;
    key_of(addr, &hc->key);
    hc->since = now_s();
    hc->rx0 = 0;
    pthread_mutex_lock(&g->mu);
    hc->next = g->head;
    if (g->head) g->head->prev = hc;
    g->head = hc;
    g->live++;
    pthread_mutex_unlock(&g->mu);
    http_metrics_connections(+1);
    return hc;
}

void http_guard_untrack(http_conn *hc) {
    if (!hc) return;
    http_guard *g = hc->g;
    pthread_mutex_lock(&g->mu);
    if (hc->prev) hc->prev->next = hc->next;
    else g->head = hc->next;
    if (hc->next) hc->next->prev = hc->prev;
    if (!hc->killed) g->live--;
    else if (!hc->ended) g->closing--;
    pthread_mutex_unlock(&g->mu);
    http_metrics_connections(-1);
    free(hc);
}

void http_guard_notify(void *cls, struct MHD_Connection *c, void **socket_context,
                       enum MHD_ConnectionNotificationCode code) {
    http_guard *g = cls;
    if (code == MHD_CONNECTION_NOTIFY_STARTED) {
        const union MHD_ConnectionInfo *fd =
            MHD_get_connection_info(c, MHD_CONNECTION_INFO_CONNECTION_FD);
        const union MHD_ConnectionInfo *ad =
            MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
        *socket_context = http_guard_track(g, fd ? fd->connect_fd : -1, ad ? ad->client_addr : NULL);
    } else if (code == MHD_CONNECTION_NOTIFY_CLOSED) {
        http_guard_untrack(*socket_context);
        *socket_context = NULL;
    }
}

http_conn *http_guard_conn(struct MHD_Connection *c) {
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(c, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
    return ci ? ci->socket_context : NULL;
}

void http_conn_busy(http_conn *hc) {
    if (!hc) return;
    pthread_mutex_lock(&hc->g->mu);
    hc->busy = 1;
    pthread_mutex_unlock(&hc->g->mu);
}

void http_conn_waiting(http_conn *hc) {
    if (!hc) return;
    http_tcp t;
    http_socket_tcp(hc->fd, &t);
    pthread_mutex_lock(&hc->g->mu);
    hc->busy = 0;
    hc->since = now_s();
    hc->rx0 = t.received;
    pthread_mutex_unlock(&hc->g->mu);
}

int http_conn_timed_out(http_conn *hc) {
    if (!hc) return 0;
    pthread_mutex_lock(&hc->g->mu);
    int t = hc->killed == 1 + (int)HTTP_DROP_DEADLINE;
    pthread_mutex_unlock(&hc->g->mu);
    return t;
}

void http_conn_watch(http_conn *hc, atomic_int *cancel) {
    if (!hc) return;
    pthread_mutex_lock(&hc->g->mu);
    hc->cancel = cancel;
    hc->probe = 0;
    pthread_mutex_unlock(&hc->g->mu);
}

int http_conn_unwatch(http_conn *hc) {
    if (!hc) return 0;
    pthread_mutex_lock(&hc->g->mu);
    hc->cancel = NULL;
    int probe = hc->probe;
    pthread_mutex_unlock(&hc->g->mu);
    return probe;
}

/* A watched request: after a FIN, send (the rest of) the status-line prefix; once the client is
 * gone (it answered the probe with a reset), cancel the request. Under the lock. */
static void watch_tick(http_conn *hc) {
    if (hc->probe < 0) return;
    http_peer p = http_socket_peer(hc->fd);
    size_t sent = (size_t)hc->probe;
    if (p == HTTP_PEER_EOF && sent < HTTP_STATUS_PREFIX_LEN) {
        ssize_t n = send(hc->fd, &HTTP_STATUS_PREFIX[sent], HTTP_STATUS_PREFIX_LEN - sent,
                         MSG_NOSIGNAL | MSG_DONTWAIT);
        if (n > 0) hc->probe += (int)n;
        else if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
            p = HTTP_PEER_GONE;
    }
    if (p == HTTP_PEER_GONE) {
        hc->probe = -1;
        atomic_store(hc->cancel, 1);
    }
}

static void tick(http_guard *g) {
    double now = now_s();
    for (http_conn *hc = g->head; hc; hc = hc->next) {
        if (!hc->busy && !hc->killed && now - hc->since >= (double)g->lim.request_timeout_s)
            drop(g, hc, HTTP_DROP_DEADLINE);
        if (hc->cancel) watch_tick(hc);
    }
}

static void *watchdog(void *arg) {
    http_guard *g = arg;
    pthread_mutex_lock(&g->mu);
    while (!g->stop) {
        tick(g);
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        ts.tv_nsec += TICK_MS * 1000000L;
        if (ts.tv_nsec >= 1000000000L) {
            ts.tv_sec++;
            ts.tv_nsec -= 1000000000L;
        }
        pthread_cond_timedwait(&g->cv, &g->mu, &ts);
    }
    pthread_mutex_unlock(&g->mu);
    return NULL;
}

http_guard *http_guard_start(const http_guard_limits *lim) {
    http_guard *g = calloc(1, sizeof *g);
    if (!g) return NULL;
    g->lim = *lim;
    if (g->lim.request_timeout_s == 0) g->lim.request_timeout_s = 1;
    g->reserve = lim->reserve < lim->max_connections / 4 ? lim->reserve : lim->max_connections / 4;
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_mutex_init(&g->mu, NULL);
    pthread_cond_init(&g->cv, &ca);
    pthread_condattr_destroy(&ca);
    if (pthread_create(&g->thread, NULL, watchdog, g) != 0) {
        pthread_mutex_destroy(&g->mu);
        pthread_cond_destroy(&g->cv);
        free(g);
        return NULL;
    }
    return g;
}

void http_guard_stop(http_guard *g) {
    if (!g) return;
    pthread_mutex_lock(&g->mu);
    g->stop = 1;
    pthread_cond_broadcast(&g->cv);
    pthread_mutex_unlock(&g->mu);
    pthread_join(g->thread, NULL);
    while (g->head) { /* none left after MHD_stop_daemon; free any to be safe */
        http_conn *hc = g->head;
        g->head = hc->next;
        free(hc);
    }
    pthread_mutex_destroy(&g->mu);
    pthread_cond_destroy(&g->cv);
    free(g);
}

unsigned http_guard_reserve(const http_guard *g) { return g->reserve; }

unsigned http_guard_open(http_guard *g) {
    pthread_mutex_lock(&g->mu);
    unsigned n = g->live;
    pthread_mutex_unlock(&g->mu);
    return n;
}

void http_guard_cancel_all(http_guard *g) {
    pthread_mutex_lock(&g->mu);
    for (http_conn *hc = g->head; hc; hc = hc->next)
        if (hc->cancel) atomic_store(hc->cancel, 1);
    pthread_mutex_unlock(&g->mu);
}
