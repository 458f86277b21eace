/*
 * Transfer ACLs: which peers may transfer the zone (transfer.allow), and with which key.
 */
#ifndef STEER_XFR_ACL_H
#define STEER_XFR_ACL_H

#include <sys/socket.h>

struct steer_xfr_conf;

/**
 * Find the first allow entry of @p conf whose prefix holds @p peer. An IPv4-mapped IPv6
 * peer (::ffff:192.0.2.1) matches IPv4 prefixes as its IPv4 address.
 * @param conf  Transfer settings (borrowed for the call).
 * @param peer  The client's address (AF_INET or AF_INET6; borrowed for the call).
 * @return the index of the entry (its `key` says which TSIG key is required, or none),
 *         or -1: the peer may not transfer the zone (REFUSED).
 * Context: any thread; pure, never allocates.
 */
int steer_xfr_acl_match(const struct steer_xfr_conf *conf, const struct sockaddr *peer);

/**
 * Log a warning for every allow entry that lets a private (not loopback) prefix transfer
 * the zone without TSIG, with the entry's position in the config.
 * Context: start-up and reload (the thread that loaded @p conf).
 */
void steer_xfr_acl_warn(const struct steer_xfr_conf *conf);

#endif
