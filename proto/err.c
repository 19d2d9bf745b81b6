/*
 * Error codes: the project's own codes, their text, and the mapping
 * between return values and the stable code names of the control
 * protocol.  Owns nothing but constant tables.
 */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "proto/err.h"

static const char *const err_names[ERR__COUNT] = {
	[ERR_INVALID] = "invalid",
	[ERR_NOT_FOUND] = "not-found",
	[ERR_EXISTS] = "exists",
	[ERR_DENIED] = "denied",
	[ERR_BUSY] = "busy",
	[ERR_TOO_BIG] = "too-big",
	[ERR_UNSUPPORTED] = "unsupported",
	[ERR_INTERNAL] = "internal",
};

const char *
sipd_strerror(int rc)
{
	switch (-rc) {
	case SIPD_EPARSE:
		return "syntax error";
	case SIPD_ETOOBIG:
		return "too big";
	case SIPD_EPROTO:
		return "protocol error";
	default:
		return strerror(rc < 0 ? -rc : rc);
	}
}

enum err_code
err_code_of(int rc)
{
	switch (-rc) {
	case EINVAL:
	case SIPD_EPARSE:
	case SIPD_EPROTO:
		return ERR_INVALID;
	case ENOENT:
		return ERR_NOT_FOUND;
	case EEXIST:
		return ERR_EXISTS;
	case EACCES:
	case EPERM:
		return ERR_DENIED;
	case EBUSY:
	case EADDRINUSE:
	case EAGAIN:
		return ERR_BUSY;
	case E2BIG:
	case EMSGSIZE:
	case SIPD_ETOOBIG:
		return ERR_TOO_BIG;
	case ENOTSUP:
	case ENOSYS:
		return ERR_UNSUPPORTED;
	default:
		return ERR_INTERNAL;
	}
}

const char *
err_code_name(enum err_code code)
{
	if ((unsigned)code >= ERR__COUNT) {
		return err_names[ERR_INTERNAL];
	}
	return err_names[code];
}

int
err_code_lookup(const char *name, size_t len)
{
	for (int i = 0; i < ERR__COUNT; i++) {
		if (strlen(err_names[i]) == len &&
		    memcmp(err_names[i], name, len) == 0) {
			return i;
		}
	}
	return -1;
}

int
err_code_rc(enum err_code code)
{
	static const int rcs[ERR__COUNT] = {
		[ERR_INVALID] = -EINVAL,
		[ERR_NOT_FOUND] = -ENOENT,
		[ERR_EXISTS] = -EEXIST,
		[ERR_DENIED] = -EACCES,
		[ERR_BUSY] = -EBUSY,
		[ERR_TOO_BIG] = -SIPD_ETOOBIG,
		[ERR_UNSUPPORTED] = -ENOTSUP,
		[ERR_INTERNAL] = -EIO,
	};

	if ((unsigned)code >= ERR__COUNT) {
		return -EIO;
	}
	return rcs[code];
}

int
err_fmt(char *err, size_t cap, int rc, const char *fmt, ...)
{
	va_list ap;

	if (err != NULL && cap > 0) {
		va_start(ap, fmt);
		vsnprintf(err, cap, fmt, ap);
		va_end(ap);
	}
	return rc;
}
