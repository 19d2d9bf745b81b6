/*
 * man/commands: the commands documented in sipctl(8) (each ".It Cm"
 * line's leading lower-case words) are exactly the commands of
 * proto/commands.def, both ways.  Reads the table itself, not a copy.
 */
#include <ctype.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proto/cmd.h"

#define MAX_DOC 256

/* The command words of one ".It Cm" line, into out. */
static void
doc_words(const char *line, char *out, size_t cap)
{
	const char *p = line + strlen(".It Cm");
	size_t o = 0;

	out[0] = '\0';
	for (;;) {
		const char *end;
		size_t len;

		while (*p == ' ') {
			p++;
		}
		end = p;
		while (*end != '\0' && *end != ' ' && *end != '\n') {
			end++;
		}
		len = (size_t)(end - p);
		/* mdoc macros start upper case; command words do not */
		if (len == 0 || !islower((unsigned char)p[0])) {
			break;
		}
		if (o + len + 2 > cap) {
			break;
		}
		if (o > 0) {
			out[o++] = ' ';
		}
		memcpy(out + o, p, len);
		o += len;
		out[o] = '\0';
		p = end;
	}
}

int
main(int argc, char **argv)
{
	static char doc[MAX_DOC][128];
	bool in_commands = false, seen[MAX_DOC] = { false };
	char line[1024];
	int ndoc = 0, bad = 0;
	FILE *f;

	if (argc != 2) {
		fprintf(stderr, "usage: %s sipctl.8\n", argv[0]);
		return 2;
	}
	f = fopen(argv[1], "r");
	if (f == NULL) {
		perror(argv[1]);
		return 2;
	}
	while (fgets(line, sizeof(line), f) != NULL) {
		if (strncmp(line, ".Ss ", 4) == 0 || strncmp(line, ".Sh ", 4) == 0) {
			in_commands = strncmp(line, ".Ss Commands", 12) == 0;
			continue;
		}
		if (!in_commands || strncmp(line, ".It Cm ", 7) != 0 ||
		    ndoc == MAX_DOC) {
			continue;
		}
		doc_words(line, doc[ndoc], sizeof(doc[ndoc]));
		ndoc++;
	}
	fclose(f);
	for (int i = 0; i < CMD__COUNT; i++) {
		int found = -1;

		for (int j = 0; j < ndoc; j++) {
			if (strcmp(doc[j], cmd_table[i].name) == 0) {
				found = j;
			}
		}
		if (found < 0) {
			printf("missing from sipctl.8: %s\n", cmd_table[i].name);
			bad++;
		} else {
			seen[found] = true;
		}
	}
	for (int j = 0; j < ndoc; j++) {
		if (!seen[j]) {
			printf("in sipctl.8 but not a command: '%s'\n", doc[j]);
			bad++;
		}
	}
	printf("%d commands, %d documented, %d problems\n", CMD__COUNT, ndoc,
	    bad);
	return bad == 0 ? 0 : 1;
}
