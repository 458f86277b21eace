/*
 * Transfer ACLs: the peer's address against the transfer.allow prefixes, in order, first
 * match wins.
 */
#include "xfr/acl.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>

#include "config/config.h"

#define STEER_LOG_SRC "xfr"
#include "core/log.h"

/* Do the first @p bits bits of @p a and @p b agree? */
static bool bits_equal(const uint8_t *a, const uint8_t *b, unsigned bits)
{
	if (memcmp(a, b, bits / 8) != 0)
		return false;
	if (bits % 8 == 0)
		return true;
	return ((a[bits / 8] ^ b[bits / 8]) & (0xff00 >> (bits % 8))) == 0;
}

/* The peer's family and address bytes; IPv4-mapped IPv6 becomes IPv4. @return 0 or -1. */
static int peer_addr(const struct sockaddr *peer, int *family, uint8_t addr[16])
{
	if (peer->sa_family == AF_INET) {
		const struct sockaddr_in *s4 = (const struct sockaddr_in *)(const void *)peer;

		memcpy(addr, &s4->sin_addr, 4);
		*family = AF_INET;
		return 0;
	}
	if (peer->sa_family == AF_INET6) {
		const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)(const void *)peer;

		if (IN6_IS_ADDR_V4MAPPED(&s6->sin6_addr)) {
			memcpy(addr, s6->sin6_addr.s6_addr + 12, 4);
			*family = AF_INET;
		} else {
			memcpy(addr, s6->sin6_addr.s6_addr, 16);
			*family = AF_INET6;
		}
		return 0;
	}
	return -1;
}

int steer_xfr_acl_match(const struct steer_xfr_conf *conf, const struct sockaddr *peer)
{
	uint8_t addr[16] = {0};
	int family;

	if (conf == NULL || peer == NULL || peer_addr(peer, &family, addr) < 0)
		return -1;
	for (size_t i = 0; i < conf->n_allow; i++) {
		const struct steer_xfr_allow *a = &conf->allow[i];

		if (a->family == family && bits_equal(a->addr, addr, a->prefix_len))
			return (int)i;
	}
	return -1;
}

void steer_xfr_acl_warn(const struct steer_xfr_conf *conf)
{
	char text[INET6_ADDRSTRLEN];

	for (size_t i = 0; conf != NULL && i < conf->n_allow; i++) {
		const struct steer_xfr_allow *a = &conf->allow[i];

		if (!a->keyless_private)
			continue;
		if (inet_ntop(a->family, a->addr, text, sizeof(text)) == NULL)
			text[0] = '\0';
		log_warn("%s:%d:%d: transfer.allow[%zu]: prefix=%s/%u may transfer the zone "
			 "without tsig; add a \"key\" unless the network is trusted",
			 a->pos.file != NULL ? a->pos.file : "steerd.json", a->pos.line,
			 a->pos.column, i, text, a->prefix_len);
	}
}
