/*
 * sipctl's internal interface: the connection to sipd and running one
 * command (shell.c), the interactive shell and scripts (shell.c), Tab
 * completion and "?" help (complete.c), and printing replies as tables
 * or JSON (out.c).
 */
#ifndef SIPD_SIPCTL_H
#define SIPD_SIPCTL_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "proto/cmd.h"
#include "proto/proto.h"

/* Exit statuses (sipctl(8)). */
#define SH_OK 0
#define SH_FAILED 1   /* the command failed in sipd */
#define SH_USAGE 2    /* usage or syntax error */
#define SH_UNREACH 3  /* sipd unreachable, or a protocol error */

/* Largest frame sipctl reads. */
#define SH_MAX_FRAME (64u * 1024 * 1024)

/* Columns of the trace's ladder at most. */
#define SH_TRACE_COLS 8

/* A TCP flow of a pcap file: its next sequence number. */
struct sh_flow {
	struct sh_flow *next;
	uint8_t key[36];
	size_t klen;
	uint32_t seq;
};

struct sh {
	const char *sock_path;
	int fd;             /* -1 when not connected */
	bool json;          /* -j */
	bool raw;           /* -r: trace messages as they are */
	FILE *tr_pcap;      /* trace pcap FILE, or NULL */
	struct sh_flow *tr_flows;
	char tr_cols[SH_TRACE_COLS][72]; /* the ladder's peers */
	int tr_ncols;
	bool tr_new;        /* a column was added: print the heads */
	bool interactive;
	bool quit;          /* the quit command ran */
	uint32_t next_id;
	char version[64];   /* sipd's, from the greeting */
	long pid;
};

/* Set by SIGINT and SIGTERM; ends a stream. */
extern volatile sig_atomic_t sh_interrupted;

/* The default socket path into buf. */
void sh_default_socket(char *buf, size_t cap);

/* Connect and read the greeting.  Returns SH_OK or SH_UNREACH (printed). */
int sh_connect(struct sh *sh);
void sh_close(struct sh *sh);

/*
 * Run the command in a (parsed): a local one here, else sent to sipd and
 * its reply (and stream) printed.  Returns an exit status; the message of
 * a failure goes to err (not printed), "" when printed already.
 */
int sh_run(struct sh *sh, const struct cmd_args *a, char *err, size_t cap);

/*
 * Parse and run words w[0..n).  Returns an exit status with a message in
 * err for a failure.
 */
int sh_run_words(struct sh *sh, const struct lex_word *w, int n, char *err,
    size_t cap);

/* Send a request for c with no arguments and return its reply's data in
 * m (proto_msg_fini() after).  Returns 0 or -1. */
int sh_query(struct sh *sh, enum cmd_id id, struct proto_msg *m);

/* A script from f called name: stop at the first error. */
int sh_script(struct sh *sh, FILE *f, const char *name);

/* The interactive shell.  Returns an exit status. */
int sh_interactive(struct sh *sh);

/* help [words]: into f.  Returns an exit status. */
int sh_help(FILE *f, const struct lex_word *w, int n);

/* ------------------------------------------------------------- trace.c */

/*
 * Before and after a "trace" stream: open (and close) the pcapng file a
 * names, if any.  sh_trace_event() prints or writes an event of the
 * stream and returns true, or returns false for events it leaves to the
 * caller.
 */
int sh_trace_begin(struct sh *sh, const struct cmd_args *a, char *err,
    size_t cap);
void sh_trace_end(struct sh *sh);
bool sh_trace_event(struct sh *sh, const struct proto_msg *m);

/* ---------------------------------------------------------- complete.c */

struct editline;

/*
 * The candidates for the word under the cursor of line[0..len): written
 * into out (one per element, malloc'ed, at most cap), with the length of
 * the partial word in *partial_len.  Returns the count, or -1.
 */
int sh_candidates(struct sh *sh, const char *line, size_t len, char **out,
    int cap, size_t *partial_len);

/* "?": what may come next at the end of line[0..len), into f. */
void sh_describe(struct sh *sh, const char *line, size_t len, FILE *f);

/* --------------------------------------------------------------- out.c */

/* A JSON line for a whole frame. */
void out_json(FILE *f, const msgpack_object *o);

/* A reply's data for people: tables, key-value lists, text. */
void out_data(FILE *f, const msgpack_object *data);

#endif
