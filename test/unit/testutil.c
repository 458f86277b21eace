/* Temporary folders and free loopback ports for tests. */
#include "testutil.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
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

#define PORT_TRIES 200

/* xorshift64: a test-side random port, different in parallel runs */
static uint64_t next_random(void)
{
	static uint64_t s;
	struct timespec ts;

	if (s == 0) {
		clock_gettime(CLOCK_REALTIME, &ts);
		s = ((uint64_t)ts.tv_nsec << 16) ^ (uint64_t)getpid() ^ 0x9e3779b97f4a7c15ull;
	}
	s ^= s << 13;
	s ^= s >> 7;
	s ^= s << 17;
	return s;
}

void steer_test_loopback(int family, uint16_t port, struct sockaddr_storage *ss, socklen_t *len)
{
	memset(ss, 0, sizeof(*ss));
	if (family == AF_INET) {
		struct sockaddr_in *s4 = (struct sockaddr_in *)(void *)ss;

		s4->sin_family = AF_INET;
		s4->sin_port = htons(port);
		s4->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		*len = sizeof(*s4);
	} else {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)(void *)ss;

		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons(port);
		s6->sin6_addr = in6addr_loopback;
		*len = sizeof(*s6);
	}
}

bool steer_test_port_is_free(uint16_t port)
{
	static const int families[] = {AF_INET, AF_INET6};
	static const int types[] = {SOCK_DGRAM, SOCK_STREAM};
	bool free_ = true;

	for (size_t f = 0; f < 2; f++) {
		for (size_t t = 0; t < 2; t++) {
			struct sockaddr_storage ss;
			socklen_t len;
			int fd = socket(families[f], types[t] | SOCK_CLOEXEC, 0);

			if (fd < 0)
				return false;
			steer_test_loopback(families[f], port, &ss, &len);
			if (bind(fd, (struct sockaddr *)&ss, len) < 0)
				free_ = false;
			close(fd);
		}
	}
	return free_;
}

uint16_t steer_test_free_port(void)
{
	unsigned low = 32768, high = 60999;
	FILE *fp = fopen("/proc/sys/net/ipv4/ip_local_port_range", "r");

	if (fp != NULL) {
		if (fscanf(fp, "%u %u", &low, &high) != 2)
			low = 32768;
		fclose(fp);
	}
	if (low < 11000)
		low = 60000; /* no room below the range: any port, as test/free_port.py does */
	for (int i = 0; i < PORT_TRIES; i++) {
		uint16_t port = (uint16_t)(10000 + next_random() % (low - 10000));

		if (steer_test_port_is_free(port))
			return port;
	}
	return 0;
}
