/* The status page (GET / on the API listener): internals of the daemon module. */
#ifndef STEER_DAEMON_PAGE_INT_H
#define STEER_DAEMON_PAGE_INT_H

#include <stdint.h>

#include <jansson.h>

/** The page's state between requests: its own read-only store reader. */
struct page;

/**
 * Render the status page: one self-contained HTML document (inline CSS, no script, no
 * external URL) that refreshes itself every 10 s. It shows every balancer, pool and
 * origin of @p status, the overrides in force, a 24-hour timeline per origin (at most
 * 200 origins) and the last 50 events, both read from the SQLite file @p state_path.
 * Every text from the configuration, the probes or the database is HTML-escaped.
 * @param pg          The page state: NULL at the first call, then what the last call
 *                    left there (the state follows @p state_path when it changes);
 *                    free it with page_free().
 * @param status      The GET /v1/status document (borrowed; see steer_loop_status()).
 * @param state_path  The SQLite file holding the history (borrowed), or NULL for none.
 * @return A malloc'ed NUL-terminated string the caller frees, or NULL when out of
 *         memory. A history that cannot be read is said so on the page, not an error.
 * Context: the API thread only (the reader is that thread's connection). Takes no lock;
 * blocks on SQLite for at most about 2 s in all.
 */
char *page_build(struct page **pg, const json_t *status, const char *state_path);

/** Close the reader and free the page state (NULL-safe). Context: the API thread, or
 * any thread once the API thread has stopped. */
void page_free(struct page *pg);

#endif
