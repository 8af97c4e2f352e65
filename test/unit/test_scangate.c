/* test_scangate.c - the scan gate: never more holders than slots, first
 * come first served, timeouts that hold nothing, resizing while in use. */
#include "config.h"

#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <unistd.h>
#include <cmocka.h>

#include <glib.h>

#include "scangate.h"

#define LONG_MS	30000	/* "forever", for a test that must not time out */

/* Polls fn(g) up to 10 s: threads reach the gate when the scheduler
 * lets them, on a busy box seconds later. */
static void
wait_for(struct scangate *g, int (*fn)(struct scangate *), int want)
{
	int i, got = -1;

	for (i = 0; i < 10000; i++) {
		if ((got = fn(g)) == want)
			return;
		(void)usleep(1000);
	}
	fail_msg("got %d, want %d", got, want);
}

/* Many threads through a gate of a few slots: how many were inside at
 * once, counted by the holders themselves. */
struct crowd {
	struct scangate	*gate;
	int		 rounds;
	gint		 inside, most, entered;
};

static void *
crowd_member(void *arg)
{
	struct crowd *c = arg;
	int i, now, most;

	for (i = 0; i < c->rounds; i++) {
		if (scangate_enter(c->gate, LONG_MS) != 0)
			return (void *)"timed out";
		now = g_atomic_int_add(&c->inside, 1) + 1;
		while ((most = g_atomic_int_get(&c->most)) < now &&
		    !g_atomic_int_compare_and_exchange(&c->most, most, now))
			;
		g_atomic_int_inc(&c->entered);
		(void)usleep(500);	/* a scan's worth of holding on */
		(void)g_atomic_int_dec_and_test(&c->inside);
		scangate_leave(c->gate);
	}
	return NULL;
}

static void
test_bound(void **state)
{
	static const struct {
		int	slots, threads, rounds;
	} rows[] = {
		{ 1, 8, 20 },
		{ 2, 16, 20 },
		{ 3, 32, 10 },
		{ 8, 32, 10 },
	};
	pthread_t th[32];
	size_t r;
	int t;

	(void)state;
	for (r = 0; r < sizeof rows / sizeof rows[0]; r++) {
		struct crowd c = { scangate_new(rows[r].slots), rows[r].rounds,
		    0, 0, 0 };

		for (t = 0; t < rows[r].threads; t++)
			assert_int_equal(pthread_create(&th[t], NULL,
			    crowd_member, &c), 0);
		for (t = 0; t < rows[r].threads; t++) {
			void *rv;

			assert_int_equal(pthread_join(th[t], &rv), 0);
			if (rv != NULL)
				fail_msg("row %zu: thread %d: %s", r, t,
				    (char *)rv);
		}
		if (c.most > rows[r].slots || c.most < 1)
			fail_msg("row %zu: got %d inside at once, want 1 to %d",
			    r, c.most, rows[r].slots);
		if (c.entered != rows[r].threads * rows[r].rounds)
			fail_msg("row %zu: got %d entries, want %d", r,
			    c.entered, rows[r].threads * rows[r].rounds);
		assert_int_equal(scangate_inside(c.gate), 0);
		assert_int_equal(scangate_waiting(c.gate), 0);
		c.gate = scangate_free(c.gate);
	}
}

/* One thread that tries the gate and reports what happened. */
struct attempt {
	struct scangate	*gate;
	int		 timeout_ms;
	int		 rc;
	gint64		 took_us;
	gboolean	 leave;		/* leave at once after entering */
};

static void *
attempt_run(void *arg)
{
	struct attempt *a = arg;
	gint64 t0 = g_get_monotonic_time();

	a->rc = scangate_enter(a->gate, a->timeout_ms);
	a->took_us = g_get_monotonic_time() - t0;
	if (a->rc == 0 && a->leave)
		scangate_leave(a->gate);
	return NULL;
}

/* A full gate: the waiter gives up after its timeout, holds nothing,
 * and the slot it did not get is free once the holder leaves. */
static void
test_timeout(void **state)
{
	struct scangate *g = scangate_new(1);
	struct attempt a = { g, 100, 99, 0, FALSE };
	pthread_t th;

	(void)state;
	assert_int_equal(scangate_enter(g, 0), 0);
	assert_int_equal(pthread_create(&th, NULL, attempt_run, &a), 0);
	assert_int_equal(pthread_join(th, NULL), 0);
	if (a.rc != -1 || a.took_us < 100 * 1000)
		fail_msg("got rc %d after %lld us, want -1 after 100 ms", a.rc,
		    (long long)a.took_us);
	/* No time at all: fails at once, not queued. */
	assert_int_equal(scangate_enter(g, 0), -1);
	assert_int_equal(scangate_waiting(g), 0);
	assert_int_equal(scangate_inside(g), 1);
	scangate_leave(g);
	assert_int_equal(scangate_inside(g), 0);
	assert_int_equal(scangate_enter(g, 0), 0);
	scangate_leave(g);
	/* A leave too many opens no extra slot. */
	scangate_leave(g);
	assert_int_equal(scangate_enter(g, 0), 0);
	assert_int_equal(scangate_enter(g, 0), -1);
	scangate_leave(g);
	g = scangate_free(g);
}

/* Waiters get in in the order they came, and a newcomer asking between
 * a leave and the waiter waking does not take the slot. */
static void
test_order(void **state)
{
	struct scangate *g = scangate_new(1);
	struct attempt a[4];
	pthread_t th[4];
	int i;

	(void)state;
	assert_int_equal(scangate_enter(g, 0), 0);
	for (i = 0; i < 4; i++) {
		a[i] = (struct attempt){ g, LONG_MS, 99, 0, FALSE };
		assert_int_equal(pthread_create(&th[i], NULL, attempt_run,
		    &a[i]), 0);
		wait_for(g, scangate_waiting, i + 1);
	}
	/* Each leave (ours, then on behalf of the waiter that got in:
	 * the gate counts slots, not owners) lets the oldest waiter in;
	 * were it another, waiter i would time out and say so. */
	for (i = 0; i < 4; i++) {
		scangate_leave(g);
		assert_int_equal(scangate_enter(g, 0), -1);
		assert_int_equal(pthread_join(th[i], NULL), 0);
		if (a[i].rc != 0)
			fail_msg("waiter %d: got rc %d, want 0", i, a[i].rc);
	}
	scangate_leave(g);
	assert_int_equal(scangate_inside(g), 0);
	g = scangate_free(g);
}

/* More slots let waiters in at once; fewer keep newcomers out until the
 * holders are under the new count. */
static void
test_resize(void **state)
{
	struct scangate *g = scangate_new(0);
	struct attempt a = { g, LONG_MS, 99, 0, FALSE };
	pthread_t th;

	(void)state;
	assert_int_equal(scangate_slots(g), 1);		/* at least one */
	assert_int_equal(scangate_enter(g, 0), 0);
	assert_int_equal(pthread_create(&th, NULL, attempt_run, &a), 0);
	wait_for(g, scangate_waiting, 1);
	scangate_resize(g, 2);
	assert_int_equal(pthread_join(th, NULL), 0);
	assert_int_equal(a.rc, 0);
	assert_int_equal(scangate_inside(g), 2);

	scangate_resize(g, 1);
	scangate_leave(g);
	assert_int_equal(scangate_enter(g, 0), -1);	/* 1 inside, 1 slot */
	scangate_leave(g);
	assert_int_equal(scangate_enter(g, 0), 0);
	scangate_leave(g);
	scangate_resize(g, -5);
	assert_int_equal(scangate_slots(g), 1);
	g = scangate_free(g);
}

/* A waiter timing out while others wait: the queue behind it moves up
 * and a later leave still reaches them. */
static void
test_timeout_in_queue(void **state)
{
	struct scangate *g = scangate_new(1);
	struct attempt first = { g, 1000, 99, 0, FALSE };
	struct attempt second = { g, LONG_MS, 99, 0, TRUE };
	pthread_t t1, t2;

	(void)state;
	assert_int_equal(scangate_enter(g, 0), 0);
	assert_int_equal(pthread_create(&t1, NULL, attempt_run, &first), 0);
	wait_for(g, scangate_waiting, 1);
	assert_int_equal(pthread_create(&t2, NULL, attempt_run, &second), 0);
	wait_for(g, scangate_waiting, 2);
	assert_int_equal(pthread_join(t1, NULL), 0);
	assert_int_equal(first.rc, -1);
	assert_int_equal(scangate_waiting(g), 1);
	scangate_leave(g);
	assert_int_equal(pthread_join(t2, NULL), 0);
	assert_int_equal(second.rc, 0);
	assert_int_equal(scangate_inside(g), 0);
	assert_int_equal(scangate_waiting(g), 0);
	g = scangate_free(g);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_bound),
		cmocka_unit_test(test_timeout),
		cmocka_unit_test(test_order),
		cmocka_unit_test(test_resize),
		cmocka_unit_test(test_timeout_in_queue),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
