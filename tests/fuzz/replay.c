/*
 * replay: run a fuzz target's LLVMFuzzerTestOneInput() on every file of the
 * directories (or files) named on the command line, so the corpus runs as a
 * regression test under ctest without libFuzzer.  A target that finds a
 * broken invariant aborts, which fails the test.  An argument that cannot
 * be read, or a run that finds no input at all, fails too: an empty replay
 * must not pass.
 */
#include <dirent.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "fuzz_check.h"

#define REPLAY_MAX_INPUT (1024 * 1024)

/* Run the target on one file.  Returns 0, or -1 when it cannot be read. */
static int
replay_file(const char *path)
{
	uint8_t *buf;
	size_t len;
	FILE *fp;

	fp = fopen(path, "rb");
	if (fp == NULL) {
		fprintf(stderr, "replay: %s: %s\n", path, strerror(errno));
		return -1;
	}
	buf = malloc(REPLAY_MAX_INPUT);
	if (buf == NULL) {
		fclose(fp);
		return -1;
	}
	len = fread(buf, 1, REPLAY_MAX_INPUT, fp);
	fclose(fp);
	/* An exact-size copy, so a read past the input is caught. */
	{
		uint8_t *in = malloc(len > 0 ? len : 1);

		if (in == NULL) {
			free(buf);
			return -1;
		}
		memcpy(in, buf, len);
		free(buf);
		LLVMFuzzerTestOneInput(in, len);
		free(in);
	}
	return 0;
}

static int
cmp_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Run every regular file of dir, in name order.  Returns the count or -1. */
static int
replay_dir(const char *dir)
{
	char **names = NULL, **tmp, path[4096];
	struct dirent *de;
	size_t n = 0, i;
	int count = 0;
	DIR *d;

	d = opendir(dir);
	if (d == NULL) {
		fprintf(stderr, "replay: %s: %s\n", dir, strerror(errno));
		return -1;
	}
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.') {
			continue;
		}
		tmp = realloc(names, (n + 1) * sizeof(*names));
		if (tmp == NULL) {
			count = -1;
			goto out;
		}
		names = tmp;
		names[n] = strdup(de->d_name);
		if (names[n] == NULL) {
			count = -1;
			goto out;
		}
		n++;
	}
	qsort(names, n, sizeof(*names), cmp_name);
	for (i = 0; i < n; i++) {
		struct stat st;

		snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
		if (stat(path, &st) != 0 || !S_ISREG(st.st_mode)) {
			continue;
		}
		if (replay_file(path) != 0) {
			count = -1;
			goto out;
		}
		count++;
	}
out:
	for (i = 0; i < n; i++) {
		free(names[i]);
	}
	free(names);
	closedir(d);
	return count;
}

int
main(int argc, char **argv)
{
	struct stat st;
	int i, n, total = 0;

	if (argc < 2) {
		fprintf(stderr, "usage: %s dir|file ...\n", argv[0]);
		return 2;
	}
	for (i = 1; i < argc; i++) {
		if (stat(argv[i], &st) != 0) {
			fprintf(stderr, "replay: %s: %s\n", argv[i],
			        strerror(errno));
			return 1;
		}
		if (S_ISDIR(st.st_mode)) {
			n = replay_dir(argv[i]);
		} else {
			n = replay_file(argv[i]) == 0 ? 1 : -1;
		}
		if (n < 0) {
			return 1;
		}
		total += n;
	}
	if (total == 0) {
		fprintf(stderr, "replay: no input found\n");
		return 1;
	}
	printf("replay: %d passed, 0 failed\n", total);
	return 0;
}
