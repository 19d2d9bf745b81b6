/*
 * sipctl: the administration shell of sipd.  With a command on the
 * command line it runs that one command; with -f FILE, or commands on a
 * standard input that is not a terminal, it runs a script; on a terminal
 * it starts the interactive shell.  Exit status: 0 ok, 1 the command
 * failed in sipd, 2 usage or syntax, 3 sipd unreachable or a protocol
 * error (sipctl(8)).
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sipctl/sipctl.h"

static void
usage(FILE *f)
{
	fprintf(f, "usage: sipctl [-hjrV] [-s socket] [-f file | command "
	    "[argument ...]]\n");
}

static void
on_signal(int sig)
{
	(void)sig;
	sh_interrupted = 1;
}

int
main(int argc, char **argv)
{
	struct sh sh = { .fd = -1 };
	struct sigaction sa;
	const char *file = NULL;
	char sock[4096], err[1024];
	int ch, rc;

	sh_default_socket(sock, sizeof(sock));
	sh.sock_path = sock;
	while ((ch = getopt(argc, argv, "+f:hjrs:V")) != -1) {
		switch (ch) {
		case 'f':
			file = optarg;
			break;
		case 'h':
			usage(stdout);
			return SH_OK;
		case 'j':
			sh.json = true;
			break;
		case 'r':
			sh.raw = true;
			break;
		case 's':
			sh.sock_path = optarg;
			break;
		case 'V':
			printf("sipctl %s\n", SIPD_VERSION);
			return SH_OK;
		default:
			usage(stderr);
			return SH_USAGE;
		}
	}
	argc -= optind;
	argv += optind;
	if (file != NULL && argc > 0) {
		usage(stderr);
		return SH_USAGE;
	}
	/* Ctrl-C ends a stream, not sipctl: no SA_RESTART, so reads stop. */
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);

	if (argc > 0) {
		struct lex_word w[LEX_MAX_WORDS];
		struct cmd_args *a;

		if (argc > LEX_MAX_WORDS) {
			fprintf(stderr, "sipctl: too many words\n");
			return SH_USAGE;
		}
		/* Columns in errors count as if the words were one line,
		 * a blank between each two. */
		for (int i = 0; i < argc; i++) {
			w[i].text = argv[i];
			w[i].len = strlen(argv[i]);
			w[i].start = i == 0 ? 0 : w[i - 1].end + 1;
			w[i].end = w[i].start + (uint32_t)w[i].len;
			w[i].quoted = false;
		}
		/* Check the syntax before connecting: a typo is exit 2. */
		a = malloc(sizeof(*a));
		if (a == NULL) {
			return SH_FAILED;
		}
		if (cmd_parse(a, w, argc, 0, err, sizeof(err)) < 0) {
			fprintf(stderr, "sipctl: %s\n", err);
			free(a);
			return SH_USAGE;
		}
		if ((a->cmd->flags & CF_LOCAL) == 0 &&
		    (rc = sh_connect(&sh)) != SH_OK) {
			free(a);
			return rc;
		}
		rc = sh_run(&sh, a, err, sizeof(err));
		free(a);
		if (rc != SH_OK && err[0] != '\0') {
			fprintf(stderr, "sipctl: %s\n", err);
		}
		sh_close(&sh);
		return rc;
	}
	if (file != NULL) {
		FILE *f = strcmp(file, "-") == 0 ? stdin : fopen(file, "re");

		if (f == NULL) {
			fprintf(stderr, "sipctl: %s: %s\n", file,
			    strerror(errno));
			return SH_USAGE;
		}
		rc = sh_connect(&sh);
		if (rc == SH_OK) {
			rc = sh_script(&sh, f, file);
		}
		if (f != stdin) {
			fclose(f);
		}
		sh_close(&sh);
		return rc;
	}
	rc = sh_connect(&sh);
	if (rc != SH_OK) {
		return rc;
	}
	if (isatty(STDIN_FILENO)) {
		sh.interactive = true;
		rc = sh_interactive(&sh);
	} else {
		rc = sh_script(&sh, stdin, "stdin");
	}
	sh_close(&sh);
	return rc;
}
