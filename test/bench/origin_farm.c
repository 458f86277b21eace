/*
 * Benchmark origin farm: one libevent evhttp server that answers GET /healthz with 200 "ok"
 * on every address it listens on, so one process stands in for thousands of monitored
 * origins. scripts/bench-monitor.sh runs it in a private network namespace bound to 0.0.0.0
 * (only lo exists there), or, without namespaces, on one socket per address (-f).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>

#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <event2/listener.h>

#define BACKLOG  4096
#define ADDR_MAX 64

struct farm {
	struct event_base *base;
	struct evhttp *http;
	uint64_t ok;      /* GET /healthz answered 200 */
	uint64_t other;   /* any other request (404) */
	uint64_t refused; /* requests from a peer outside 127.0.0.0/8 or ::1 (403) */
	size_t n_bound;
};

static void usage(FILE *f)
{
	fprintf(f, "usage: steer-origin-farm [-p PORT] [-a ADDR]... [-f FILE]\n"
		   "  -p PORT  TCP port (default 8080)\n"
		   "  -a ADDR  listen on ADDR (repeatable; default 127.0.0.1)\n"
		   "  -f FILE  listen on every address in FILE, one per line\n"
		   "GET /healthz answers 200 \"ok\"; anything else 404. Requests from peers\n"
		   "outside loopback get 403. SIGTERM/SIGINT print counters and exit.\n");
}

static bool is_loopback_peer(const char *addr)
{
	return strncmp(addr, "127.", 4) == 0 || strcmp(addr, "::1") == 0 ||
	       strncmp(addr, "::ffff:127.", 11) == 0;
}

static void on_request(struct evhttp_request *req, void *arg)
{
	struct farm *fm = arg;
	struct evhttp_connection *conn = evhttp_request_get_connection(req);
	struct evbuffer *body = evhttp_request_get_output_buffer(req);
	const char *uri = evhttp_request_get_uri(req);
	char *peer = NULL;
	ev_uint16_t port = 0;

	evhttp_connection_get_peer(conn, &peer, &port);
	if (peer == NULL || !is_loopback_peer(peer)) {
		fm->refused++;
		evhttp_send_error(req, 403, "loopback only");
		return;
	}
	if (evhttp_request_get_command(req) == EVHTTP_REQ_GET && uri != NULL &&
	    strncmp(uri, "/healthz", 8) == 0 && (uri[8] == '\0' || uri[8] == '?')) {
		fm->ok++;
		evhttp_add_header(evhttp_request_get_output_headers(req), "Content-Type",
				  "text/plain");
		evbuffer_add(body, "ok\n", 3);
		evhttp_send_reply(req, 200, "OK", body);
		return;
	}
	fm->other++;
	evhttp_send_error(req, 404, NULL);
}

static void on_signal(evutil_socket_t sig, short what, void *arg)
{
	struct farm *fm = arg;

	(void)sig;
	(void)what;
	event_base_loopbreak(fm->base);
}

/* A listening socket with a long backlog: 1,000 probes/s arrive in bursts. */
static int bind_one(struct farm *fm, const char *addr, int port)
{
	struct sockaddr_storage ss = {0};
	struct sockaddr_in *sin = (struct sockaddr_in *)&ss;
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;
	socklen_t len;
	struct evconnlistener *lev;

	if (inet_pton(AF_INET, addr, &sin->sin_addr) == 1) {
		sin->sin_family = AF_INET;
		sin->sin_port = htons((uint16_t)port);
		len = sizeof(*sin);
	} else if (inet_pton(AF_INET6, addr, &sin6->sin6_addr) == 1) {
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons((uint16_t)port);
		len = sizeof(*sin6);
	} else {
		fprintf(stderr, "steer-origin-farm: not an IP address: \"%s\"\n", addr);
		return -1;
	}
	lev = evconnlistener_new_bind(fm->base, NULL, NULL,
				      LEV_OPT_REUSEABLE | LEV_OPT_CLOSE_ON_FREE |
					      LEV_OPT_CLOSE_ON_EXEC,
				      BACKLOG, (struct sockaddr *)&ss, (int)len);
	if (lev == NULL) {
		fprintf(stderr, "steer-origin-farm: cannot listen on %s:%d: errno %d\n", addr, port,
			errno);
		return -1;
	}
	if (evhttp_bind_listener(fm->http, lev) == NULL) {
		evconnlistener_free(lev);
		return -1;
	}
	fm->n_bound++;
	return 0;
}

/* One socket per line of @p path: raise the descriptor limit to fit them all first. */
static int bind_file(struct farm *fm, const char *path, int port)
{
	char line[ADDR_MAX];
	size_t n = 0;
	struct rlimit rl;
	FILE *f = fopen(path, "r");
	int rc = 0;

	if (f == NULL) {
		fprintf(stderr, "steer-origin-farm: cannot open %s\n", path);
		return -1;
	}
	while (fgets(line, sizeof(line), f) != NULL)
		n++;
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < n + 1024) {
		rl.rlim_cur = n + 1024 < rl.rlim_max ? n + 1024 : rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
	rewind(f);
	while (rc == 0 && fgets(line, sizeof(line), f) != NULL) {
		line[strcspn(line, " \t\r\n")] = '\0';
		if (line[0] != '\0' && line[0] != '#')
			rc = bind_one(fm, line, port);
	}
	fclose(f);
	return rc;
}

static int parse_port(const char *s)
{
	char *end = NULL;
	long v = strtol(s, &end, 10);

	return end != s && *end == '\0' && v > 0 && v < 65536 ? (int)v : -1;
}

int main(int argc, char **argv)
{
	struct farm fm = {0};
	struct event *sig_term = NULL;
	struct event *sig_int = NULL;
	const char **addrs = calloc((size_t)argc + 1, sizeof(*addrs));
	const char *file = NULL;
	size_t n_addrs = 0;
	int port = 8080;
	int rc = 1;
	int c;

	signal(SIGPIPE, SIG_IGN);
	if (addrs == NULL)
		return 1;
	while ((c = getopt(argc, argv, "p:a:f:h")) != -1) {
		switch (c) {
		case 'p':
			port = parse_port(optarg);
			if (port < 0) {
				usage(stderr);
				goto out;
			}
			break;
		case 'a':
			addrs[n_addrs++] = optarg;
			break;
		case 'f':
			file = optarg;
			break;
		case 'h':
			usage(stdout);
			rc = 0;
			goto out;
		default:
			usage(stderr);
			goto out;
		}
	}
	if (optind < argc) {
		usage(stderr);
		goto out;
	}
	if (n_addrs == 0 && file == NULL)
		addrs[n_addrs++] = "127.0.0.1";
	fm.base = event_base_new();
	fm.http = fm.base != NULL ? evhttp_new(fm.base) : NULL;
	if (fm.http == NULL)
		goto out;
	evhttp_set_gencb(fm.http, on_request, &fm);
	evhttp_set_timeout(fm.http, 10);
	for (size_t i = 0; i < n_addrs; i++)
		if (bind_one(&fm, addrs[i], port) < 0)
			goto out;
	if (file != NULL && bind_file(&fm, file, port) < 0)
		goto out;
	sig_term = evsignal_new(fm.base, SIGTERM, on_signal, &fm);
	sig_int = evsignal_new(fm.base, SIGINT, on_signal, &fm);
	if (sig_term == NULL || sig_int == NULL || evsignal_add(sig_term, NULL) < 0 ||
	    evsignal_add(sig_int, NULL) < 0)
		goto out;
	printf("listening sockets=%zu port=%d\n", fm.n_bound, port);
	fflush(stdout);
	event_base_dispatch(fm.base);
	printf("requests ok=%" PRIu64 " other=%" PRIu64 " refused=%" PRIu64 "\n", fm.ok, fm.other,
	       fm.refused);
	rc = 0;
out:
	if (sig_term != NULL)
		event_free(sig_term);
	if (sig_int != NULL)
		event_free(sig_int);
	if (fm.http != NULL)
		evhttp_free(fm.http);
	if (fm.base != NULL)
		event_base_free(fm.base);
	free(addrs);
	return rc;
}
