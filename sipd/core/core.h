/*
 * core: what sipd does with a message, the whole public face of
 * sipd/core.  At this stage sipd is a stateless user agent server: it
 * answers OPTIONS, refuses every other request with 501 (an ACK gets no
 * response), refuses malformed requests with the status msg_check() names,
 * and drops responses, having no client transactions yet.
 *
 * A struct core belongs to one worker; it keeps no global state.
 */
#ifndef SIPD_CORE_H
#define SIPD_CORE_H

#include <stddef.h>

#include "sipd/msg/msg.h"
#include "sipd/transport/tp.h"

struct core;

/*
 * A core applying lim (copied) when parsing.  Returns NULL on allocation
 * failure.
 */
struct core *core_new(const struct msg_limits *lim);

/* Accepts NULL. */
void core_free(struct core *c);

/*
 * Handle one datagram data[0..len) received from src: parse it, answer it
 * through tp_send() on src->listener, or drop it with a log line.  Never
 * fails: bad input is logged, not returned.  data is not kept.
 */
void core_receive(struct core *c, const struct tp_src *src, const char *data,
    size_t len);

#endif
