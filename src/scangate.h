/* scangate.h - a counting gate: at most N holders at once, the others
 * wait their turn, first come first served, for a bounded time.
 *
 * Why: parsing and scanning a message costs about three times its size
 * in memory, and libmilter runs a thread per connection, so without a
 * gate every message that reaches its end is scanned at once.  The
 * milter takes a slot before it parses and gives it back when all the
 * scan's memory is freed (milter { max_scans }, doc/performance.md).
 *
 * The number of slots may change while the gate is in use (a reload):
 * more slots let waiters in at once; with fewer, holders finish and no
 * one new enters until the count is under the new number.
 *
 * Owns its lock and its queue of waiters.  Thread-safe.  Errors:
 * scangate_enter returns -1 when no slot freed in time; nothing else
 * fails (GLib aborts when out of memory). */
#ifndef CUSTOS_SCANGATE_H
#define CUSTOS_SCANGATE_H

struct scangate;

/* A gate of slots (fewer than 1 counts as 1). */
struct scangate	*scangate_new(int slots);

/* NULL-safe, returns NULL.  No one may be inside or waiting. */
struct scangate	*scangate_free(struct scangate *);

/* Sets the number of slots (fewer than 1 counts as 1). */
void		 scangate_resize(struct scangate *, int slots);

/* Takes a slot, waiting up to timeout_ms milliseconds behind those who
 * came first.  0: inside, call scangate_leave once; -1: timed out, not
 * inside. */
int		 scangate_enter(struct scangate *, int timeout_ms);

/* Gives a slot back, to the longest waiter when there is one. */
void		 scangate_leave(struct scangate *);

/* The number of slots, holders inside and waiters, for logs and tests;
 * out of date as soon as returned. */
int		 scangate_slots(struct scangate *);
int		 scangate_inside(struct scangate *);
int		 scangate_waiting(struct scangate *);

#endif
