/*
 * TSIG (RFC 8945) for zone transfers and NOTIFY: verify a signed request, sign every
 * message of the answer (chained MACs over a TCP stream, §5.3.1), build the error
 * answers (BADKEY, BADSIG unsigned; BADTIME signed, §5.2.3), and the client side that
 * NOTIFY needs (sign a request, verify its answer).
 */
#ifndef STEER_XFR_TSIG_H
#define STEER_XFR_TSIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/err.h"

struct steer_xfr_conf;

/** Seconds of clock difference accepted, and sent in our TSIG RRs (RFC 8945 §10: 300). */
#define STEER_TSIG_FUDGE_S 300

/** Bytes a TSIG RR we append takes at most (names of 255, a SHA-512 MAC, Other Data). */
#define STEER_TSIG_RR_MAX (255 + 10 + 255 + 16 + 64 + 6)

/** What steer_tsig_verify_request() found. The TSIG error codes are RFC 8945 §3. */
enum steer_tsig_rc {
	STEER_TSIG_NONE,    /* the request is not signed */
	STEER_TSIG_OK,      /* signed with a key of the config, MAC and time good */
	STEER_TSIG_BADKEY,  /* unknown key name, or the key's algorithm differs (17) */
	STEER_TSIG_BADSIG,  /* the MAC does not verify (16) */
	STEER_TSIG_BADTIME, /* the MAC verifies, the time is outside the fudge (18) */
	STEER_TSIG_FORMERR, /* the message does not parse, or a TSIG RR is not last */
};

/** One signed exchange: the key, the request MAC, then the prior MAC, the message count. */
struct steer_tsig;

/**
 * Does @p msg have a TSIG RR anywhere but last in the additional section, or more than one
 * (RFC 8945 §5.1: FORMERR), or names and RR headers that run past its end? Check this
 * before ldns_wire2pkt() on a message from the network: ldns keeps only the last of several
 * TSIG RRs and leaks the others.
 * @return true when the message must not go to ldns (answer FORMERR).
 * Context: any; pure.
 */
bool steer_tsig_misplaced(const uint8_t *msg, size_t len);

/**
 * Verify the TSIG RR (last in the additional section) of the request @p msg.
 * @param conf   Transfer settings: any of its keys is accepted (borrowed for the call;
 *               the state copies what it needs).
 * @param now_s  Wall clock, seconds since the epoch.
 * @param out    On STEER_TSIG_OK and STEER_TSIG_BADTIME receives the state (caller frees
 *               with steer_tsig_free()): sign the answers with it (OK), or pass it to
 *               steer_tsig_error_answer() (BADTIME, signed). NULL otherwise. The caller
 *               checks steer_tsig_key_index(*out) against the ACL's required key.
 * @return enum steer_tsig_rc; STEER_TSIG_BADSIG also when memory runs out.
 * Context: any thread; allocates; never logs.
 */
enum steer_tsig_rc steer_tsig_verify_request(const struct steer_xfr_conf *conf, const uint8_t *msg,
					     size_t len, uint64_t now_s, struct steer_tsig **out);

/** Index in conf->keys of the key of @p t. Context: any thread. */
int steer_tsig_key_index(const struct steer_tsig *t);

/**
 * Sign one answer message in place: append the TSIG RR and bump ARCOUNT. The first call
 * covers the request MAC and all TSIG variables; later calls chain the prior MAC and
 * cover only the timers (RFC 8945 §5.3.1), so sign every message of a stream, in order.
 * @param msg  The message; its ID is the request's (the TSIG original ID).
 * @param len  In: the message's length; out: with the TSIG RR.
 * @param cap  Room at @p msg (STEER_TSIG_RR_MAX more than *len is always enough).
 * @return 0, or STEER_ENOSPACE (nothing changed).
 * Context: the thread that owns @p t; reads the wall clock.
 */
STEER_MUSTCHECK int steer_tsig_sign_answer(struct steer_tsig *t, uint8_t *msg, size_t *len,
					   size_t cap);

/**
 * The error answer to @p query for @p rc (RFC 8945 §5.3.2): RCODE NOTAUTH with a TSIG RR
 * carrying the error; unsigned (empty MAC) for BADKEY and BADSIG, signed with @p t for
 * BADTIME, where Other Data holds our time and Time Signed is the request's. FORMERR:
 * RCODE FORMERR without TSIG. The question is copied when it parses.
 * @param t      The state steer_tsig_verify_request() returned with BADTIME; else NULL.
 * @param now_s  Wall clock, seconds since the epoch.
 * @param out    Receives the message (@p cap bytes; 512 are always enough for the
 *               question and TSIG of a query whose names fit in 512 bytes).
 * @return 0, STEER_EINVAL (@p query has no DNS header, or @p rc is not an error), or
 *         STEER_ENOSPACE.
 * Context: any thread; never logs.
 */
STEER_MUSTCHECK int steer_tsig_error_answer(const struct steer_tsig *t, const uint8_t *query,
					    size_t qlen, enum steer_tsig_rc rc, uint64_t now_s,
					    uint8_t *out, size_t *out_len, size_t cap);

/**
 * The client side: a state for signing requests with conf->keys[@p key] (NOTIFY).
 * @return 0, STEER_EINVAL (no such key, or its secret is not base64) or STEER_ENOMEM.
 * Context: any thread.
 */
STEER_MUSTCHECK int steer_tsig_new_client(const struct steer_xfr_conf *conf, int key,
					  struct steer_tsig **out);

/**
 * Sign the request @p msg in place (no prior MAC; time signed @p now_s) and remember its
 * MAC for steer_tsig_verify_answer().
 * @return 0, or STEER_ENOSPACE (nothing changed).
 * Context: the thread that owns @p t.
 */
STEER_MUSTCHECK int steer_tsig_sign_request(struct steer_tsig *t, uint8_t *msg, size_t *len,
					    size_t cap, uint64_t now_s);

/**
 * Verify the answer @p msg to the last request signed with @p t: signed with the same key
 * over the request MAC, and in time.
 * @return STEER_TSIG_OK, or the error found (STEER_TSIG_NONE: the answer is unsigned).
 * Context: the thread that owns @p t; allocates.
 */
enum steer_tsig_rc steer_tsig_verify_answer(const struct steer_tsig *t, const uint8_t *msg,
					    size_t len, uint64_t now_s);

/** The rc's name for logs ("badsig"). Context: any. */
const char *steer_tsig_rc_name(enum steer_tsig_rc rc);

/** Free @p t (NULL-safe); the secret is wiped. */
void steer_tsig_free(struct steer_tsig *t);

#endif
