/*
 * Unit tests for the timing wheel of sipd/txn (timer.c), driven directly
 * through the private header: exact firing times, timers many revolutions
 * away, many timers at once, cancellation, re-arming from inside a
 * callback, and advances that jump over several revolutions.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "sipd/txn/txn_int.h"

#define REV_MS ((uint64_t)WHEEL_SLOTS * WHEEL_RES_MS)

struct tmr {
	struct txn_timer tm;
	int id;
	unsigned fired;
	uint64_t fired_at;
	/* re-arm this many times more, period ms after each firing */
	unsigned rearm;
	uint64_t period;
	struct tmr *victim; /* cancelled when this one fires */
};

struct rig {
	struct txn_wheel w;
	uint64_t now;
	unsigned calls;
};

static void
on_fire(void *arg, struct txn_timer *tm)
{
	struct rig *r = arg;
	struct tmr *x =
	    (struct tmr *)(void *)((char *)tm - offsetof(struct tmr, tm));

	r->calls++;
	x->fired++;
	x->fired_at = r->now;
	if (x->rearm > 0) {
		x->rearm--;
		wheel_arm(&r->w, &x->tm, r->now + x->period);
	}
	if (x->victim != NULL) {
		wheel_cancel(&r->w, &x->victim->tm);
	}
}

static void
advance(struct rig *r, uint64_t now)
{
	r->now = now;
	wheel_advance(&r->w, now, on_fire, r);
}

/* Advance one millisecond at a time up to and including until. */
static void
step_to(struct rig *r, uint64_t until)
{
	while (r->now < until) {
		advance(r, r->now + 1);
	}
}

static void
test_fires_at_due(void **state)
{
	struct rig r = {0};
	struct tmr a = {.id = 1}, b = {.id = 2}, c = {.id = 3};

	(void)state;
	wheel_init(&r.w, 0);
	assert_int_equal(r.w.count, 0);
	assert_false(timer_armed(&a.tm));
	wheel_arm(&r.w, &a.tm, 1);
	wheel_arm(&r.w, &b.tm, 500);
	wheel_arm(&r.w, &c.tm, 503); /* same 8 ms slot as 500 */
	assert_true(timer_armed(&a.tm));
	assert_int_equal(r.w.count, 3);

	step_to(&r, 499);
	assert_int_equal(a.fired, 1);
	assert_int_equal(a.fired_at, 1);
	assert_false(timer_armed(&a.tm));
	assert_int_equal(b.fired, 0);
	assert_int_equal(c.fired, 0);
	assert_int_equal(r.w.count, 2);

	step_to(&r, 500);
	assert_int_equal(b.fired, 1);
	assert_int_equal(b.fired_at, 500);
	assert_int_equal(c.fired, 0);
	step_to(&r, 502);
	assert_int_equal(c.fired, 0);
	step_to(&r, 503);
	assert_int_equal(c.fired, 1);
	assert_int_equal(c.fired_at, 503);
	assert_int_equal(r.w.count, 0);
	assert_int_equal(r.calls, 3);

	step_to(&r, 3 * REV_MS);
	assert_int_equal(r.calls, 3);
}

static void
test_far_beyond_one_revolution(void **state)
{
	struct rig r = {0};
	struct tmr c = {.id = 1}, near = {.id = 2};

	(void)state;
	/* a revolution is about 65 s; Timer C is 180 s, past two of them */
	assert_true(180000 > 2 * REV_MS);
	wheel_init(&r.w, 0);
	wheel_arm(&r.w, &c.tm, 180000);
	/* same slot index, one revolution earlier */
	wheel_arm(&r.w, &near.tm, 180000 - REV_MS);

	step_to(&r, 180000 - REV_MS - 1);
	assert_int_equal(near.fired, 0);
	step_to(&r, 180000 - REV_MS);
	assert_int_equal(near.fired, 1);
	assert_int_equal(near.fired_at, 180000 - REV_MS);
	assert_int_equal(c.fired, 0);
	step_to(&r, 179999);
	assert_int_equal(c.fired, 0);
	assert_int_equal(r.w.count, 1);
	step_to(&r, 180000);
	assert_int_equal(c.fired, 1);
	assert_int_equal(c.fired_at, 180000);
	assert_int_equal(r.w.count, 0);
}

static void
test_far_timer_coarse_steps(void **state)
{
	struct rig r = {0};
	struct tmr c = {.id = 1};

	(void)state;
	/* the owner ticks every 10 ms (not the wheel's resolution): the
	 * timer fires at the first advance at or after its due time */
	wheel_init(&r.w, 0);
	wheel_arm(&r.w, &c.tm, 180005);
	for (uint64_t t = 10; t <= 180000; t += 10) {
		advance(&r, t);
	}
	assert_int_equal(c.fired, 0);
	advance(&r, 180010);
	assert_int_equal(c.fired, 1);
	assert_int_equal(c.fired_at, 180010);
}

static void
test_many_timers(void **state)
{
	enum { N = 20000 };
	struct rig r = {0};
	struct tmr *t = calloc(N, sizeof(*t));
	uint64_t seed = 12345;
	uint64_t now = 0;

	(void)state;
	assert_non_null(t);
	wheel_init(&r.w, 0);
	for (int i = 0; i < N; i++) {
		seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
		t[i].id = i;
		/* up to 200 s: many revolutions, many per slot */
		t[i].tm.due = 1 + (seed >> 33) % 200000;
		wheel_arm(&r.w, &t[i].tm, t[i].tm.due);
	}
	assert_int_equal(r.w.count, N);
	/* advance by irregular steps of 1 to 37 ms */
	while (now < 200000) {
		seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
		now += 1 + (seed >> 33) % 37;
		advance(&r, now);
	}
	assert_int_equal(r.calls, N);
	assert_int_equal(r.w.count, 0);
	for (int i = 0; i < N; i++) {
		assert_int_equal(t[i].fired, 1);
		/* fired at the first advance at or after due: the step
		 * before it was below due */
		assert_true(t[i].fired_at >= t[i].tm.due);
		assert_true(t[i].fired_at - t[i].tm.due < 37);
	}
	free(t);
}

static void
test_many_timers_exact(void **state)
{
	enum { N = 4096 };
	struct rig r = {0};
	struct tmr *t = calloc(N, sizeof(*t));

	(void)state;
	assert_non_null(t);
	wheel_init(&r.w, 0);
	for (int i = 0; i < N; i++) {
		wheel_arm(&r.w, &t[i].tm, 1 + (uint64_t)i * 7);
	}
	step_to(&r, 1 + (uint64_t)(N - 1) * 7);
	for (int i = 0; i < N; i++) {
		assert_int_equal(t[i].fired, 1);
		assert_int_equal(t[i].fired_at, 1 + (uint64_t)i * 7);
	}
	assert_int_equal(r.w.count, 0);
	free(t);
}

static void
test_cancel(void **state)
{
	struct rig r = {0};
	struct tmr a = {.id = 1}, b = {.id = 2}, c = {.id = 3};

	(void)state;
	wheel_init(&r.w, 0);
	/* cancelling an idle timer does nothing */
	wheel_cancel(&r.w, &a.tm);
	assert_int_equal(r.w.count, 0);

	wheel_arm(&r.w, &a.tm, 100);
	wheel_arm(&r.w, &b.tm, 100);
	wheel_arm(&r.w, &c.tm, 100 + 3 * REV_MS);
	wheel_cancel(&r.w, &a.tm);
	assert_false(timer_armed(&a.tm));
	assert_int_equal(r.w.count, 2);
	wheel_cancel(&r.w, &a.tm); /* twice: still fine */
	assert_int_equal(r.w.count, 2);
	wheel_cancel(&r.w, &c.tm);
	assert_int_equal(r.w.count, 1);

	step_to(&r, 100 + 4 * REV_MS);
	assert_int_equal(a.fired, 0);
	assert_int_equal(b.fired, 1);
	assert_int_equal(c.fired, 0);
	assert_int_equal(r.w.count, 0);
}

static void
test_cancel_from_callback(void **state)
{
	struct rig r = {0};
	struct tmr a = {.id = 1}, b = {.id = 2}, c = {.id = 3};

	(void)state;
	/* a and b are due in the same slot at the same time and each
	 * cancels the other: whichever runs first, the other must not */
	wheel_init(&r.w, 0);
	a.victim = &b;
	b.victim = &a;
	wheel_arm(&r.w, &a.tm, 40);
	wheel_arm(&r.w, &b.tm, 40);
	/* c, due later in another slot, is cancelled by a or b too */
	wheel_arm(&r.w, &c.tm, 41 + REV_MS);
	advance(&r, 40);
	assert_int_equal(a.fired + b.fired, 1);
	assert_int_equal(r.calls, 1);
	assert_int_equal(r.w.count, 1);
	assert_false(timer_armed(&a.tm));
	assert_false(timer_armed(&b.tm));
	step_to(&r, 41 + REV_MS);
	assert_int_equal(c.fired, 1);
	assert_int_equal(r.calls, 2);
	assert_int_equal(r.w.count, 0);
}

static void
test_rearm_from_callback(void **state)
{
	struct rig r = {0};
	struct tmr p = {.id = 1, .rearm = 9, .period = 1000};
	struct tmr q = {.id = 2, .rearm = 3, .period = REV_MS};

	(void)state;
	wheel_init(&r.w, 0);
	wheel_arm(&r.w, &p.tm, 1000);
	wheel_arm(&r.w, &q.tm, 8); /* re-armed into its own slot */
	step_to(&r, 9999);
	assert_int_equal(p.fired, 9);
	assert_int_equal(p.fired_at, 9000);
	step_to(&r, 10000);
	assert_int_equal(p.fired, 10);
	assert_int_equal(p.fired_at, 10000);
	assert_false(timer_armed(&p.tm));
	step_to(&r, 8 + 2 * REV_MS);

	/* q fired at 8, then every revolution exactly */
	assert_int_equal(q.fired, 3);
	assert_int_equal(q.fired_at, 8 + 2 * REV_MS);
	step_to(&r, 8 + 3 * REV_MS);
	assert_int_equal(q.fired, 4);
	assert_int_equal(q.fired_at, 8 + 3 * REV_MS);
	assert_int_equal(r.w.count, 0);
}

static void
test_rearm_in_callback_never_refires_same_advance(void **state)
{
	struct rig r = {0};
	struct tmr p = {.id = 1, .rearm = 100, .period = 0};

	(void)state;
	/* re-armed for "now" inside its callback: it must wait for the next
	 * advance, not loop inside this one */
	wheel_init(&r.w, 0);
	wheel_arm(&r.w, &p.tm, 5);
	advance(&r, 5);
	assert_int_equal(p.fired, 1);
	assert_true(timer_armed(&p.tm));
	assert_int_equal(p.tm.due, 6);
	advance(&r, 6);
	assert_int_equal(p.fired, 2);
	advance(&r, 100);
	assert_int_equal(p.fired, 3);
}

static void
test_jump_several_revolutions(void **state)
{
	struct rig r = {0};
	struct tmr t[6] = {{.id = 0}};
	uint64_t due[6] = {3,          2000,      REV_MS + 5, 3 * REV_MS + 100,
	                   5 * REV_MS, 9 * REV_MS};

	(void)state;
	wheel_init(&r.w, 0);
	for (int i = 0; i < 6; i++) {
		wheel_arm(&r.w, &t[i].tm, due[i]);
	}
	/* one jump of five revolutions: everything due by then fires once */
	advance(&r, 5 * REV_MS);
	for (int i = 0; i < 5; i++) {
		assert_int_equal(t[i].fired, 1);
		assert_int_equal(t[i].fired_at, 5 * REV_MS);
	}
	assert_int_equal(t[5].fired, 0);
	assert_int_equal(r.w.count, 1);
	/* another jump lands one millisecond short, then on time */
	advance(&r, 9 * REV_MS - 1);
	assert_int_equal(t[5].fired, 0);
	advance(&r, 9 * REV_MS);
	assert_int_equal(t[5].fired, 1);
	assert_int_equal(r.calls, 6);
	assert_int_equal(r.w.count, 0);
}

static void
test_jump_from_late_origin(void **state)
{
	struct rig r = {0};
	struct tmr a = {.id = 1}, b = {.id = 2};
	uint64_t base = 1000000007ULL;

	(void)state;
	/* a monotonic clock that does not start at 0 */
	wheel_init(&r.w, base);
	r.now = base;
	wheel_arm(&r.w, &a.tm, base + 32000);
	wheel_arm(&r.w, &b.tm, base + 180000);
	advance(&r, base + 31999);
	assert_int_equal(a.fired, 0);
	advance(&r, base + 32000);
	assert_int_equal(a.fired, 1);
	advance(&r, base + 179999);
	assert_int_equal(b.fired, 0);
	advance(&r, base + 1000000);
	assert_int_equal(b.fired, 1);
	assert_int_equal(b.fired_at, base + 1000000);
}

static void
test_arm_in_past_and_rearm(void **state)
{
	struct rig r = {0};
	struct tmr a = {.id = 1};

	(void)state;
	wheel_init(&r.w, 0);
	advance(&r, 1000);
	/* due before the wheel's done time: fires at the next advance */
	wheel_arm(&r.w, &a.tm, 10);
	assert_int_equal(a.tm.due, 1001);
	advance(&r, 1000); /* no progress, nothing runs */
	assert_int_equal(a.fired, 0);
	advance(&r, 1001);
	assert_int_equal(a.fired, 1);

	/* re-arming moves the timer: counted once, fires once, late */
	wheel_arm(&r.w, &a.tm, 1100);
	wheel_arm(&r.w, &a.tm, 1100 + 2 * REV_MS);
	assert_int_equal(r.w.count, 1);
	step_to(&r, 1099 + 2 * REV_MS);
	assert_int_equal(a.fired, 1);
	step_to(&r, 1100 + 2 * REV_MS);
	assert_int_equal(a.fired, 2);
	assert_int_equal(r.w.count, 0);
}

/* wheel_next(): never later than the first due timer, at most limit. */
static void
test_next_due(void **state)
{
	struct rig r = {0};
	struct tmr a = {.id = 1}, far = {.id = 2}, lap = {.id = 3};

	(void)state;
	wheel_init(&r.w, 0);
	assert_int_equal(wheel_next(&r.w, 1000), 1000);

	wheel_arm(&r.w, &a.tm, 500);
	assert_true(wheel_next(&r.w, 1000) <= 500);
	assert_true(wheel_next(&r.w, 1000) > 500 - WHEEL_RES_MS);
	assert_int_equal(wheel_next(&r.w, 100), 100);

	/* in a.tm's slot, not yet due: the next is within that slot */
	advance(&r, 497);
	assert_int_equal(a.fired, 0);
	assert_true(wheel_next(&r.w, 1000) > 497);
	assert_true(wheel_next(&r.w, 1000) <= 500);
	advance(&r, 500);
	assert_int_equal(a.fired, 1);

	/* far away: the limit */
	wheel_arm(&r.w, &far.tm, 32500);
	assert_int_equal(wheel_next(&r.w, 1500), 1500);
	assert_true(wheel_next(&r.w, 40000) <= 32500);

	/* a revolution later in a nearer slot: early, never late */
	wheel_arm(&r.w, &lap.tm, 600 + REV_MS);
	assert_true(wheel_next(&r.w, 1000) <= 600 + REV_MS);
	assert_true(wheel_next(&r.w, 1000) >= 600 - WHEEL_RES_MS);
	wheel_cancel(&r.w, &lap.tm);
	wheel_cancel(&r.w, &far.tm);
	assert_int_equal(wheel_next(&r.w, 2000), 2000);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_fires_at_due),
	    cmocka_unit_test(test_far_beyond_one_revolution),
	    cmocka_unit_test(test_far_timer_coarse_steps),
	    cmocka_unit_test(test_many_timers),
	    cmocka_unit_test(test_many_timers_exact),
	    cmocka_unit_test(test_cancel),
	    cmocka_unit_test(test_cancel_from_callback),
	    cmocka_unit_test(test_rearm_from_callback),
	    cmocka_unit_test(test_rearm_in_callback_never_refires_same_advance),
	    cmocka_unit_test(test_jump_several_revolutions),
	    cmocka_unit_test(test_jump_from_late_origin),
	    cmocka_unit_test(test_arm_in_past_and_rearm),
	    cmocka_unit_test(test_next_due),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
