/* tests: runs a fuzz target's LLVMFuzzerTestOneInput over corpus files, without libFuzzer.
 * Single-threaded program; meson links it with each tests/fuzz/fuzz_<name>.c (suite unit).
 *
 *   replay PATH...   each PATH a file, or a folder whose regular files (not
 *                    dot files) are replayed in name order, one level deep.
 *
 * Every input is copied into a heap block of exactly its size, as libFuzzer
 * does, so under ASan a read past the end fails. A target reports a broken
 * invariant by aborting. Exits 0 after replaying at least one input, 1 when
 * a path cannot be read or no input was found (an empty corpus is a mistake,
 * not a pass).
 */
#include <dirent.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
/* Optional in a target, as in libFuzzer. */
int LLVMFuzzerInitialize(int *argc, char ***argv) __attribute__((weak));

static int replay_file(const char *path, unsigned long *count)
{
	FILE *fp = fopen(path, "rb");
	uint8_t *buf = NULL;
	long size;

	if (!fp)
		goto err;
	if (fseek(fp, 0, SEEK_END) != 0 || (size = ftell(fp)) < 0 || fseek(fp, 0, SEEK_SET) != 0)
		goto err_close;
	buf = malloc(size ? (size_t)size : 1);
	if (!buf || fread(buf, 1, (size_t)size, fp) != (size_t)size)
		goto err_free;
	fclose(fp);
	LLVMFuzzerTestOneInput(buf, (size_t)size);
	free(buf);
	(*count)++;
	return 0;

err_free:
	free(buf);
err_close:
	fclose(fp);
err:
	fprintf(stderr, "replay: cannot read %s: %s\n", path, strerror(errno ? errno : EIO));
	return -1;
}

static int skip_dot(const struct dirent *d)
{
	return d->d_name[0] != '.';
}

static int replay_path(const char *path, unsigned long *count)
{
	struct dirent **names;
	struct stat st;
	char sub[4096];
	int n, rc = 0;

	if (stat(path, &st) != 0) {
		fprintf(stderr, "replay: %s: %s\n", path, strerror(errno));
		return -1;
	}
	if (!S_ISDIR(st.st_mode))
		return replay_file(path, count);
	n = scandir(path, &names, skip_dot, alphasort);
	if (n < 0) {
		fprintf(stderr, "replay: %s: %s\n", path, strerror(errno));
		return -1;
	}
	for (int i = 0; i < n; i++) {
		snprintf(sub, sizeof(sub), "%s/%s", path, names[i]->d_name);
		if (rc == 0 && stat(sub, &st) == 0 && S_ISREG(st.st_mode))
			rc = replay_file(sub, count);
		free(names[i]);
	}
	free(names);
	return rc;
}

int main(int argc, char **argv)
{
	unsigned long count = 0;

	if (argc < 2) {
		fprintf(stderr, "usage: %s FILE|FOLDER...\n", argv[0]);
		return 1;
	}
	if (LLVMFuzzerInitialize)
		LLVMFuzzerInitialize(&argc, &argv);
	for (int i = 1; i < argc; i++)
		if (replay_path(argv[i], &count) != 0)
			return 1;
	if (count == 0) {
		fprintf(stderr, "replay: no inputs found\n");
		return 1;
	}
	printf("replay: %lu inputs, no failure\n", count);
	return 0;
}
