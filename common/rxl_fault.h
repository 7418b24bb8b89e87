/* common: numbered fault-injection sites (the SQLite sqlite3FaultSim model).
 * Any thread; the plan is process-global and read with relaxed atomics.
 *
 * Each place that does I/O calls RXL_FAULT(site). Without
 * -Dfault_injection=true the macro is the constant 0 and the compiler drops
 * the branch. With it, a test arms a plan: "the n-th site hit (counting every
 * site, or only those of one kind) fails with error e, once or from then on".
 * Tests loop n = 1, 2, ... until a clean run hits fewer than n sites, so every
 * I/O operation of a workload gets to fail once.
 */
#ifndef RXL_FAULT_H
#define RXL_FAULT_H

#include <stdbool.h>
#include <stdint.h>

/* Site kinds; a plan may restrict itself to some of them. */
enum rxl_fault_kind {
	RXL_FK_OPEN = 1u << 0,	/* openat/mkdir of a file or folder */
	RXL_FK_ALLOC = 1u << 1, /* fallocate / ftruncate */
	RXL_FK_WRITE = 1u << 2, /* a batch write completion (io_uring) */
	RXL_FK_SYNC = 1u << 3,	/* fdatasync completion, fsync of a folder */
	RXL_FK_META = 1u << 4,	/* rename/unlink/mmap */
	RXL_FK_ALL = 0xffu,
};

/* Error value meaning "a short write": the site reports half the bytes. */
#define RXL_FAULT_SHORT 1

struct rxl_fault_plan {
	uint32_t kinds;	 /* mask of enum rxl_fault_kind */
	uint64_t nth;	 /* 1-based hit number that fails; 0 disarms */
	bool persistent; /* fail every hit from nth on */
	int err;	 /* -errno to inject, or RXL_FAULT_SHORT */
};

#ifdef RXL_FAULT_INJECTION

/**
 * Install a plan and reset the hit counter.
 * Concurrency: call while no I/O runs (between test workloads).
 */
void rxl_fault_arm(const struct rxl_fault_plan *plan);

/**
 * Remove the plan (sites keep counting).
 * Concurrency: as rxl_fault_arm().
 */
void rxl_fault_disarm(void);

/**
 * Suspend (true) or resume (false) every site: while suspended, sites
 * neither count nor fail (tests check the files between steps).
 * Concurrency: as rxl_fault_arm().
 */
void rxl_fault_suspend(bool on);

/**
 * Hits counted since the last rxl_fault_arm() among the plan's kinds.
 * Returns: the count.
 */
uint64_t rxl_fault_hits(void);

/**
 * Injected failures since the last rxl_fault_arm().
 * Returns: the count.
 */
uint64_t rxl_fault_injected(void);

/**
 * A site: count the hit and say whether it must fail.
 * Concurrency: any thread.
 * Returns: 0 to proceed, the plan's error (-errno or RXL_FAULT_SHORT) to fail.
 */
int rxl_fault_site(uint32_t kind);

#define RXL_FAULT(kind) rxl_fault_site(kind)
#define RXL_FAULT_ENABLED 1

#else

#define RXL_FAULT(kind) 0
#define RXL_FAULT_ENABLED 0

#endif

#endif
