/* srv_budget.h — admission by memory.
 *
 * A request within the per-request limits can still need a lot of memory: a 16 MiB body of
 * numbers becomes ~700 MB of cJSON nodes, a 200-byte JPEG can decode to a 4096x4096 map whose
 * JSON answer is ~200 MB. A handful of those at once would push the daemon past its container's
 * memory limit, and the OOM killer would take every user's training with it. So each JSON
 * request holds a reservation from one process-wide budget for what it may need — its body
 * (and the cJSON tree it becomes), then each tensor it allocates (and the JSON text its values
 * may become) — and gives it all back when its response is done. When the budget is spent, a
 * reservation waits up to SRV_BUDGET_WAIT_MS for others to finish (first come, first served),
 * then the request gets 503 with Retry-After. Only a request that holds little yet may wait
 * (one holding a lot and waiting for more could deadlock with another doing the same): later it
 * fits at once or is refused.
 * A request with no other big one around may proceed beyond the budget with its body (the
 * per-request limits bound it). What its handler needs on top (srv_budget_need,
 * srv_budget_claim: tensors, scratch, decoded images, a training's data sets and activations)
 * may not exceed the whole budget: such a request would wait for room that never comes, so it
 * gets 413 at once, saying how much it needs. A small request (at most SRV_BUDGET_SMALL) never
 * waits.
 *
 * The budget is off (unlimited) until srv_budget_init sets one; the unit tests and fuzzers
 * never set one. Thread-safe. */
#ifndef SRV_BUDGET_H
#define SRV_BUDGET_H

#include <stddef.h>

#include "srv_err.h"

#define SRV_BUDGET_WAIT_MS 2000
/* How long a client that asked first (Expect: 100-continue) waits for room: under the 1 s after
 * which curl stops waiting for "100 Continue" and uploads anyway, so a refusal reaches it before
 * it sends its body. */
#define SRV_BUDGET_EXPECT_WAIT_MS 900
/* Bytes held per body byte: the body itself plus cJSON's nodes (~80 bytes with malloc's
 * overhead for a number as short as "0,") — measured: a 16 MiB body peaked at 760 MB RSS. */
#define SRV_BUDGET_PER_BODY_BYTE 41
/* Bytes held per tensor element: the float, and the JSON text it may be written as. */
#define SRV_BUDGET_PER_ELEMENT 20
/* Held by every JSON request from its first byte (buffers, small allocations). */
#define SRV_BUDGET_BASE ((size_t)1 << 20)
/* A request holding at most this much is always admitted (counted, never kept waiting): the
 * everyday requests — a small body, a small answer — go on while a big one holds the budget.
 * Connections (--max-connections) times this bounds what they add. */
#define SRV_BUDGET_SMALL ((size_t)4 << 20)

/* What one request holds. Zero-initialise; give back with srv_budget_release. */
typedef struct srv_account {
    size_t held;
    size_t claimed; /* of held, what srv_budget_claim / srv_budget_need reserved */
} srv_account;

/* The default budget: half of the memory this process may use — the smallest limit of its
 * cgroup and the cgroup's ancestors (a container's or a systemd slice's memory limit, v2 or
 * v1, read from /proc/self/cgroup) or else the machine's RAM. */
size_t srv_budget_auto(void);

/* Set the budget in bytes (0 = unlimited). Call before serving. */
void srv_budget_init(size_t bytes);
size_t srv_budget_total(void);
size_t srv_budget_used(void);
/* Requests waiting for room now. */
size_t srv_budget_waiting(void);
/* Reservations refused (503) since start. */
unsigned long srv_budget_refused(void);

/* Add `bytes` to a's reservation, waiting up to wait_ms for room. 0 on success, -1 when there
 * is no room (a keeps what it held). Always succeeds when a is the only holder. */
int srv_budget_reserve(srv_account *a, size_t bytes, int wait_ms);

/* Whether a new request needing `bytes` would be admitted now, waiting up to wait_ms for room
 * (in turn with the other waiters); reserves nothing. 0 yes, -1 no (counted as refused). For a
 * client that asks before sending its body (Expect: 100-continue): it can be refused before it
 * uploads anything. A yes is not a promise: the body is still reserved for as it arrives, so a
 * client told to go on that then sends nothing holds nothing (two told to go on for the same
 * room can still meet a 503 after uploading, as requests that do not ask do). */
int srv_budget_wait_room(size_t bytes, int wait_ms);

/* Give back all but `keep` bytes of a's holding (no-op if it holds no more), e.g. once a
 * request's body and parse tree are freed and only its response is left. */
void srv_budget_shrink(srv_account *a, size_t keep);

/* Give back everything a holds. */
void srv_budget_release(srv_account *a);

/* The account of the request this thread is handling (NULL: none, nothing is counted). The
 * HTTP layer sets it around srv_handle_json. */
void srv_budget_set_current(srv_account *a);

/* Reserve `bytes` more for what a's request computes, waiting up to SRV_BUDGET_WAIT_MS: 0, or
 * -1 with the error in e naming `field`: 413 "too_large" when the request's claims would
 * exceed the whole budget (no wait can help), else 503 "busy" when there is no room now. */
int srv_budget_claim(srv_account *a, size_t bytes, const char *field, srv_err *e);

/* srv_budget_claim for the current request (no-op without one). */
int srv_budget_need(size_t bytes, const char *field, srv_err *e);

/* n * per and a + b, saturating at SIZE_MAX. */
size_t srv_budget_mul(size_t n, size_t per);
size_t srv_budget_add(size_t a, size_t b);

#endif
