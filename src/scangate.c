/* scangate.c - a counting gate with a queue of waiters (see scangate.h).
 *
 * A holder that leaves hands its slot straight to the longest waiter
 * (marks it granted and counts it inside), so a newcomer cannot slip in
 * ahead of the queue, and a waiter's wait depends on those ahead of it,
 * not on luck: the oldest message is the one nearest its MTA's timeout.
 * Each waiter sleeps on a condition of its own, so a leave wakes one
 * thread, not all of them.
 *
 * Owns its lock and queue; a waiter's record lives on its own stack
 * while it waits.  Never fails. */
#include "config.h"

#include <glib.h>

#include "scangate.h"

struct scangate_waiter {
	GCond		 cond;
	gboolean	 granted;	/* given a slot by scangate_grant */
	GList		 link;		/* in the gate's queue; data = self */
};

struct scangate {
	GMutex		 lock;
	int		 slots;
	int		 inside;	/* holders, granted waiters included */
	GQueue		 waiters;	/* oldest first */
};

static int
scangate_clip(int slots)
{
	return slots < 1 ? 1 : slots;
}

/* Hands the free slots to the longest waiters.  Called locked. */
static void
scangate_grant(struct scangate *g)
{
	struct scangate_waiter *w;
	GList *l;

	while (g->inside < g->slots &&
	    (l = g_queue_pop_head_link(&g->waiters)) != NULL) {
		w = l->data;
		w->granted = TRUE;
		g->inside++;
		g_cond_signal(&w->cond);
	}
}

struct scangate *
scangate_new(int slots)
{
	struct scangate *g = g_new0(struct scangate, 1);

	g_mutex_init(&g->lock);
	g_queue_init(&g->waiters);
	g->slots = scangate_clip(slots);
	return g;
}

struct scangate *
scangate_free(struct scangate *g)
{
	if (g == NULL)
		return NULL;
	g_mutex_clear(&g->lock);
	g_free(g);
	return NULL;
}

void
scangate_resize(struct scangate *g, int slots)
{
	g_mutex_lock(&g->lock);
	g->slots = scangate_clip(slots);
	scangate_grant(g);
	g_mutex_unlock(&g->lock);
}

int
scangate_enter(struct scangate *g, int timeout_ms)
{
	struct scangate_waiter w;
	gint64 until;
	int rc = 0;

	g_mutex_lock(&g->lock);
	if (g->inside < g->slots && g_queue_is_empty(&g->waiters)) {
		g->inside++;
		g_mutex_unlock(&g->lock);
		return 0;
	}
	/* Monotonic: setting the clock neither cuts nor stretches it. */
	until = g_get_monotonic_time() +
	    (gint64)(timeout_ms > 0 ? timeout_ms : 0) * G_TIME_SPAN_MILLISECOND;
	g_cond_init(&w.cond);
	w.granted = FALSE;
	w.link.data = &w;
	w.link.prev = w.link.next = NULL;
	g_queue_push_tail_link(&g->waiters, &w.link);
	while (!w.granted)
		if (!g_cond_wait_until(&w.cond, &g->lock, until))
			break;
	/* A slot granted as the time ran out is kept: the leaver has
	 * counted it inside already. */
	if (!w.granted) {
		g_queue_unlink(&g->waiters, &w.link);
		rc = -1;
	}
	g_mutex_unlock(&g->lock);
	g_cond_clear(&w.cond);
	return rc;
}

void
scangate_leave(struct scangate *g)
{
	g_mutex_lock(&g->lock);
	/* A leave without an enter is a bug; it must not open a slot no
	 * one gave back. */
	if (g->inside > 0)
		g->inside--;
	scangate_grant(g);
	g_mutex_unlock(&g->lock);
}

int
scangate_slots(struct scangate *g)
{
	int n;

	g_mutex_lock(&g->lock);
	n = g->slots;
	g_mutex_unlock(&g->lock);
	return n;
}

int
scangate_inside(struct scangate *g)
{
	int n;

	g_mutex_lock(&g->lock);
	n = g->inside;
	g_mutex_unlock(&g->lock);
	return n;
}

int
scangate_waiting(struct scangate *g)
{
	int n;

	g_mutex_lock(&g->lock);
	n = (int)g_queue_get_length(&g->waiters);
	g_mutex_unlock(&g->lock);
	return n;
}
