/*
 * Component test of the NOTIFY sender (lib/xfr/notify.c) against a real UDP socket on
 * loopback that plays the secondary: it parses each NOTIFY with ldns, checks its TSIG,
 * leaves the first try unanswered (retries work), answers the second with a wrong ID
 * (ignored: a third try comes) and the third right,
 * and sees a newer serial replace the retries of an older one. A silent target is given
 * up after the configured tries.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <ldns/ldns.h>

#include "config/config.h"
#include "xfr/notify.h"

#define SECRET "c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0LTMyYg=="

static char key_name[] = "sec1.", key_alg[] = "hmac-sha256", key_secret[] = SECRET;
static struct steer_xfr_key keys[] = {
	{.name = key_name, .algorithm = key_alg, .secret_b64 = key_secret},
};

/* One received NOTIFY. */
struct got {
	uint8_t wire[2048];
	size_t len;
	struct sockaddr_storage from;
	socklen_t from_len;
	ldns_pkt *pkt;
};

/* A UDP socket on 127.0.0.1, any port; its address into @p t. */
static int secondary(struct steer_xfr_target *t)
{
	struct sockaddr_in *sin = (struct sockaddr_in *)&t->addr;
	int fd = socket(AF_INET, SOCK_DGRAM, 0);

	assert_true(fd >= 0);
	memset(t, 0, sizeof(*t));
	sin->sin_family = AF_INET;
	sin->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(fd, (struct sockaddr *)sin, sizeof(*sin)), 0);
	t->addr_len = sizeof(*sin);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&t->addr, &t->addr_len), 0);
	return fd;
}

/* Wait (at most @p ms) for a datagram on @p fd. @return true if one came. */
static bool recv_one(int fd, int ms, struct got *g)
{
	struct pollfd p = {.fd = fd, .events = POLLIN};
	ssize_t r;

	if (poll(&p, 1, ms) != 1)
		return false;
	g->from_len = sizeof(g->from);
	r = recvfrom(fd, g->wire, sizeof(g->wire), 0, (struct sockaddr *)&g->from, &g->from_len);
	assert_true(r > 0);
	g->len = (size_t)r;
	assert_int_equal(ldns_wire2pkt(&g->pkt, g->wire, g->len), LDNS_STATUS_OK);
	return true;
}

/* A NOTIFY for lb.example.test. SOA IN, signed with sec1 when @p signed_. */
static void check_notify(struct got *g, bool signed_)
{
	const ldns_rr *q;
	char *owner;

	assert_int_equal(ldns_pkt_get_opcode(g->pkt), LDNS_PACKET_NOTIFY);
	assert_true(ldns_pkt_aa(g->pkt));
	assert_false(ldns_pkt_qr(g->pkt));
	assert_int_equal(ldns_pkt_qdcount(g->pkt), 1);
	q = ldns_rr_list_rr(ldns_pkt_question(g->pkt), 0);
	assert_int_equal(ldns_rr_get_type(q), LDNS_RR_TYPE_SOA);
	assert_int_equal(ldns_rr_get_class(q), LDNS_RR_CLASS_IN);
	owner = ldns_rdf2str(ldns_rr_owner(q));
	assert_string_equal(owner, "lb.example.test.");
	free(owner);
	if (signed_)
		assert_true(ldns_pkt_tsig_verify(g->pkt, g->wire, g->len, "sec1.", SECRET, NULL));
	else
		assert_null(ldns_pkt_tsig(g->pkt));
}

/* Answer @p g as a secondary does (QR, the question, TSIG over the request MAC), with
 * ID @p id. */
static void answer(int fd, const struct got *g, uint16_t id)
{
	ldns_pkt *a = ldns_pkt_new();
	uint8_t *w;
	size_t n;

	assert_non_null(a);
	ldns_pkt_set_id(a, id);
	ldns_pkt_set_qr(a, true);
	ldns_pkt_set_aa(a, true);
	ldns_pkt_set_opcode(a, LDNS_PACKET_NOTIFY);
	ldns_pkt_push_rr(a, LDNS_SECTION_QUESTION,
			 ldns_rr_clone(ldns_rr_list_rr(ldns_pkt_question(g->pkt), 0)));
	if (ldns_pkt_tsig(g->pkt) != NULL)
		assert_int_equal(ldns_pkt_tsig_sign(a, "sec1.", SECRET, 300, "hmac-sha256.",
						    ldns_rr_rdf(ldns_pkt_tsig(g->pkt), 3)),
				 LDNS_STATUS_OK);
	assert_int_equal(ldns_pkt2wire(&w, a, &n), LDNS_STATUS_OK);
	assert_int_equal(sendto(fd, w, n, 0, (const struct sockaddr *)&g->from, g->from_len),
			 (ssize_t)n);
	free(w);
	ldns_pkt_free(a);
}

static void got_fini(struct got *g)
{
	ldns_pkt_free(g->pkt);
	g->pkt = NULL;
}

/* Poll the notifier's counters until @p field reaches @p want (at most 5 s). */
#define WAIT_STAT(n, field, want)                                                                  \
	do {                                                                                       \
		struct steer_xfr_notify_stats st_;                                                 \
		for (int i_ = 0; i_ < 500; i_++) {                                                 \
			steer_xfr_notifier_stats((n), &st_);                                       \
			if (st_.field >= (want))                                                   \
				break;                                                             \
			nanosleep(&(struct timespec){.tv_nsec = 10000000}, NULL);                  \
		}                                                                                  \
		steer_xfr_notifier_stats((n), &st_);                                               \
		assert_int_equal(st_.field, (want));                                               \
	} while (0)

static void test_retry_then_ack(void **state)
{
	struct steer_xfr_target t;
	struct steer_xfr_conf conf = {
		.enabled = true, .notify = &t, .n_notify = 1, .keys = keys, .n_keys = 1};
	struct steer_xfr_notifier *n = NULL;
	struct got g1 = {0}, g2 = {0};
	int fd = secondary(&t);

	(void)state;
	t.key = 0;
	assert_int_equal(steer_xfr_notifier_new(&conf, "lb.example.test", &n, NULL), 0);
	steer_xfr_notifier_set_timing(n, 100, 5);
	steer_xfr_notifier_send(n, 7);
	assert_true(recv_one(fd, 5000, &g1)); /* first try: not answered */
	check_notify(&g1, true);
	assert_true(recv_one(fd, 5000, &g2)); /* the retry */
	check_notify(&g2, true);
	assert_int_equal(ldns_pkt_id(g2.pkt), ldns_pkt_id(g1.pkt));
	answer(fd, &g2, (uint16_t)(ldns_pkt_id(g2.pkt) + 1)); /* a wrong ID: ignored */
	got_fini(&g1);
	assert_true(recv_one(fd, 5000, &g1)); /* so it tries again */
	check_notify(&g1, true);
	answer(fd, &g1, ldns_pkt_id(g1.pkt));
	WAIT_STAT(n, acked, 1);
	WAIT_STAT(n, sent, 3);
	got_fini(&g1);
	got_fini(&g2);
	steer_xfr_notifier_free(n);
	close(fd);
}

static void test_newer_serial_replaces(void **state)
{
	struct steer_xfr_target t;
	struct steer_xfr_conf conf = {.enabled = true, .notify = &t, .n_notify = 1};
	struct steer_xfr_notifier *n = NULL;
	struct got g = {0};
	uint16_t old_id;
	int fd = secondary(&t), guard = 0;

	(void)state;
	t.key = -1;
	assert_int_equal(steer_xfr_notifier_new(&conf, "lb.example.test.", &n, NULL), 0);
	steer_xfr_notifier_set_timing(n, 100, 50);
	steer_xfr_notifier_send(n, 8);
	assert_true(recv_one(fd, 5000, &g));
	check_notify(&g, false);
	old_id = ldns_pkt_id(g.pkt);
	got_fini(&g);
	steer_xfr_notifier_send(n, 9);
	/* retries of serial 8 may still be on their way; the first new ID is serial 9's */
	do {
		got_fini(&g);
		assert_true(recv_one(fd, 5000, &g));
	} while (ldns_pkt_id(g.pkt) == old_id && ++guard < 100);
	assert_int_not_equal(ldns_pkt_id(g.pkt), old_id);
	check_notify(&g, false);
	answer(fd, &g, ldns_pkt_id(g.pkt));
	WAIT_STAT(n, acked, 1);
	WAIT_STAT(n, replaced, 1);
	got_fini(&g);
	/* serial 8 is never sent again (the socket is FIFO: nothing of it is queued) */
	while (recv_one(fd, 300, &g)) {
		assert_int_not_equal(ldns_pkt_id(g.pkt), old_id);
		got_fini(&g);
	}
	steer_xfr_notifier_free(n);
	close(fd);
}

static void test_give_up(void **state)
{
	struct steer_xfr_target t;
	struct steer_xfr_conf conf = {.enabled = true, .notify = &t, .n_notify = 1};
	struct steer_xfr_notifier *n = NULL;
	int fd = secondary(&t);

	(void)state;
	t.key = -1;
	assert_int_equal(steer_xfr_notifier_new(&conf, "lb.example.test.", &n, NULL), 0);
	steer_xfr_notifier_set_timing(n, 20, 3);
	steer_xfr_notifier_send(n, 1);
	WAIT_STAT(n, failed, 1);
	WAIT_STAT(n, sent, 3);
	steer_xfr_notifier_free(n);
	close(fd);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_retry_then_ack),
		cmocka_unit_test(test_newer_serial_replaces),
		cmocka_unit_test(test_give_up),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
