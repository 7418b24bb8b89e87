/* log: the I/O seam — every file operation of the log, as numbered fault sites.
 * Any thread: the table is read-only after start-up (tests swap it while no log is open).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <time.h>
#include <unistd.h>

#include "log_pvt.h"
#include "rxl_fault.h"

static int fault_ret(uint32_t kind)
{
	int e = RXL_FAULT(kind);

	/* A short count makes no sense for a call that returns 0/-errno: make
	 * it an -EIO there. */
	return e == RXL_FAULT_SHORT ? -EIO : e;
}

static int sys_openat(int dirfd, const char *name, int flags, mode_t mode)
{
	int e = fault_ret(RXL_FK_OPEN);

	if (e)
		return e;
	int fd = openat(dirfd, name, flags | O_CLOEXEC, mode);

	return fd < 0 ? -errno : fd;
}

static int sys_fallocate(int fd, off_t off, off_t len)
{
	int e = fault_ret(RXL_FK_ALLOC);

	if (e)
		return e;
	return fallocate(fd, 0, off, len) < 0 ? -errno : 0;
}

static int sys_ftruncate(int fd, off_t len)
{
	int e = fault_ret(RXL_FK_ALLOC);

	if (e)
		return e;
	return ftruncate(fd, len) < 0 ? -errno : 0;
}

static int sys_fdatasync(int fd)
{
	int e = fault_ret(RXL_FK_SYNC);

	if (e)
		return e;
	return fdatasync(fd) < 0 ? -errno : 0;
}

static ssize_t sys_pwrite(int fd, const void *buf, size_t len, off_t off)
{
	int e = RXL_FAULT(RXL_FK_WRITE);

	if (e == RXL_FAULT_SHORT && len > 1)
		len /= 2;
	else if (e)
		return e == RXL_FAULT_SHORT ? -EIO : e;
	ssize_t n = pwrite(fd, buf, len, off);

	return n < 0 ? -errno : n;
}

static int sys_renameat(int dirfd, const char *from, const char *to)
{
	int e = fault_ret(RXL_FK_META);

	if (e)
		return e;
	return renameat(dirfd, from, dirfd, to) < 0 ? -errno : 0;
}

static int sys_unlinkat(int dirfd, const char *name)
{
	int e = fault_ret(RXL_FK_META);

	if (e)
		return e;
	return unlinkat(dirfd, name, 0) < 0 ? -errno : 0;
}

static const struct rxl_io_ops default_ops = {
	.openat = sys_openat,
	.fallocate = sys_fallocate,
	.ftruncate = sys_ftruncate,
	.fdatasync = sys_fdatasync,
	.pwrite = sys_pwrite,
	.renameat = sys_renameat,
	.unlinkat = sys_unlinkat,
};

const struct rxl_io_ops *rxl_io = &default_ops;

void rxl_io_set_ops(const struct rxl_io_ops *ops)
{
	rxl_io = ops ? ops : &default_ops;
}

int rxl_io_complete(uint32_t kind, int res, uint32_t len)
{
	int e = RXL_FAULT(kind);

	if (!e || res < 0)
		return res;
	if (e == RXL_FAULT_SHORT)
		return kind == RXL_FK_WRITE && res > 1 ? res / 2 : -EIO;
	return e;
}

int rxl_io_pwrite_all(int fd, const void *buf, size_t len, off_t off)
{
	const char *p = buf;

	while (len) {
		ssize_t n = rxl_io->pwrite(fd, p, len, off);

		if (n < 0) {
			if (n == -EINTR)
				continue;
			return (int)n;
		}
		if (n == 0)
			return -EIO;
		p += n;
		len -= (size_t)n;
		off += n;
	}
	return 0;
}

int rxl_io_fsync_dir(int dirfd)
{
	int e = fault_ret(RXL_FK_SYNC);

	if (e)
		return e;
	return fsync(dirfd) < 0 ? -errno : 0;
}

int64_t rxl_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

uint64_t rxl_mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}
