/*
 * err: the error codes shared by sipd and sipctl.  Functions return 0, a
 * negative errno value, or a negative project code below; the control
 * protocol carries each failure as one of a short list of stable code
 * names (sipd-control(7)), which is what a client may test.
 */
#ifndef SIPD_PROTO_ERR_H
#define SIPD_PROTO_ERR_H

/* Project codes, beyond every errno value. */
enum sipd_errcode {
	SIPD_EPARSE = 10000, /* bad syntax: a command line, a frame */
	SIPD_ETOOBIG,        /* over a size limit */
	SIPD_EPROTO,         /* the peer broke the control protocol */
};

/* The wire codes of the control protocol, in sipd-control(7) order. */
enum err_code {
	ERR_INVALID,     /* a bad request: syntax, type, range */
	ERR_NOT_FOUND,   /* no such object */
	ERR_EXISTS,      /* the object exists already */
	ERR_DENIED,      /* the peer may not do this */
	ERR_BUSY,        /* a limit or the state forbids it now */
	ERR_TOO_BIG,     /* a frame or a value over its limit */
	ERR_UNSUPPORTED, /* known, but not available in this build or state */
	ERR_INTERNAL,    /* sipd failed (memory, I/O) */
	ERR__COUNT
};

/* The text of rc (negative errno or project code): "frame too big". */
const char *sipd_strerror(int rc);

/* The wire code for rc: -EINVAL is ERR_INVALID, -ENOENT ERR_NOT_FOUND. */
enum err_code err_code_of(int rc);

/* "not-found", or "internal" for an unknown code. */
const char *err_code_name(enum err_code code);

/* The code called name[0..len), or -1. */
int err_code_lookup(const char *name, size_t len);

/* A negative errno value that err_code_of() maps back to code. */
int err_code_rc(enum err_code code);

/* Write the printf-style message to err (cap bytes; err may be NULL)
 * and return rc: the error path of every parser and setter. */
int err_fmt(char *err, size_t cap, int rc, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

#endif
