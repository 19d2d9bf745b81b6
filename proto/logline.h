/*
 * logline: a log line as people read it (logline.c).
 */
#ifndef SIPD_PROTO_LOGLINE_H
#define SIPD_PROTO_LOGLINE_H

#include <stddef.h>
#include <stdio.h>

/*
 * Write line[0..len) to f for people: a SIPDATA packet dump (one line,
 * CR LF escaped as \x0d\x0a) as its header, "... (N bytes)", and then
 * the packet's lines, each indented by four blanks; any other line as
 * it is.  Every line written ends with a newline.
 */
void proto_log_line(FILE *f, const char *line, size_t len);

#endif
