/*
 * sipd/mwi: the summary body (RFC 3842 5.2), the counts and their file,
 * and the subscriptions: an implicit one replaced in place, a dialog
 * refreshed and ended, expired ones dropped when taken or ended for
 * their last NOTIFY.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "sipd/mwi/mwi.h"

static void
test_body(void **state)
{
	struct mwi_counts c = { 3, 5, 1, 2 };
	char buf[MWI_BODY_MAX];
	size_t n;

	(void)state;
	n = mwi_body("alice@example.com", &c, buf, sizeof(buf));
	assert_int_equal(n, strlen(buf));
	assert_string_equal(buf, "Messages-Waiting: yes\r\n"
				 "Message-Account: sip:alice@example.com\r\n"
				 "Voice-Message: 3/5 (1/2)\r\n");
	c = (struct mwi_counts){ 0, 7, 0, 0 };
	mwi_body("bob@example.com", &c, buf, sizeof(buf));
	assert_non_null(strstr(buf, "Messages-Waiting: no\r\n"));
	assert_non_null(strstr(buf, "Voice-Message: 0/7 (0/0)\r\n"));
	/* a small buffer is cut, never overrun */
	assert_true(mwi_body("alice@example.com", &c, buf, 8) < 8);
}

static void
test_counts_file(void **state)
{
	char dir[] = "/tmp/test_mwi.XXXXXX", db[64];
	struct mwi_counts c = { 2, 4, 1, 0 }, got;
	struct mwi_row *rows = NULL;
	struct mwi *m;
	int err = 0;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(db, sizeof(db), "%s/reg.db", dir);
	m = mwi_new(db, &err);
	assert_non_null(m);
	assert_false(mwi_get(m, "alice@example.com", &got));
	assert_int_equal(got.new_msgs, 0);
	assert_int_equal(mwi_set(m, "alice@example.com", &c), 0);
	c.new_msgs = 9;
	assert_int_equal(mwi_set(m, "alice@example.com", &c), 0);
	mwi_free(m);

	m = mwi_new(db, &err);
	assert_non_null(m);
	assert_true(mwi_get(m, "alice@example.com", &got));
	assert_memory_equal(&got, &c, sizeof(c));
	assert_int_equal(mwi_list(m, NULL, 0, &rows), 1);
	assert_string_equal(rows[0].aor, "alice@example.com");
	free(rows);
	mwi_free(m);
	unlink(db);
	snprintf(db, sizeof(db), "%s/reg.db-wal", dir);
	unlink(db);
	snprintf(db, sizeof(db), "%s/reg.db-shm", dir);
	unlink(db);
	rmdir(dir);
}

static struct mwi_sub
sub(const char *aor, const char *callid, bool implicit, const char *contact,
    time_t expires)
{
	struct mwi_sub s;

	memset(&s, 0, sizeof(s));
	snprintf(s.aor, sizeof(s.aor), "%s", aor);
	snprintf(s.callid, sizeof(s.callid), "%s", callid);
	snprintf(s.local_tag, sizeof(s.local_tag), "lt-%s", callid);
	snprintf(s.remote_tag, sizeof(s.remote_tag), "rt-%s", callid);
	snprintf(s.contact, sizeof(s.contact), "%s", contact);
	s.implicit = implicit;
	s.expires = expires;
	s.cseq = 1;
	return s;
}

static void
test_subs(void **state)
{
	struct mwi *m = mwi_new(NULL, NULL);
	struct mwi_sub a = sub("alice@x", "c1", false, "", 100);
	struct mwi_sub i1 = sub("alice@x", "i1", true, "sip:a@h", 100);
	struct mwi_sub i2 = sub("alice@x", "i2", true, "sip:a@h", 200);
	struct mwi_sub *out = NULL, got;
	struct mwi_row *rows = NULL;
	time_t zero = 0, later = 300;

	(void)state;
	assert_non_null(m);
	assert_int_equal(mwi_sub_add(m, &a), 0);
	assert_int_equal(mwi_sub_add(m, &i1), 0);
	/* the same binding again: the dialog goes on, CSeq one up */
	assert_int_equal(mwi_sub_add(m, &i2), 0);
	assert_string_equal(i2.callid, "i1");
	assert_int_equal(i2.cseq, 2);
	assert_int_equal(mwi_list(m, "alice@x", 50, &rows), 1);
	assert_int_equal(rows[0].subs, 1);
	assert_int_equal(rows[0].implicit, 1);
	free(rows);

	/* a refresh by dialog, then the taking sets CSeq one up */
	assert_int_equal(mwi_sub_dialog(m, "c1", "lt-c1", "rt-c1", &later,
			     &got), 0);
	assert_int_equal(got.expires, 300);
	assert_int_equal(got.cseq, 2);
	assert_int_equal(mwi_sub_dialog(m, "c1", "lt-c1", "other", &later,
			     &got), -ENOENT);
	/* at 250 the implicit one (200) has expired: dropped */
	assert_int_equal(mwi_sub_take(m, "alice@x", 250, &out), 1);
	assert_string_equal(out[0].callid, "c1");
	assert_int_equal(out[0].cseq, 3);
	free(out);
	/* unsubscribe: filled, then gone */
	assert_int_equal(mwi_sub_dialog(m, "c1", "lt-c1", "rt-c1", &zero,
			     &got), 0);
	assert_int_equal(mwi_sub_take(m, "alice@x", 0, &out), 0);
	free(out);
	/* end by id, and implicit ones by binding */
	assert_int_equal(mwi_sub_add(m, &a), 0);
	assert_int_equal(mwi_sub_end(m, a.id), 0);
	assert_int_equal(mwi_sub_end(m, a.id), -ENOENT);
	i1 = sub("alice@x", "i3", true, "sip:b@h", 100);
	assert_int_equal(mwi_sub_add(m, &i1), 0);
	assert_int_equal(mwi_sub_drop_implicit(m, "alice@x", "sip:c@h"), 0);
	assert_int_equal(mwi_sub_drop_implicit(m, "alice@x", NULL), 1);
	/* expired: explicit ones returned for their last NOTIFY, implicit
	 * ones dropped silently, live ones kept */
	a = sub("alice@x", "e1", false, "", 10);
	i1 = sub("alice@x", "e2", true, "sip:d@h", 10);
	i2 = sub("alice@x", "e3", false, "", 500);
	assert_int_equal(mwi_sub_add(m, &a), 0);
	assert_int_equal(mwi_sub_add(m, &i1), 0);
	assert_int_equal(mwi_sub_add(m, &i2), 0);
	assert_int_equal(mwi_sub_expired(m, 20, &out), 1);
	assert_string_equal(out[0].callid, "e1");
	assert_int_equal(out[0].cseq, 2);
	free(out);
	assert_int_equal(mwi_sub_expired(m, 20, &out), 0);
	free(out);
	assert_int_equal(mwi_sub_take(m, "alice@x", 20, &out), 1);
	assert_string_equal(out[0].callid, "e3");
	free(out);
	mwi_free(m);
	mwi_free(NULL);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_body),
		cmocka_unit_test(test_counts_file),
		cmocka_unit_test(test_subs),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
