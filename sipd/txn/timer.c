/*
 * The timing wheel that drives every transaction timer.  Transactions
 * share a handful of durations (T1 doublings, 64*T1, T4), so a wheel of
 * slots of a few milliseconds makes arming and cancelling O(1) with the
 * timer embedded in its transaction: no allocation and no heap operation
 * per retransmission.  Timers further out than one revolution stay in
 * their slot and are skipped until their turn comes round.
 */
#include "sipd/txn/txn_int.h"

static struct txn_timer *
slot_for(struct txn_wheel *w, uint64_t due)
{
	return &w->slots[(due / WHEEL_RES_MS) % WHEEL_SLOTS];
}

void
wheel_init(struct txn_wheel *w, uint64_t now)
{
	for (size_t i = 0; i < WHEEL_SLOTS; i++) {
		w->slots[i].next = w->slots[i].prev = &w->slots[i];
	}
	w->done_ms = now;
	w->count = 0;
}

static void
link_into(struct txn_timer *head, struct txn_timer *tm)
{
	tm->prev = head->prev;
	tm->next = head;
	head->prev->next = tm;
	head->prev = tm;
}

static void
unlink_timer(struct txn_timer *tm)
{
	tm->prev->next = tm->next;
	tm->next->prev = tm->prev;
	tm->next = tm->prev = NULL;
}

void
wheel_cancel(struct txn_wheel *w, struct txn_timer *tm)
{
	if (timer_armed(tm)) {
		unlink_timer(tm);
		w->count--;
	}
}

void
wheel_arm(struct txn_wheel *w, struct txn_timer *tm, uint64_t due)
{
	wheel_cancel(w, tm);
	/* a timer due in the past fires at the next advance */
	if (due <= w->done_ms) {
		due = w->done_ms + 1;
	}
	tm->due = due;
	link_into(slot_for(w, due), tm);
	w->count++;
}

/* Fire the timers of one slot that are due by now. */
static void
run_slot(struct txn_wheel *w, struct txn_timer *head, uint64_t now,
    void (*fn)(void *arg, struct txn_timer *tm), void *arg)
{
	struct txn_timer pending;

	/* detach the slot, so timers armed by callbacks land safely */
	if (head->next == head) {
		return;
	}
	pending.next = head->next;
	pending.prev = head->prev;
	pending.next->prev = &pending;
	pending.prev->next = &pending;
	head->next = head->prev = head;

	while (pending.next != &pending) {
		struct txn_timer *tm = pending.next;
		unlink_timer(tm);
		if (tm->due <= now) {
			w->count--;
			fn(arg, tm);
		} else {
			link_into(head, tm);
		}
	}
}

void
wheel_advance(struct txn_wheel *w, uint64_t now,
    void (*fn)(void *arg, struct txn_timer *tm), void *arg)
{
	if (now <= w->done_ms) {
		return;
	}
	uint64_t from = w->done_ms / WHEEL_RES_MS + 1;
	uint64_t to = now / WHEEL_RES_MS;
	if (w->done_ms % WHEEL_RES_MS != WHEEL_RES_MS - 1) {
		from--; /* the slot done_ms is in may hold later timers */
	}
	if (to - from >= WHEEL_SLOTS) {
		from = to - WHEEL_SLOTS + 1;
	}
	w->done_ms = now;
	for (uint64_t s = from; s <= to; s++) {
		run_slot(w, &w->slots[s % WHEEL_SLOTS], now, fn, arg);
	}
}

uint64_t
wheel_next(const struct txn_wheel *w, uint64_t limit)
{
	/* a slot's timers are due at its start or later (a revolution
	 * later for some): the first slot holding one bounds them all */
	uint64_t s = w->done_ms / WHEEL_RES_MS;
	uint64_t last = limit / WHEEL_RES_MS;

	if (w->count == 0) {
		return limit;
	}
	if (last - s >= WHEEL_SLOTS) {
		last = s + WHEEL_SLOTS - 1;
	}
	for (; s <= last; s++) {
		const struct txn_timer *head = &w->slots[s % WHEEL_SLOTS];

		if (head->next != head) {
			uint64_t at = s * WHEEL_RES_MS;

			return at > w->done_ms ? at : w->done_ms + 1;
		}
	}
	return limit;
}
