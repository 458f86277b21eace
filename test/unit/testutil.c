/* Temporary folders for tests. */
#include "testutil.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int steer_test_tmpdir(char *out, size_t size, const char *prefix)
{
	const char *tmp = getenv("TMPDIR"); /* NOLINT(concurrency-mt-unsafe): no setenv */

	if ((size_t)snprintf(out, size, "%s/%s-XXXXXX",
			     tmp != NULL && tmp[0] != '\0' ? tmp : "/tmp", prefix) >= size) {
		errno = ENAMETOOLONG;
		return -1;
	}
	return mkdtemp(out) != NULL ? 0 : -1;
}

int steer_test_rm_rf(const char *path)
{
	struct stat sb;
	struct dirent *e;
	DIR *d;
	int rc = 0;

	if (lstat(path, &sb) != 0)
		return errno == ENOENT ? 0 : -1;
	if (!S_ISDIR(sb.st_mode))
		return unlink(path);
	d = opendir(path);
	if (d == NULL)
		return -1;
	/* NOLINTNEXTLINE(concurrency-mt-unsafe): a private DIR stream */
	for (e = readdir(d); e != NULL; e = readdir(d)) {
		char sub[4096];

		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		snprintf(sub, sizeof(sub), "%s/%s", path, e->d_name);
		if (steer_test_rm_rf(sub) < 0)
			rc = -1;
	}
	closedir(d);
	return rmdir(path) == 0 ? rc : -1;
}
