/* consumers: private declarations of librxlog.
 * Threads: as each function says.
 */
#ifndef RXL_CONSUMERS_PVT_H
#define RXL_CONSUMERS_PVT_H

#include "rxlog.h"

struct rxlog {
	char *dir;
	int dirfd;
};

/**
 * Check a group name: [A-Za-z0-9._-]{1,200}, not "." or "..".
 * Returns: 0 or -EINVAL with a message.
 */
int rxlog_check_name(const char *what, const char *name);

/**
 * mkdir -p "<data>/__groups/<group>" (and "members" below it when @members).
 * Returns: 0 or -errno.
 */
int rxlog_group_dir(struct rxlog *rx, const char *group, bool members, char *buf, size_t len);

/**
 * Test hook: called with step 1..5 inside rxlog_offset_commit() (after
 * create, write, fsync, rename, folder fsync), so a test can kill the
 * process at every step. NULL disables.
 */
extern void (*rxlog_test_commit_hook)(int step);

#endif
