/* http_guard.h — who may hold a connection, and for how long; and whether a busy request's client
 * is still there.
 *
 * Every connection has its own thread (http_server.h), so connections are the scarce resource:
 * a client that opens many and trickles a byte now and then could otherwise take them all. A
 * connection is WAITING from its start, and again from the end of each answer, until its next
 * request (headers and body) has fully arrived; it is BUSY from then until that answer ends.
 * Only waiting connections are ever closed by the guard:
 *   - deadline: a connection still waiting request_timeout_s after it began is closed (a total
 *     deadline: bytes trickling in do not extend it, unlike libmicrohttpd's inactivity timeout);
 *     when its headers had arrived, the completion callback answers 408 first;
 *   - per address: a new connection from an address (IPv6: its /64) that already has per_ip
 *     open closes one of that address's waiting connections, or is refused when all are busy;
 *   - reserve: past max_connections - reserve open connections, each new connection closes a
 *     waiting one of any address, so `reserve` slots stay free for newcomers (a health check,
 *     another student) however many connections trickle. The reserve is capped at a quarter of
 *     max_connections; 0 turns it off.
 * Which waiting connection goes is decided by evidence, oldest first within each class:
 *   1. slow: it has waited over a second and is not sending (a trickled head or body, an idle
 *      keep-alive connection);
 *   2. part: it has waited less than a second (it has not had the time to show it is slow) and
 *      received part of a request (if in fact all of it, it is still read and answered);
 *   3. new: the same with nothing received yet (closing it would lose the request it is about
 *      to send: a loaded client, a browser's pre-opened connection);
 *   4. sending: it has received at least 8 KiB per second of waiting, and 8 KiB in all (an
 *      upload on a slow link).
 * Bytes are the kernel's count (TCP_INFO, read by libmicrohttpd or not), looked up for the few
 * candidates examined. A request that had fully arrived when its connection was closed is still
 * answered: Linux delivers the bytes already received after shutdown(SHUT_RD).
 * Closing is shutdown(SHUT_RD) on the socket: its own thread reads end-of-input and
 * libmicrohttpd closes the connection as if the client had left. The socket stays open until
 * libmicrohttpd's "closed" notification, which takes the same lock, so the guard never touches
 * a descriptor that has been reused. A closed connection keeps its libmicrohttpd slot until its
 * thread has ended and been cleaned up; libmicrohttpd refuses a newcomer at its hard limit before
 * asking the guard. So when the connections still closing would bring the next newcomer near that
 * limit, the accepting thread waits for them to end (at most 0.5 s per newcomer; the newcomers
 * wait in the listen queue, unharmed).
 *
 * A watchdog thread enforces the deadlines every 100 ms and watches the requests registered
 * with http_conn_watch (a JSON request computing on its connection's thread): when their client
 * sent a FIN it writes the status-line prefix as a probe (http_socket.h), and when the client is
 * gone it sets the request's cancel flag. Thread-safe; every http_conn function accepts NULL
 * (a connection the guard could not track: out of memory) and then does nothing. */
#ifndef HTTP_GUARD_H
#define HTTP_GUARD_H

#include <microhttpd.h>
#include <stdatomic.h>
#include <sys/socket.h>

typedef struct http_guard http_guard;
typedef struct http_conn http_conn;

typedef struct http_guard_limits {
    unsigned max_connections;   /* libmicrohttpd's hard limit */
    unsigned reserve;           /* slots kept free by closing waiting connections (0 = off) */
    unsigned per_ip;            /* connections per client address (0 = no limit) */
    unsigned request_timeout_s; /* deadline of a waiting connection */
} http_guard_limits;

/* Start the watchdog thread. NULL when out of resources. */
http_guard *http_guard_start(const http_guard_limits *lim);
/* Stop the watchdog and free the table. Call after MHD_stop_daemon (no callbacks may follow). */
void http_guard_stop(http_guard *g);

/* The effective reserve (capped at max_connections / 4) and the connections open now. */
unsigned http_guard_reserve(const http_guard *g);
unsigned http_guard_open(http_guard *g);

/* SIGTERM: set the cancel flag of every watched request. */
void http_guard_cancel_all(http_guard *g);

/* libmicrohttpd callbacks (cls = the guard): the accept policy (MHD_start_daemon's apc) and
 * MHD_OPTION_NOTIFY_CONNECTION. */
enum MHD_Result http_guard_accept(void *cls, const struct sockaddr *addr, socklen_t addrlen);
void http_guard_notify(void *cls, struct MHD_Connection *c, void **socket_context,
                       enum MHD_ConnectionNotificationCode code);

/* What http_guard_notify does: start / stop tracking a connection whose socket is fd (its
 * client address addr may be NULL). track returns NULL when out of memory. untrack must come
 * before fd is closed; hc may be NULL. */
http_conn *http_guard_track(http_guard *g, int fd, const struct sockaddr *addr);
void http_guard_untrack(http_conn *hc);

/* The guard's record of a connection (NULL if untracked). */
http_conn *http_guard_conn(struct MHD_Connection *c);

/* Its request has fully arrived, or is being answered early: no deadline, never evicted. */
void http_conn_busy(http_conn *hc);
/* Its answer ended: it waits for its next request, whose deadline starts now. */
void http_conn_waiting(http_conn *hc);
/* 1 when the guard closed it because its deadline passed. */
int http_conn_timed_out(http_conn *hc);

/* Watch the client of a busy request until http_conn_unwatch: set *cancel once it is gone.
 * unwatch returns how many bytes of HTTP_STATUS_PREFIX were sent as a probe (the answer must
 * then be written with http_socket_reply, skipping them), or -1 when the client is gone. */
void http_conn_watch(http_conn *hc, atomic_int *cancel);
int http_conn_unwatch(http_conn *hc);

#endif
