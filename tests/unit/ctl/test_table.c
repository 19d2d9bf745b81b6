/*
 * The listing of a table kept as rows (sipd/ctl/table.c,
 * ctl_table_pack_row()): "T list" shows what "T add" put in, each listed
 * field of the declaration under its name and of its declared type, in
 * the declared order, and nothing else; a secret is itself for a writer,
 * "hidden" for a reader, "" when unset; a domain's row lists every one
 * of its aliases, at their longest.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "proto/table.h"
#include "sipd/conf.h"
#include "sipd/ctl/ctl_int.h"

/* The map ctl_table_pack_row() writes for row, unpacked into up. */
static const msgpack_object_map *
pack_at(msgpack_unpacked *up, msgpack_sbuffer *sb, const struct tbl *t,
    const void *row, int place, bool writer)
{
	msgpack_packer pk;
	size_t off = 0;

	msgpack_sbuffer_init(sb);
	msgpack_packer_init(&pk, sb, msgpack_sbuffer_write);
	ctl_table_pack_row(&pk, t, row, place, writer);
	msgpack_unpacked_init(up);
	assert_int_equal(msgpack_unpack_next(up, sb->data, sb->size, &off),
	    MSGPACK_UNPACK_SUCCESS);
	assert_int_equal(off, sb->size);
	assert_int_equal(up->data.type, MSGPACK_OBJECT_MAP);
	return &up->data.via.map;
}

static const msgpack_object_map *
pack(msgpack_unpacked *up, msgpack_sbuffer *sb, const struct tbl *t,
    const void *row, bool writer)
{
	return pack_at(up, sb, t, row, 1, writer);
}

static bool
key_is(const msgpack_object_kv *kv, const char *name)
{
	return kv->key.type == MSGPACK_OBJECT_STR &&
	    kv->key.via.str.size == strlen(name) &&
	    memcmp(kv->key.via.str.ptr, name, strlen(name)) == 0;
}

static void
expect_str(const msgpack_object *o, const char *name, const char *want)
{
	if (o->type != MSGPACK_OBJECT_STR || o->via.str.size != strlen(want) ||
	    memcmp(o->via.str.ptr, want, strlen(want)) != 0) {
		fail_msg("%s: not the string '%s'", name, want);
	}
}

/* What "gateway add" put in, field by field. */
static const struct {
	const char *name, *given, *listed;
} gw[] = {
	{ "name", "P1", "P1" },
	{ "domain", "prov.test", "prov.test" },
	{ "via", "sip:192.0.2.9:5070", "sip:192.0.2.9:5070" },
	/* listed with "@domain" */
	{ "username", "4930", "4930@prov.test" },
	{ "password", "s3cret", "s3cret" },
	{ "authname", "auth1", "auth1" },
	{ "register-every", "600", "600" },
	{ "contact", "alice", "alice" },
	{ "calls-authenticate", "on", "on" },
	{ "substitute-from", "off", "off" },
	{ "substitute-to", "on", "on" },
};
#define NGW (sizeof(gw) / sizeof(gw[0]))

static void
test_list_shows_add(void **state)
{
	const struct tbl *t = &tbl_table[TBL_GATEWAY];
	struct conf *c = malloc(sizeof(*c));
	char line[1024] = "gateway add P1", err[512];
	msgpack_unpacked up;
	msgpack_sbuffer sb;
	const msgpack_object_map *m;
	const struct tbl_field *f;
	uint32_t k = 0;

	(void)state;
	assert_non_null(c);
	conf_init(c);
	for (size_t i = 1; i < NGW; i++) {
		size_t o = strlen(line);
		snprintf(line + o, sizeof(line) - o, " %s %s", gw[i].name,
		    gw[i].given);
	}
	if (conf_exec(c, line, strlen(line), err, sizeof(err)) < 0) {
		fail_msg("%s: %s", line, err);
	}
	assert_int_equal(c->ngw, 1);
	m = pack(&up, &sb, t, &c->gw[0], true);
	/* every listed field, in order, typed as declared */
	for (f = tbl_next(t, NULL); f != NULL; f = tbl_next(t, f), k++) {
		const msgpack_object *v;
		const char *want = NULL;

		assert_true(tbl_field_listed(f));
		if (k >= m->size || !key_is(&m->ptr[k], f->name)) {
			fail_msg("item %u of the map is not %s", k, f->name);
		}
		for (size_t i = 0; i < NGW; i++) {
			if (strcmp(gw[i].name, f->name) == 0) {
				want = gw[i].listed;
			}
		}
		if (want == NULL) {
			fail_msg("the test gives no %s", f->name);
		}
		v = &m->ptr[k].val;
		if (strcmp(f->arg, "bool") == 0) {
			assert_int_equal(v->type, MSGPACK_OBJECT_BOOLEAN);
			assert_int_equal(v->via.boolean, strcmp(want, "on") == 0);
		} else if (strncmp(f->arg, "uint(", 5) == 0) {
			assert_int_equal(v->type,
			    MSGPACK_OBJECT_POSITIVE_INTEGER);
			assert_int_equal(v->via.u64, strtoull(want, NULL, 10));
		} else {
			expect_str(v, f->name, want);
		}
	}
	assert_int_equal(m->size, k);
	msgpack_unpacked_destroy(&up);
	msgpack_sbuffer_destroy(&sb);

	/* a reader: the password hidden, the rest the same */
	m = pack(&up, &sb, t, &c->gw[0], false);
	for (uint32_t i = 0; i < m->size; i++) {
		if (key_is(&m->ptr[i], "password")) {
			expect_str(&m->ptr[i].val, "password", CONF_HIDDEN);
		} else if (key_is(&m->ptr[i], "domain")) {
			expect_str(&m->ptr[i].val, "domain", "prov.test");
		}
	}
	msgpack_unpacked_destroy(&up);
	msgpack_sbuffer_destroy(&sb);

	/* no password: "" for anyone */
	/* (the wire sends "gateway set" an empty value; the text grammar
	 * cannot) */
	assert_int_equal(conf_row_set(t, &c->gw[0], "password", "", err,
			     sizeof(err)),
	    0);
	m = pack(&up, &sb, t, &c->gw[0], false);
	for (uint32_t i = 0; i < m->size; i++) {
		if (key_is(&m->ptr[i], "password")) {
			expect_str(&m->ptr[i].val, "password", "");
		}
	}
	msgpack_unpacked_destroy(&up);
	msgpack_sbuffer_destroy(&sb);
	conf_fini(c);
	free(c);
}

/* "router list": each record's number, its place from 1, and its text
 * as "router add" made it canonical. */
static void
test_router_list(void **state)
{
	const struct tbl *t = &tbl_table[TBL_ROUTER];
	static const char *const lines[] = {
		"router add '<a>   =  b ; first'",
		"router add 'NoRelay:Signal:<1*>=*@P1.sipgw'",
	};
	static const char *const want[] = {
		"<a> = b",
		"NoRelay:Signal:<1*> = *@P1.sipgw",
	};
	struct conf *c = malloc(sizeof(*c));
	msgpack_unpacked up;
	msgpack_sbuffer sb;
	const msgpack_object_map *m;
	char err[512];

	(void)state;
	assert_non_null(c);
	conf_init(c);
	for (int i = 0; i < 2; i++) {
		if (conf_exec(c, lines[i], strlen(lines[i]), err,
			sizeof(err)) < 0) {
			fail_msg("%s: %s", lines[i], err);
		}
	}
	assert_int_equal(c->nrouter, 2);
	for (int i = 0; i < 2; i++) {
		m = pack_at(&up, &sb, t, &c->router[i], i + 1, false);
		assert_int_equal(m->size, 2);
		assert_true(key_is(&m->ptr[0], "number"));
		assert_int_equal(m->ptr[0].val.type,
		    MSGPACK_OBJECT_POSITIVE_INTEGER);
		assert_int_equal(m->ptr[0].val.via.u64, (uint64_t)i + 1);
		assert_true(key_is(&m->ptr[1], "record"));
		expect_str(&m->ptr[1].val, "record", want[i]);
		msgpack_unpacked_destroy(&up);
		msgpack_sbuffer_destroy(&sb);
	}
	conf_fini(c);
	free(c);
}

/* "domain list": a domain's row made of the snapshot, its 32 aliases of
 * 253 bytes each an item of the aliases array, whole (8 KiB of words:
 * more than any one value). */
static void
test_domain_list(void **state)
{
	const struct tbl *t = &tbl_table[TBL_DOMAIN];
	struct conf *c = malloc(sizeof(*c));
	struct conf_domain *row = malloc(sizeof(*row));
	struct acct_domain_info di;
	char line[512], alias[ACCT_MAX_ALIASES][ACCT_DOMAIN_MAX + 1], err[512];
	const msgpack_object_map *m;
	const msgpack_object *a;
	msgpack_unpacked up;
	msgpack_sbuffer sb;

	(void)state;
	assert_non_null(c);
	assert_non_null(row);
	conf_init(c);
	assert_int_equal(conf_exec(c, "domain add example.com", 22, err,
			     sizeof(err)),
	    0);
	for (int i = 0; i < ACCT_MAX_ALIASES; i++) {
		/* four labels of 63, 63, 63 and 61 letters and digits,
		 * the first two digits i */
		memset(alias[i], 'a', ACCT_DOMAIN_MAX);
		alias[i][0] = (char)('0' + i / 10);
		alias[i][1] = (char)('0' + i % 10);
		alias[i][63] = alias[i][127] = alias[i][191] = '.';
		alias[i][ACCT_DOMAIN_MAX] = '\0';
		snprintf(line, sizeof(line),
		    "domain alias add example.com %.253s", alias[i]);
		if (conf_exec(c, line, strlen(line), err, sizeof(err)) < 0) {
			fail_msg("%s: %s", line, err);
		}
	}
	acct_domain_get(c->acct, 0, &di);
	conf_domain_row(&di, row);
	m = pack(&up, &sb, t, row, false);
	assert_int_equal(m->size, 4);
	assert_true(key_is(&m->ptr[0], "domain"));
	expect_str(&m->ptr[0].val, "domain", "example.com");
	assert_true(key_is(&m->ptr[1], "enabled"));
	assert_int_equal(m->ptr[1].val.type, MSGPACK_OBJECT_BOOLEAN);
	assert_true(m->ptr[1].val.via.boolean);
	assert_true(key_is(&m->ptr[2], "accounts"));
	assert_int_equal(m->ptr[2].val.via.u64, 0);
	assert_true(key_is(&m->ptr[3], "aliases"));
	a = &m->ptr[3].val;
	assert_int_equal(a->type, MSGPACK_OBJECT_ARRAY);
	assert_int_equal(a->via.array.size, ACCT_MAX_ALIASES);
	for (int i = 0; i < ACCT_MAX_ALIASES; i++) {
		/* the snapshot's order: by name */
		expect_str(&a->via.array.ptr[i], "aliases", alias[i]);
	}
	msgpack_unpacked_destroy(&up);
	msgpack_sbuffer_destroy(&sb);
	free(row);
	conf_fini(c);
	free(c);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_list_shows_add),
		cmocka_unit_test(test_router_list),
		cmocka_unit_test(test_domain_list),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
