/* Helpers shared by the unit and component tests: temporary folders. */
#ifndef STEER_TEST_TESTUTIL_H
#define STEER_TEST_TESTUTIL_H

#include <stddef.h>

/**
 * Create a fresh folder $TMPDIR/@p prefix-XXXXXX (/tmp without TMPDIR) into @p out.
 * @return 0, or -1 with errno set.
 */
int steer_test_tmpdir(char *out, size_t size, const char *prefix);

/** Remove @p path and, for a folder, everything below it (links are not followed).
 * @return 0, or -1 if something could not be removed. A missing path is not an error. */
int steer_test_rm_rf(const char *path);

#endif
