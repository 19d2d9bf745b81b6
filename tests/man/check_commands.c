/*
 * man/commands: the commands documented in sipctl(8) (each ".It Cm"
 * line's leading lower-case words) are exactly the commands of
 * proto/commands.def, both ways; and those of sipd-control(7) (each
 * '.It Li "words"') are exactly the commands that go over the wire (all
 * but CF_LOCAL).  Reads the table itself, not a copy.
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

/*
 * The wire commands of sipd-control.7 against the table: each
 * '.It Li "words"' of its Commands section.  Returns the problems.
 */
static int
check_control(const char *path)
{
	static char doc[MAX_DOC][128];
	bool in_commands = false, seen[MAX_DOC] = { false };
	char line[1024];
	int ndoc = 0, bad = 0, wire = 0;
	FILE *f = fopen(path, "r");

	if (f == NULL) {
		perror(path);
		return 1;
	}
	while (fgets(line, sizeof(line), f) != NULL) {
		const char *q, *end;

		if (strncmp(line, ".Ss ", 4) == 0 || strncmp(line, ".Sh ", 4) == 0) {
			in_commands = strncmp(line, ".Ss Commands", 12) == 0;
			continue;
		}
		if (!in_commands || strncmp(line, ".It Li \"", 8) != 0 ||
		    ndoc == MAX_DOC) {
			continue;
		}
		q = line + 8;
		end = strchr(q, '"');
		if (end == NULL || (size_t)(end - q) >= sizeof(doc[0])) {
			printf("sipd-control.7: bad entry %s", line);
			bad++;
			continue;
		}
		memcpy(doc[ndoc], q, (size_t)(end - q));
		doc[ndoc][end - q] = '\0';
		ndoc++;
	}
	fclose(f);
	for (int i = 0; i < CMD__COUNT; i++) {
		int found = -1;

		if (cmd_table[i].flags & CF_LOCAL) {
			continue;
		}
		wire++;
		for (int j = 0; j < ndoc; j++) {
			if (strcmp(doc[j], cmd_table[i].name) == 0) {
				found = j;
			}
		}
		if (found < 0) {
			printf("missing from sipd-control.7: %s\n",
			    cmd_table[i].name);
			bad++;
		} else {
			seen[found] = true;
		}
	}
	for (int j = 0; j < ndoc; j++) {
		if (!seen[j]) {
			printf("in sipd-control.7 but not a wire command: "
			    "'%s'\n", doc[j]);
			bad++;
		}
	}
	printf("%d wire commands, %d in sipd-control.7\n", wire, ndoc);
	return bad;
}

int
main(int argc, char **argv)
{
	static char doc[MAX_DOC][128];
	bool in_commands = false, seen[MAX_DOC] = { false };
	char line[1024];
	int ndoc = 0, bad = 0;
	FILE *f;

	if (argc != 3) {
		fprintf(stderr, "usage: %s sipctl.8 sipd-control.7\n",
		    argv[0]);
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
	printf("%d commands, %d in sipctl.8\n", CMD__COUNT, ndoc);
	bad += check_control(argv[2]);
	printf("%d problems\n", bad);
	return bad == 0 ? 0 : 1;
}
