/* dataplane: DPDK EAL set-up from rxlogd's configuration — the user never
 * writes EAL's argument syntax (a pass-through exists: eal_args).
 * Main thread, at start-up only.
 *
 * Decisions (docs/DATAPLANE.md, "EAL"):
 *   - lcores: main lcore 0 on CPU 0 (control: stats, signals; it mostly
 *     sleeps), then the rx lcores, then the writer lcores, each pinned to
 *     its own CPU: from CPU 1 when there are enough CPUs, else from CPU 0
 *     (sharing it with the main lcore), written as --lcores;
 *   - memory: hugepages when they are (or can be made) available, as
 *     --in-memory (nothing left in hugetlbfs after a crash); else
 *     --no-huge -m memory_mb --no-shconf. "hugepages = on" fails instead of
 *     falling back, "off" never tries;
 *   - --file-prefix <program>-<pid> (rxlogd-<pid>, rxlog-gen-<pid>): runs
 *     never collide;
 *   - ports: "net_*" names are virtual devices (--vdev), anything else a PCI
 *     address (-a); --no-pci when no PCI port is named.
 */
#ifndef RXL_EAL_H
#define RXL_EAL_H

#include <stdbool.h>
#include <stdint.h>

#include "rxl_config.h"

#define RXL_EAL_MAX_ARGS 96

struct rxl_eal_plan {
	int argc;
	char *argv[RXL_EAL_MAX_ARGS + 1];
	char store[8192]; /* the strings argv points into */
	size_t used;
	bool hugepages;	    /* true: --in-memory on hugepages; false: --no-huge */
	uint32_t lcores;    /* main + rx + writers */
	char summary[2048]; /* the start-up line: what was chosen and why */
};

/**
 * Make sure @pages 2 MiB hugepages are reserved (writes
 * /proc/sys/vm/nr_hugepages when allowed).
 * Returns: 0 when at least @pages are reserved, else -errno.
 */
int rxl_eal_reserve_hugepages(uint32_t pages);

/**
 * Build EAL's arguments for @c (no side effects except, with hugepages
 * auto/on, reserving hugepages). @prog is argv[0].
 * Returns: 0, or -EINVAL / -ENOMEM with a message naming the setting.
 */
int rxl_eal_plan(const struct rxl_cfg *c, const char *prog, struct rxl_eal_plan *p);

/**
 * rxl_eal_plan() then rte_eal_init(); the summary says what was chosen.
 * Returns: 0, or -errno with a message that says what to change.
 */
int rxl_eal_init(const struct rxl_cfg *c, const char *prog, struct rxl_eal_plan *p);

/**
 * rte_eal_cleanup(), then remove EAL's runtime folder of this run.
 * Concurrency: main thread, after every lcore stopped.
 */
void rxl_eal_cleanup(void);

#endif
