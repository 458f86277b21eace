/*
 * DNS wire layer: query parsing (header, question, EDNS OPT) without ldns, and a bounded
 * response writer. No policy lives here: the zone module decides what to answer.
 */
#ifndef STEER_DNS_WIRE_H
#define STEER_DNS_WIRE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define STEER_DNS_HDR_LEN      12
#define STEER_DNS_UDP_MIN      512
#define STEER_DNS_UDP_MAX      1232 /* RFC 9715 / DNS flag day 2020 */
#define STEER_DNS_TCP_MAX      65535
#define STEER_DNS_MAX_NAME     255
#define STEER_DNS_OPT_NSID     3
#define STEER_DNS_OPT_COOKIE   10 /* RFC 7873 */
#define STEER_DNS_OPT_EDE      15
#define STEER_DNS_EDE_NOT_AUTH 20

/* DNS Cookies (RFC 7873 §4): an 8-byte client cookie, optionally followed by a server
 * cookie of 8 to 32 bytes; ours are 16 bytes (RFC 9018 §4.2). */
#define STEER_DNS_CLIENT_COOKIE  8
#define STEER_DNS_SERVER_COOKIE  16
#define STEER_DNS_COOKIE_MIN_SRV 16 /* option length with the shortest server cookie */
#define STEER_DNS_COOKIE_MAX     40
#define STEER_DNS_COOKIE_REPLY   (STEER_DNS_CLIENT_COOKIE + STEER_DNS_SERVER_COOKIE)
#define STEER_DNS_SECRET_LEN     16 /* SipHash-2-4 key */

enum {
	STEER_RR_A = 1,
	STEER_RR_NS = 2,
	STEER_RR_CNAME = 5,
	STEER_RR_SOA = 6,
	STEER_RR_PTR = 12,
	STEER_RR_MX = 15,
	STEER_RR_TXT = 16,
	STEER_RR_AAAA = 28,
	STEER_RR_SRV = 33,
	STEER_RR_OPT = 41,
	STEER_RR_DS = 43,
	STEER_RR_RRSIG = 46,
	STEER_RR_NSEC = 47,
	STEER_RR_TSIG = 250,
	STEER_RR_IXFR = 251,
	STEER_RR_AXFR = 252,
	STEER_RR_MAILB = 253,
	STEER_RR_MAILA = 254,
	STEER_RR_ANY = 255,
	STEER_RR_CAA = 257,
};

enum {
	STEER_CLASS_IN = 1,
	STEER_CLASS_CH = 3,
	STEER_CLASS_ANY = 255, /* QCLASS only (RFC 1035 §3.2.5) */
};

enum {
	STEER_RCODE_NOERROR = 0,
	STEER_RCODE_FORMERR = 1,
	STEER_RCODE_SERVFAIL = 2,
	STEER_RCODE_NXDOMAIN = 3,
	STEER_RCODE_NOTIMP = 4,
	STEER_RCODE_REFUSED = 5,
	STEER_RCODE_BADVERS = 16,
	STEER_RCODE_BADCOOKIE = 23, /* RFC 7873 §8 */
};

/** Outcome of parsing a query. */
enum steer_dns_parse {
	STEER_DNS_OK,      /* a well-formed QUERY with one question */
	STEER_DNS_DROP,    /* too short for a header, or QR=1: send nothing */
	STEER_DNS_FORMERR, /* answer FORMERR */
	STEER_DNS_NOTIMP,  /* opcode other than QUERY: answer NOTIMP */
};

/** A parsed query; points into the packet, which must outlive it. */
struct steer_dns_query {
	const uint8_t *pkt;
	size_t len;
	uint16_t id;
	uint8_t opcode;
	bool rd;
	bool cd;
	bool has_question;   /* question parsed: it is echoed in the response */
	size_t question_end; /* offset just past the question */
	uint8_t qname_len;   /* wire length including the root label */
	uint16_t qtype;
	uint16_t qclass;
	bool edns;
	bool edns_do;
	uint8_t edns_version;
	uint16_t edns_udp_size;
	bool nsid;
	const uint8_t *cookie; /* first COOKIE option's data (in pkt), or NULL */
	uint8_t cookie_len;    /* its length as sent (not checked: see steer_dns_cookie_len_ok) */
	uint8_t qname[STEER_DNS_MAX_NAME]; /* lower-cased copy; last: not cleared per query */
};

/**
 * Parse the query in @p pkt (length @p len) into @p q.
 * @return STEER_DNS_OK, _DROP, _FORMERR or _NOTIMP. For _FORMERR and _NOTIMP,
 * q->id/opcode/rd are set and q->has_question tells whether the question can be echoed;
 * q->edns tells whether an OPT was read before the error.
 * Context: answer path; no allocation.
 */
enum steer_dns_parse steer_dns_parse_query(const uint8_t *pkt, size_t len,
					   struct steer_dns_query *q);

/**
 * Where a TSIG record (RFC 8945) ends the message of @p len bytes at @p pkt: the offset of
 * that last record of the additional section, which a TSIG must be (§5.1). A light scan of
 * the counts, the question and the records, for the caller to route signed queries.
 * @return the offset, or 0 when the last record is not a TSIG (or the message is
 *         malformed: then the normal answer path judges it).
 * Context: answer path; pure.
 */
size_t steer_dns_tsig_offset(const uint8_t *pkt, size_t len);

/** A response being written into a caller-owned buffer. */
struct steer_dns_writer {
	uint8_t *buf;
	size_t cap;   /* hard end of the buffer */
	size_t limit; /* current size limit (UDP payload size minus room for OPT) */
	size_t len;
	bool overflow; /* a write did not fit within limit: the response must be truncated */
};

/** Initialise @p w over @p buf of @p cap bytes with @p limit (<= cap). */
void steer_dns_writer_init(struct steer_dns_writer *w, uint8_t *buf, size_t cap, size_t limit);

/** Append bytes; on overflow nothing is written and w->overflow is set. @return 0 or -1. */
int steer_dns_put(struct steer_dns_writer *w, const void *data, size_t n);
int steer_dns_put_u16(struct steer_dns_writer *w, uint16_t v);
int steer_dns_put_u32(struct steer_dns_writer *w, uint32_t v);

/**
 * Write the response header and the question echoed byte for byte from @p q.
 * Counts start at zero; flags: QR=1, opcode and RD copied, CD copied, RA=0.
 */
void steer_dns_write_header(struct steer_dns_writer *w, const struct steer_dns_query *q, bool aa,
			    int rcode);

/** Set a section count (0 = answer, 1 = authority, 2 = additional). */
void steer_dns_set_count(struct steer_dns_writer *w, int section, uint16_t count);

/** Read a section count. */
uint16_t steer_dns_get_count(const struct steer_dns_writer *w, int section);

/** Set the AA bit and the header RCODE (low 4 bits of @p rcode). */
void steer_dns_set_rcode(struct steer_dns_writer *w, bool aa, int rcode);

/** Set the TC bit. */
void steer_dns_set_tc(struct steer_dns_writer *w);

/** What the OPT record of a response carries besides its fixed fields. */
struct steer_dns_opt_out {
	const char *nsid;      /* identity for NSID, sent if the query asked for it */
	size_t nsid_len;       /* 0: no NSID */
	int ede;               /* Extended DNS Error code (RFC 8914), or -1 for none */
	const uint8_t *cookie; /* STEER_DNS_COOKIE_REPLY bytes (client + server cookie), or NULL */
};

/** Room the OPT record described by @p o needs in the response to @p q (0 without EDNS). */
size_t steer_dns_opt_size(const struct steer_dns_query *q, const struct steer_dns_opt_out *o);

/**
 * Append the OPT record (RFC 6891): payload size STEER_DNS_UDP_MAX, extended RCODE from
 * @p rcode >> 4, version 0, DO copied; then NSID, COOKIE and EDE as @p o says. Bumps
 * ARCOUNT. Ignores w->limit (room was reserved with steer_dns_opt_size()).
 */
void steer_dns_write_opt(struct steer_dns_writer *w, const struct steer_dns_query *q, int rcode,
			 const struct steer_dns_opt_out *o);

/**
 * Write an error response (FORMERR, NOTIMP, REFUSED, BADCOOKIE...) with no records: header,
 * the question if it was parsed, and OPT (as @p o says) if the query had one.
 * @return response length.
 */
size_t steer_dns_write_error(uint8_t *buf, size_t cap, const struct steer_dns_query *q, int rcode,
			     const struct steer_dns_opt_out *o);

/** True if a COOKIE option of @p len bytes is well formed (RFC 7873 §5.2.2: 8, or 16-40). */
bool steer_dns_cookie_len_ok(size_t len);

/**
 * SipHash-2-4 of @p len bytes at @p msg under the 16-byte key @p key (the reference
 * algorithm of Aumasson and Bernstein: 64-bit result, read as little-endian words).
 * Context: any; pure.
 */
uint64_t steer_dns_siphash24(const uint8_t key[STEER_DNS_SECRET_LEN], const void *msg, size_t len);

/** The secrets server cookies are made and checked with (RFC 9018 §5: a rollover keeps the
 * previous secret valid for a cookie's lifetime). Immutable once published. */
struct steer_dns_cookie_keys {
	uint8_t cur[STEER_DNS_SECRET_LEN];  /* makes new cookies; accepted */
	uint8_t prev[STEER_DNS_SECRET_LEN]; /* accepted, if has_prev */
	bool has_prev;
};

/** How a received server cookie checks out (RFC 9018 §4.3). */
enum steer_dns_cookie_check {
	STEER_COOKIE_INVALID, /* none, wrong version or length, wrong hash, expired, future */
	STEER_COOKIE_VALID,   /* valid and recent: it may be echoed unchanged */
	STEER_COOKIE_RENEW,   /* valid, but half its lifetime is gone: send a new one */
};

/**
 * Make the RFC 9018 server cookie (version 1, reserved 0, timestamp @p now_s, SipHash-2-4
 * of client cookie | version | reserved | timestamp | client IP under @p secret) into @p out.
 * @param ip  Client address, 4 (IPv4) or 16 (IPv6) bytes, network order.
 * Context: answer path; pure.
 */
void steer_dns_cookie_make(const uint8_t secret[STEER_DNS_SECRET_LEN],
			   const uint8_t client[STEER_DNS_CLIENT_COOKIE], const uint8_t *ip,
			   size_t ip_len, uint32_t now_s, uint8_t out[STEER_DNS_SERVER_COOKIE]);

/**
 * Check the COOKIE option @p opt of @p opt_len bytes (client cookie, then the server
 * cookie) sent from address @p ip at time @p now_s, against the current and the previous
 * secret of @p keys. A server cookie older than one hour or more than five minutes in the
 * future is invalid; one older than half an hour is renewed (RFC 9018 §4.3).
 * Context: answer path; pure.
 */
enum steer_dns_cookie_check steer_dns_cookie_check(const struct steer_dns_cookie_keys *keys,
						   const uint8_t *opt, size_t opt_len,
						   const uint8_t *ip, size_t ip_len,
						   uint32_t now_s);

/** Wall clock seconds for cookie timestamps (CLOCK_REALTIME_COARSE: vDSO, no system call). */
uint32_t steer_dns_cookie_now(void);

#endif
