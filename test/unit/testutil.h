/* Helpers shared by the unit and component tests: temporary folders, loopback ports. */
#ifndef STEER_TEST_TESTUTIL_H
#define STEER_TEST_TESTUTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

/**
 * Create a fresh folder $TMPDIR/@p prefix-XXXXXX (/tmp without TMPDIR) into @p out.
 * @return 0, or -1 with errno set.
 */
int steer_test_tmpdir(char *out, size_t size, const char *prefix);

/** Remove @p path and, for a folder, everything below it (links are not followed).
 * @return 0, or -1 if something could not be removed. A missing path is not an error. */
int steer_test_rm_rf(const char *path);

/** @p port on 127.0.0.1 (AF_INET) or ::1 (AF_INET6) into @p ss / @p len. */
void steer_test_loopback(int family, uint16_t port, struct sockaddr_storage *ss, socklen_t *len);

/**
 * Can a plain socket (no SO_REUSEADDR, no SO_REUSEPORT) bind @p port over UDP and TCP on
 * 127.0.0.1 and ::1? Only if no socket of any kind is bound there.
 */
bool steer_test_port_is_free(uint16_t port);

/**
 * A port free on 127.0.0.1 and ::1 for UDP and TCP, below the kernel's ephemeral range
 * (so no client socket can take it meanwhile), random so parallel tests differ.
 * @return the port, or 0 if none was found.
 */
uint16_t steer_test_free_port(void);

#endif
