/*
 * cmd: the command table (commands.def) and what is computed from it:
 * finding a command from its words, each abbreviable to a unique prefix
 * ("sh tr s" is "show transactions server"), parsing and checking its
 * arguments, usage text, and the candidates for the next word (completion
 * and "?").  sipd, sipctl and the configuration file all go through here.
 *
 * An argument spec (the args column) is read by cmd_spec():
 *   <name:type>        a required argument, in order
 *   [<name:type>]      an optional one, after the required ones
 *   [kw <name:type>]   an optional keyword with its value, in any order
 * Types: str, words (the rest of the line, last; words(a|b) completes
 * a and b, sipd checks the words), path, uint(MIN-MAX), enum(a|b|c),
 * bool, hostport, host, range, ref(KIND).  On the wire (sipd-control(7)) arguments are a map
 * from name to value: uint as an integer, bool as a boolean, the others
 * as strings.
 */
#ifndef SIPD_PROTO_CMD_H
#define SIPD_PROTO_CMD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "proto/lex.h"

/* Command flags. */
#define CF_READ 0x01   /* reads state: any allowed peer */
#define CF_WRITE 0x02  /* changes state: the owner or root */
#define CF_CONF 0x04   /* allowed in the configuration file */
#define CF_LOCAL 0x08  /* sipctl only, never sent */
#define CF_STREAM 0x10 /* the reply is a stream of events */
#define CF_SECRET 0x20 /* arguments kept out of history and logs */

enum cmd_id {
#define CMD(id, handler, words, args, flags, summary) CMD_##id,
#include "proto/commands.def"
#undef CMD
	CMD__COUNT
};

#define CMD_MAX_WORDS 4
#define CMD_MAX_ARGS 12
#define CMD_NAME_MAX 24
#define CMD_VALUE_MAX 1024 /* longest argument value, in bytes */
#define CMD_STORE_MAX 4096 /* all argument values of one command */

struct cmd {
	enum cmd_id id;
	const char *name;    /* the words, one blank between them */
	const char *handler;
	const char *args;    /* the spec */
	unsigned flags;
	const char *summary;
};

extern const struct cmd cmd_table[CMD__COUNT];

enum cmd_type {
	CMD_T_STR,
	CMD_T_WORDS, /* the rest of the line, its words a blank apart */
	CMD_T_PATH,
	CMD_T_UINT,
	CMD_T_ENUM,
	CMD_T_BOOL,
	CMD_T_HOSTPORT,
	CMD_T_HOST,
	CMD_T_RANGE,
	CMD_T_REF,
};

struct cmd_argspec {
	char name[CMD_NAME_MAX];
	char kw[CMD_NAME_MAX]; /* the keyword, "" for a positional argument */
	enum cmd_type type;
	bool optional;
	uint64_t min, max;     /* uint */
	const char *choices;   /* enum: "a|b|c", into the table */
	size_t choices_len;
	char ref[CMD_NAME_MAX]; /* ref: the kind of name */
};

struct cmd_val {
	bool set;
	const char *s; /* NUL-terminated text; canonical for enum and bool */
	uint64_t u;    /* uint */
	bool b;        /* bool */
	int choice;    /* enum: index into the choices */
};

/* A command and its arguments' values. */
struct cmd_args {
	const struct cmd *cmd;
	int n;
	struct cmd_argspec spec[CMD_MAX_ARGS];
	struct cmd_val val[CMD_MAX_ARGS];
	size_t used;
	char store[CMD_STORE_MAX];
};

/* The command called name[0..len) exactly (the wire form), or NULL. */
const struct cmd *cmd_by_name(const char *name, size_t len);

/* Number of words of c's name, and word i of it (not NUL-terminated). */
int cmd_nwords(const struct cmd *c);
const char *cmd_word(const struct cmd *c, int i, size_t *len);

/*
 * Read c's argument spec into out[0..cap).  Returns the count, or -EINVAL
 * for a malformed spec (a bug in commands.def; a unit test reads all).
 */
int cmd_spec(const struct cmd *c, struct cmd_argspec *out, int cap);

/* Choice i of an enum spec (not NUL-terminated), or NULL past the last. */
const char *cmd_choice(const struct cmd_argspec *s, int i, size_t *len);

/*
 * Find the command named by the first words of w[0..n), skipping the
 * commands with a flag in exclude.  Every word may be a unique prefix; an
 * exact word wins over a longer one it prefixes; a word that prefixes
 * several is resolved by the words after it.  Returns 0 with the command
 * in *out and the number of words it took in *used, or -EINVAL with a
 * message in err: "unknown command 'listener bogus' (expected add, list
 * or remove)", "ambiguous command 'l' (lan, limits, listener or log)",
 * "incomplete command 'show' (expected config, settings, ...)".
 */
int cmd_find(const struct lex_word *w, int n, unsigned exclude,
    const struct cmd **out, int *used, char *err, size_t cap);

/* Start an empty argument list for c.  Returns 0 or -EINVAL. */
int cmd_args_init(struct cmd_args *a, const struct cmd *c);

/* The index of the argument called name[0..len), or -1. */
int cmd_args_index(const struct cmd_args *a, const char *name, size_t len);

/*
 * Set argument i from text[0..len): checked against its type (a number in
 * range, a known enum choice or unique prefix of one, on/off), copied.
 * Returns 0, -EINVAL with a message in err, or -SIPD_ETOOBIG.
 */
int cmd_args_set(struct cmd_args *a, int i, const char *text, size_t len,
    char *err, size_t cap);
/* Set a uint or bool argument from a typed value (the wire). */
int cmd_args_set_uint(struct cmd_args *a, int i, uint64_t v, char *err,
    size_t cap);
int cmd_args_set_bool(struct cmd_args *a, int i, bool v, char *err,
    size_t cap);

/* 0 when every required argument is set, else -EINVAL and a message. */
int cmd_args_check(const struct cmd_args *a, char *err, size_t cap);

/*
 * Find the command in w[0..n) (cmd_find()) and parse the words after it
 * as its arguments into a.  Returns 0 or -EINVAL with a message.
 */
int cmd_parse(struct cmd_args *a, const struct lex_word *w, int n,
    unsigned exclude, char *err, size_t cap);

/* Values by argument name: NULL, dflt or -1 when not set. */
bool cmd_arg_has(const struct cmd_args *a, const char *name);
const char *cmd_arg_str(const struct cmd_args *a, const char *name);
uint64_t cmd_arg_uint(const struct cmd_args *a, const char *name,
    uint64_t dflt);
bool cmd_arg_bool(const struct cmd_args *a, const char *name, bool dflt);
int cmd_arg_enum(const struct cmd_args *a, const char *name);

/*
 * The usage line of c into buf: "listener add udp|tcp|tls <address>
 * [cert <cert>] ...".  Returns buf.
 */
const char *cmd_usage(const struct cmd *c, char *buf, size_t cap);

#define CMD_NEXT_MAX 64

/* What may come next after some words: completion and "?". */
struct cmd_next {
	int n;
	struct {
		const char *text; /* NUL-terminated, in store */
		size_t len;
		const char *help; /* a command's summary, or NULL */
	} word[CMD_NEXT_MAX];
	/* a value is expected (possibly besides the words): its spec */
	bool value;
	struct cmd_argspec spec;
	const struct cmd *cmd; /* the command, once the words name one */
	size_t used;
	char store[1024];      /* the words' text */
};

/*
 * The words or value that may follow the complete words w[0..n) (the
 * word under the cursor is not among them).  Returns 0, or -EINVAL when
 * the words already fail (an unknown command, a bad argument).
 */
int cmd_next(const struct lex_word *w, int n, unsigned exclude,
    struct cmd_next *out);

/* Case-insensitive: is in[0..inlen) a prefix of word[0..wlen)? */
bool cmd_prefix(const char *in, size_t inlen, const char *word, size_t wlen);

#endif
