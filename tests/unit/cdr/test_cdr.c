/*
 * Unit tests for the call table and the call records (sipd/cdr).
 *
 * What each bad input gets: a From with a comma and double quotes is
 * quoted in the CSV with its quotes doubled (RFC 4180); control bytes
 * from the wire (CR, LF) are written as '?', so a record stays one
 * line; a value over CDR_FIELD_MAX is cut.  A BYE whose tags match no
 * call, a final response to an unknown call, a second INVITE with the
 * same key: nothing written, nothing changed (-EEXIST for the INVITE).
 * A journal line cut by a crash is ignored.  A records file in a
 * missing directory: -ENOENT with a message, the settings unchanged.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#include "sipd/cdr/cdr.h"
#include "sipd/cdr/cdr_int.h"

#define SV(s) ((struct cdr_sv){ (s), sizeof(s) - 1 })
#define SVS(s) ((struct cdr_sv){ (s), strlen(s) })

struct fx {
	char dir[64];
	char path[128];
	struct cdr *d;
	struct cdr_settings set;
};

static int
setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	snprintf(f->dir, sizeof(f->dir), "/tmp/cdrunit-XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	snprintf(f->path, sizeof(f->path), "%s/cdr.csv", f->dir);
	f->d = cdr_new();
	assert_non_null(f->d);
	f->set.on = true;
	snprintf(f->set.path, sizeof(f->set.path), "%s", f->path);
	f->set.dialog_timeout_s = 60;
	*state = f;
	return 0;
}

static void
rm(const char *dir, const char *name)
{
	char p[256];

	snprintf(p, sizeof(p), "%s/%s", dir, name);
	unlink(p);
}

static int
teardown(void **state)
{
	struct fx *f = *state;
	static const char *const names[] = { "cdr.csv", "cdr.csv.open",
		"cdr.csv.open.tmp", "cdr.csv.1", "cdr.csv.2", "other.csv",
		"other.csv.open" };

	cdr_free(f->d);
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		rm(f->dir, names[i]);
	}
	rmdir(f->dir);
	free(f);
	return 0;
}

/* The whole of a file, NUL-terminated (the caller frees it). */
static char *
slurp(const char *path)
{
	FILE *fp = fopen(path, "r");
	char *buf = calloc(1, 1 << 20);
	size_t n;

	assert_non_null(buf);
	if (fp == NULL) {
		return buf;
	}
	n = fread(buf, 1, (1 << 20) - 1, fp);
	buf[n] = '\0';
	fclose(fp);
	return buf;
}

static int
lines(const char *text)
{
	int n = 0;

	for (const char *p = text; *p != '\0'; p++) {
		n += *p == '\n';
	}
	return n;
}

static void
start(struct cdr *d, const char *cid, const char *tag, const char *from)
{
	struct cdr_start s = {
		.call_id = SVS(cid),
		.from_tag = SVS(tag),
		.from = SVS(from),
		.to = SV("<sip:bob@example.com>"),
		.ruri = SV("sip:bob@192.0.2.4"),
		.source = "udp:192.0.2.1:5060",
		.user = "",
		.gateway = "",
	};

	assert_int_equal(cdr_invite(d, &s, 1000), 0);
}

static void
test_quoting(void **state)
{
	struct fx *f = *state;
	char *text;

	assert_int_equal(cdr_configure(f->d, &f->set, NULL, 0), 0);
	start(f->d, "c1", "t1", "\"Doe, John\" <sip:j@x>;tag=t1");
	start(f->d, "c2\r\nx", "t2", "a");
	assert_int_equal(cdr_invite(f->d, &(struct cdr_start){
		.call_id = SV("c1"), .from_tag = SV("t1"), .from = SV("x"),
		.to = SV(""), .ruri = SV(""), .source = "", .user = "",
		.gateway = "" }, 2000), -EEXIST);
	cdr_final(f->d, SV("c1"), SV("t1"), SV("cb"), 200, false, 2000);
	/* the callee's BYE: its To tag is the caller's */
	cdr_in_dialog(f->d, SV("c1"), SV("cb"), SV("t1"), true, 5500);
	cdr_final(f->d, SV("c2\r\nx"), SV("t2"), SV(""), 486, false, 3000);
	/* nothing of these */
	cdr_in_dialog(f->d, SV("c9"), SV("x"), SV("y"), true, 6000);
	cdr_final(f->d, SV("c9"), SV("x"), SV(""), 200, false, 6000);
	text = slurp(f->path);
	assert_string_equal(text,
	    "call_id,from,to,request_uri,source,user,gateway,invite_time,"
	    "answer_time,end_time,duration,status,hangup\n"
	    "c1,\"\"\"Doe, John\"\" <sip:j@x>;tag=t1\",<sip:bob@example.com>,"
	    "sip:bob@192.0.2.4,udp:192.0.2.1:5060,,,1970-01-01T00:00:01.000Z,"
	    "1970-01-01T00:00:02.000Z,1970-01-01T00:00:05.500Z,3.500,200,"
	    "callee-bye\n"
	    "c2??x,a,<sip:bob@example.com>,sip:bob@192.0.2.4,"
	    "udp:192.0.2.1:5060,,,1970-01-01T00:00:01.000Z,,"
	    "1970-01-01T00:00:03.000Z,0.000,486,rejected\n");
	free(text);
}

/*
 * cdr_copy() looks at eight bytes a step: every byte value, at every
 * place of texts of 0 to 40 bytes, clipped or not, gives what a byte by
 * byte copy gives (a control byte, or 0x7f, as '?', the rest as it is).
 */
static void
test_copy_bytes(void **state)
{
	char in[48], out[48], want[48];

	(void)state;
	for (size_t len = 0; len <= 40; len++) {
		for (size_t at = 0; at < len || (len == 0 && at == 0); at++) {
			for (int b = 0; b < 256; b++) {
				size_t cap = (len + b) % 3 == 0 ? len / 2 + 1
								: sizeof(out);
				size_t n = len < cap - 1 ? len : cap - 1;

				memset(in, 'a', sizeof(in));
				if (len > 0) {
					in[at] = (char)b;
				}
				for (size_t i = 0; i < n; i++) {
					unsigned char ch = (unsigned char)in[i];
					want[i] = ch < 0x20 || ch == 0x7f
					    ? '?'
					    : (char)ch;
				}
				want[n] = '\0';
				memset(out, 'x', sizeof(out));
				cdr_copy(out, cap, in, len);
				assert_memory_equal(out, want, n + 1);
			}
		}
	}
}

static void
test_clip(void **state)
{
	struct fx *f = *state;
	char big[1000], *text, *line;

	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	assert_int_equal(cdr_configure(f->d, &f->set, NULL, 0), 0);
	start(f->d, "c1", "t1", big);
	cdr_final(f->d, SV("c1"), SV("t1"), SV(""), 603, true, 2000);
	text = slurp(f->path);
	line = strchr(text, '\n') + 1;
	/* "c1," then the From cut to CDR_FIELD_MAX - 1 bytes */
	assert_int_equal(strspn(line + 3, "a"), CDR_FIELD_MAX - 1);
	assert_non_null(strstr(line, ",603,cancel\n"));
	free(text);
}

/* A crash (the table freed, the journal left) and a restart. */
static void
test_interrupted(void **state)
{
	struct fx *f = *state;
	char jpath[160], *text;
	struct cdr_stats st;
	int fd;

	assert_int_equal(cdr_configure(f->d, &f->set, NULL, 0), 0);
	start(f->d, "up", "t1", "<sip:a@x>");
	cdr_final(f->d, SV("up"), SV("t1"), SV("cb"), 200, false, 2000);
	start(f->d, "ringing", "t2", "<sip:a@x>");
	start(f->d, "done", "t3", "<sip:a@x>");
	cdr_final(f->d, SV("done"), SV("t3"), SV(""), 404, false, 2000);
	cdr_free(f->d);
	/* a line the crash cut in half */
	snprintf(jpath, sizeof(jpath), "%s.open", f->path);
	fd = open(jpath, O_WRONLY | O_APPEND);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "+,half", 6), 6);
	close(fd);

	f->d = cdr_new();
	assert_int_equal(cdr_configure(f->d, &f->set, NULL, 0), 0);
	text = slurp(f->path);
	assert_int_equal(lines(text), 4);
	assert_non_null(strstr(text, "\ndone,"));
	assert_non_null(strstr(text, "\nup,"));
	assert_non_null(strstr(text, "1970-01-01T00:00:02.000Z,20"));
	assert_non_null(strstr(text, ",200,interrupted\n"));
	assert_non_null(strstr(text, "\nringing,"));
	assert_non_null(strstr(text, ",0,interrupted\n"));
	free(text);
	cdr_get_stats(f->d, &st);
	assert_int_equal(st.records, 2);
	assert_int_equal(st.calls, 0);
	/* closed once: a second start writes nothing more */
	cdr_free(f->d);
	f->d = cdr_new();
	assert_int_equal(cdr_configure(f->d, &f->set, NULL, 0), 0);
	text = slurp(f->path);
	assert_int_equal(lines(text), 4);
	free(text);
}

/* Many calls: the journal is compacted, and still right after. */
static void
test_compact(void **state)
{
	struct fx *f = *state;
	char cid[32], jpath[160], *text;
	struct stat sb;

	assert_int_equal(cdr_configure(f->d, &f->set, NULL, 0), 0);
	start(f->d, "long", "t", "<sip:a@x>");
	cdr_final(f->d, SV("long"), SV("t"), SV("cb"), 200, false, 2000);
	for (int i = 0; i < 3000; i++) {
		snprintf(cid, sizeof(cid), "c%d", i);
		start(f->d, cid, "t", "<sip:a@x>");
		cdr_final(f->d, SVS(cid), SV("t"), SV(""), 486, false, 2000);
	}
	snprintf(jpath, sizeof(jpath), "%s.open", f->path);
	assert_int_equal(stat(jpath, &sb), 0);
	/* at most 2 x calls + 1024 lines of about 100 bytes */
	assert_true(sb.st_size < 1100 * 120);
	cdr_free(f->d);
	f->d = cdr_new();
	assert_int_equal(cdr_configure(f->d, &f->set, NULL, 0), 0);
	text = slurp(f->path);
	assert_int_equal(lines(text), 1 + 3000 + 1);
	assert_non_null(strstr(text, "\nlong,"));
	assert_non_null(strstr(text, ",200,interrupted\n"));
	free(text);
}

static void
test_timeout_and_list(void **state)
{
	struct fx *f = *state;
	struct cdr_info *v = NULL;
	char *text;

	f->set.dialog_timeout_s = 10;
	assert_int_equal(cdr_configure(f->d, &f->set, NULL, 0), 0);
	start(f->d, "c1", "t1", "<sip:a@x>");
	cdr_final(f->d, SV("c1"), SV("t1"), SV("cb"), 200, false, 2000);
	start(f->d, "c2", "t2", "<sip:a@x>");
	assert_int_equal(cdr_list(f->d, false, 10, &v), 2);
	assert_string_equal(v[0].call_id, "c1");
	assert_true(v[0].answered);
	assert_string_equal(v[0].to_tag, "cb");
	assert_false(v[1].answered);
	free(v);
	assert_int_equal(cdr_list(f->d, true, 10, &v), 1);
	assert_string_equal(v[0].call_id, "c1");
	free(v);
	/* a re-INVITE at 9 s keeps c1 alive past 11 s */
	cdr_in_dialog(f->d, SV("c1"), SV("t1"), SV("cb"), false, 9000);
	cdr_tick(f->d, 11500);
	assert_int_equal(cdr_list(f->d, false, 10, &v), 1);
	assert_string_equal(v[0].call_id, "c1");
	free(v);
	cdr_tick(f->d, 19000);
	assert_int_equal(cdr_list(f->d, false, 10, &v), 0);
	free(v);
	text = slurp(f->path);
	assert_non_null(strstr(text, "\nc2,"));
	assert_non_null(strstr(text, ",0,timeout\n"));
	assert_non_null(strstr(text, ",17.000,200,timeout\n"));
	free(text);
}

static void
test_rotate_and_bad_path(void **state)
{
	struct fx *f = *state;
	struct cdr_settings bad;
	char p1[160], err[256], *text;

	f->set.rotate_size = 200;
	assert_int_equal(cdr_configure(f->d, &f->set, NULL, 0), 0);
	start(f->d, "c1", "t", "<sip:a@x>");
	cdr_final(f->d, SV("c1"), SV("t"), SV(""), 486, false, 2000);
	start(f->d, "c2", "t", "<sip:a@x>");
	cdr_final(f->d, SV("c2"), SV("t"), SV(""), 486, false, 2000);
	snprintf(p1, sizeof(p1), "%s.1", f->path);
	text = slurp(p1);
	assert_int_equal(lines(text), 2);
	assert_non_null(strstr(text, "\nc1,"));
	free(text);
	text = slurp(f->path);
	assert_int_equal(lines(text), 2);
	assert_non_null(strstr(text, "\nc2,"));
	free(text);

	bad = f->set;
	snprintf(bad.path, sizeof(bad.path), "%s/none/x.csv", f->dir);
	assert_int_equal(cdr_configure(f->d, &bad, err, sizeof(err)),
	    -ENOENT);
	assert_non_null(strstr(err, "cannot open the call records file"));
	/* still on the old file */
	start(f->d, "c3", "t", "<sip:a@x>");
	cdr_final(f->d, SV("c3"), SV("t"), SV(""), 486, false, 2000);
	text = slurp(f->path);
	assert_non_null(strstr(text, "\nc3,"));
	free(text);
	/* off: a bad path is refused too, a good one kept for later */
	bad.on = false;
	assert_int_equal(cdr_configure(f->d, &bad, err, sizeof(err)),
	    -ENOENT);
	f->set.on = false;
	assert_int_equal(cdr_configure(f->d, &f->set, err, sizeof(err)), 0);
	assert_false(cdr_tracking(f->d));
	assert_int_equal(cdr_rotate(f->d, err, sizeof(err)), -ENOENT);
}

/* Two threads: one starts and answers calls, the other ends them. */
struct race {
	struct cdr *d;
	int n;
};

static void *
ender(void *arg)
{
	struct race *r = arg;
	char cid[32];

	for (int i = 0; i < r->n; i++) {
		snprintf(cid, sizeof(cid), "r%d", i);
		for (int k = 0; k < 100000; k++) {
			struct cdr_info *v = NULL;
			int n = cdr_list(r->d, true, 100000, &v);
			bool seen = false;
			for (int j = 0; j < n; j++) {
				seen |= strcmp(v[j].call_id, cid) == 0;
			}
			free(v);
			if (seen) {
				break;
			}
			usleep(10);
		}
		cdr_in_dialog(r->d, SVS(cid), SV("cb"), SV("t"), true, 5000);
	}
	return NULL;
}

static void
test_threads(void **state)
{
	struct fx *f = *state;
	struct race r = { f->d, 300 };
	struct cdr_stats st;
	pthread_t t;
	char cid[32], *text;

	assert_int_equal(cdr_configure(f->d, &f->set, NULL, 0), 0);
	assert_int_equal(pthread_create(&t, NULL, ender, &r), 0);
	for (int i = 0; i < r.n; i++) {
		snprintf(cid, sizeof(cid), "r%d", i);
		start(f->d, cid, "t", "<sip:a@x>");
		cdr_final(f->d, SVS(cid), SV("t"), SV("cb"), 200, false, 2000);
	}
	pthread_join(t, NULL);
	cdr_get_stats(f->d, &st);
	assert_int_equal(st.records, 300);
	assert_int_equal(st.calls, 0);
	text = slurp(f->path);
	assert_int_equal(lines(text), 301);
	free(text);
}

/*
 * A call named by its id (cdr_invite_id(), cdr_final_id()): a second
 * INVITE with the same key gets the id of the call in progress; a final
 * response by id ends that call; an id whose call has ended names
 * nothing, not even a later call with the same Call-ID and From tag; 0
 * names nothing.
 */
static void
test_ids(void **state)
{
	struct fx *f = *state;
	struct cdr_start s = {
		.call_id = SV("c1"), .from_tag = SV("t1"), .from = SV("a"),
		.to = SV("b"), .ruri = SV("sip:b@192.0.2.4"),
		.source = "udp:192.0.2.1:5060", .user = "", .gateway = "",
	};
	uint64_t id1, id2, id3, other;
	struct cdr_info *info;
	char *text;

	assert_int_equal(cdr_configure(f->d, &f->set, NULL, 0), 0);
	assert_int_equal(cdr_invite_id(f->d, &s, 1000, &id1), 0);
	assert_true(id1 != 0);
	assert_int_equal(cdr_invite_id(f->d, &s, 1500, &id2), -EEXIST);
	assert_true(id2 == id1);
	s.call_id = SV("c2");
	assert_int_equal(cdr_invite_id(f->d, &s, 1600, &other), 0);
	assert_true(other != 0 && other != id1);
	cdr_final_id(f->d, 0, SV(""), 486, false, 1700);
	cdr_final_id(f->d, id1, SV(""), 486, false, 2000);
	/* c1 ended; c2 untouched */
	assert_int_equal(cdr_list(f->d, false, 10, &info), 1);
	assert_string_equal(info[0].call_id, "c2");
	free(info);
	/* the same key again: a new call, a new id; the old id is spent */
	s.call_id = SV("c1");
	assert_int_equal(cdr_invite_id(f->d, &s, 3000, &id3), 0);
	assert_true(id3 != 0 && id3 != id1);
	cdr_final_id(f->d, id1, SV("x"), 200, false, 3500);
	assert_int_equal(cdr_list(f->d, true, 10, &info), 0);
	free(info);
	cdr_final_id(f->d, id3, SV("cb"), 200, false, 4000);
	assert_int_equal(cdr_list(f->d, true, 10, &info), 1);
	assert_string_equal(info[0].call_id, "c1");
	assert_string_equal(info[0].to_tag, "cb");
	free(info);
	text = slurp(f->path);
	assert_int_equal(lines(text), 2);
	assert_non_null(strstr(text, "\nc1,a,b,"));
	free(text);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_quoting, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ids, setup, teardown),
		cmocka_unit_test(test_copy_bytes),
		cmocka_unit_test_setup_teardown(test_clip, setup, teardown),
		cmocka_unit_test_setup_teardown(test_interrupted, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_compact, setup, teardown),
		cmocka_unit_test_setup_teardown(test_timeout_and_list, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_rotate_and_bad_path, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_threads, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
