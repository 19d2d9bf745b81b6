/*
 * How a log line is shown to people: sipd writes every line as one line
 * (the live stream to "log follow", syslog), with a SIPDATA packet dump's
 * line ends escaped; sipctl's "log follow" and sipd's log file show such
 * a dump as its header line and then the packet's lines.  Shared by
 * both so that the two show the same.
 */
#include "proto/logline.h"

#include <string.h>

void
proto_log_line(FILE *f, const char *line, size_t len)
{
	static const char crlf[] = "\\x0d\\x0a";
	/* at the start of the line (sipd's), or after its time (the
	 * stream's) */
	const char *tag = len >= 9 && memcmp(line, "SIPDATA, ", 9) == 0
	    ? line
	    : memmem(line, len, " SIPDATA, ", 10), *body, *end;
	const char *p;

	/* the packet starts after "(N bytes) " */
	body = tag != NULL ? memmem(tag, len - (size_t)(tag - line),
				 " bytes) ", 8)
			   : NULL;
	if (body == NULL) {
		fprintf(f, "%.*s\n", (int)len, line);
		return;
	}
	body += 8;
	end = line + len;
	fprintf(f, "%.*s\n", (int)(body - 1 - line), line);
	for (p = body; p < end;) {
		const char *nl = memmem(p, (size_t)(end - p), crlf,
		    sizeof(crlf) - 1);
		const char *stop = nl != NULL ? nl : end;

		/* the blank line between header and body shows as "    " */
		fprintf(f, "    %.*s\n", (int)(stop - p), p);
		if (nl == NULL) {
			break;
		}
		p = nl + sizeof(crlf) - 1;
	}
}
