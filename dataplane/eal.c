/* dataplane: DPDK EAL set-up from rxlogd's configuration.
 * Main thread, at start-up only.
 */
#include "rxl_eal.h"

#include <errno.h>
#include <sched.h>
#include <ftw.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <rte_eal.h>
#include <rte_errno.h>

#include "rxl_err.h"

static int add(struct rxl_eal_plan *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int add(struct rxl_eal_plan *p, const char *fmt, ...)
{
	va_list ap;
	size_t room = sizeof(p->store) - p->used;

	if (p->argc >= RXL_EAL_MAX_ARGS)
		return rxl_err_set(-ENOMEM, "EAL: too many arguments");
	va_start(ap, fmt);
	int n = vsnprintf(p->store + p->used, room, fmt, ap);

	va_end(ap);
	if (n < 0 || (size_t)n >= room)
		return rxl_err_set(-ENOMEM, "EAL: arguments too long");
	p->argv[p->argc++] = p->store + p->used;
	p->argv[p->argc] = NULL;
	p->used += (size_t)n + 1;
	return 0;
}

int rxl_eal_reserve_hugepages(uint32_t pages)
{
	const char *path = "/proc/sys/vm/nr_hugepages";
	unsigned long have = 0;
	FILE *f = fopen(path, "r");

	if (f) {
		if (fscanf(f, "%lu", &have) != 1)
			have = 0;
		fclose(f);
	}
	if (have >= pages)
		return 0;
	f = fopen(path, "w");
	if (!f)
		return -errno;
	fprintf(f, "%u\n", pages);
	if (fclose(f) != 0)
		return -errno;
	f = fopen(path, "r");
	if (!f || fscanf(f, "%lu", &have) != 1)
		have = 0;
	if (f)
		fclose(f);
	return have >= pages ? 0 : -ENOMEM;
}

/* This run's --file-prefix ("<program>-<pid>"), for rxl_eal_cleanup(). */
static char run_prefix[96];

#define RXL_EAL_MAX_CPUS 4096 /* CPU numbers rx_cpus / writer_cpus may name (config.c) */

static bool is_vdev(const char *port)
{
	return strncmp(port, "net_", 4) == 0;
}

int rxl_eal_plan(const struct rxl_cfg *c, const char *prog, struct rxl_eal_plan *p)
{
	long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	char lc[2048]; /* 128 lcores of ",127@4095" at most */
	size_t ll = 0;
	bool pci = false;
	int err;

	memset(p, 0, sizeof(*p));
	if (ncpu < 1)
		ncpu = 1;
	p->lcores = 1 + c->rx_cores + c->writer_cores;
	if (p->lcores > 128)
		return rxl_err_set(-EINVAL, "rx_cores + writer_cores: at most 127 in all");
	/* The CPUs rxlogd may run on: online and in its affinity (taskset,
	 * cpusets); all online ones when the affinity cannot be read. */
	static uint16_t avail[RXL_EAL_MAX_CPUS], pool[RXL_EAL_MAX_CPUS];
	bool usable[RXL_EAL_MAX_CPUS] = {false}, pinned[RXL_EAL_MAX_CPUS] = {false};
	uint32_t n_avail = 0, n_pool = 0;
	cpu_set_t set;
	bool aff = sched_getaffinity(0, sizeof(set), &set) == 0;

	for (long k = 0; k < RXL_EAL_MAX_CPUS && k < CPU_SETSIZE; k++)
		if (aff ? CPU_ISSET(k, &set) : k < ncpu) {
			usable[k] = true;
			avail[n_avail++] = (uint16_t)k;
		}
	if (!n_avail)
		avail[n_avail++] = 0, usable[0] = true;
	/* rx_cpus / writer_cpus pin their lcores where the user said. */
	for (uint32_t i = 0; i < c->n_rx_cpus + c->n_writer_cpus; i++) {
		bool rx = i < c->n_rx_cpus;
		uint16_t cpu = rx ? c->rx_cpus[i] : c->writer_cpus[i - c->n_rx_cpus];

		if (cpu >= RXL_EAL_MAX_CPUS || !usable[cpu])
			return rxl_err_set(
				-EINVAL,
				"%s: CPU %u is not online or not in rxlogd's CPU affinity "
				"(%u usable, from CPU %u to %u; taskset -p shows the affinity)",
				rx ? "rx_cpus" : "writer_cpus", cpu, n_avail, avail[0],
				avail[n_avail - 1]);
		pinned[cpu] = true;
	}
	/* The main lcore (mostly asleep) takes the first usable CPU; the
	 * others get CPUs nobody pinned: past the main lcore's when there is
	 * one for each, else from it on (the main lcore sharing) — never two
	 * busy pollers on one CPU while a CPU is free. Only when every CPU is
	 * pinned do they share, round the usable CPUs. */
	uint32_t unpinned =
		(c->n_rx_cpus ? 0 : c->rx_cores) + (c->n_writer_cpus ? 0 : c->writer_cores);

	for (uint32_t k = 1; k < n_avail; k++)
		if (!pinned[avail[k]])
			pool[n_pool++] = avail[k];
	if (n_pool < unpinned && !pinned[avail[0]]) { /* short: the main lcore's CPU too */
		memmove(pool + 1, pool, n_pool * sizeof(pool[0]));
		pool[0] = avail[0];
		n_pool++;
	}
	if (!n_pool) { /* every usable CPU pinned */
		memcpy(pool, avail, n_avail * sizeof(pool[0]));
		n_pool = n_avail;
	}
	uint32_t next = 0;

	ll += (size_t)snprintf(lc + ll, sizeof(lc) - ll, "0@%u", avail[0]);
	for (uint32_t i = 1; i < p->lcores; i++) {
		uint32_t w = i - 1; /* rx lcores first, then writers (rxlogd's order) */
		unsigned cpu;

		if (w < c->rx_cores && c->n_rx_cpus)
			cpu = c->rx_cpus[w];
		else if (w >= c->rx_cores && c->n_writer_cpus)
			cpu = c->writer_cpus[w - c->rx_cores];
		else
			cpu = pool[next++ % n_pool];
		ll += (size_t)snprintf(lc + ll, sizeof(lc) - ll, ",%u@%u", i, cpu);
	}
	const char *base = strrchr(prog, '/') ? strrchr(prog, '/') + 1 : prog;

	snprintf(run_prefix, sizeof(run_prefix), "%.64s-%ld", base, (long)getpid());
	if ((err = add(p, "%s", prog)) || (err = add(p, "--lcores")) || (err = add(p, "%s", lc)) ||
	    (err = add(p, "--file-prefix")) || (err = add(p, "%s", run_prefix)))
		return err;
	for (uint32_t i = 0; i < c->n_ports; i++) {
		if (!is_vdev(c->ports[i]))
			pci = true;
		if ((err = add(p, is_vdev(c->ports[i]) ? "--vdev" : "-a")) ||
		    (err = add(p, "%s", c->ports[i])))
			return err;
	}
	if (!pci && (err = add(p, "--no-pci")))
		return err;
	/* Hugepages: enough for the pools with headroom (2 MiB pages). */
	uint32_t pages = c->memory_mb / 2 ? c->memory_mb / 2 : 1;
	const char *why;

	if (c->hugepages == RXL_HUGE_OFF) {
		p->hugepages = false;
		why = "hugepages = off";
	} else if (rxl_eal_reserve_hugepages(pages) == 0) {
		p->hugepages = true;
		why = "hugepages reserved";
	} else if (c->hugepages == RXL_HUGE_ON) {
		return rxl_err_set(
			-ENOMEM,
			"hugepages = on but %u 2 MiB pages could not be reserved "
			"(/proc/sys/vm/nr_hugepages needs root); use hugepages = auto or off",
			pages);
	} else {
		p->hugepages = false;
		why = "no hugepages could be reserved";
	}
	if (p->hugepages)
		err = add(p, "--in-memory");
	else if (!(err = add(p, "--no-huge")) && !(err = add(p, "-m")) &&
		 !(err = add(p, "%u", c->memory_mb)))
		err = add(p, "--no-shconf");
	if (err)
		return err;
	/* The pass-through, split on spaces (no quoting: EAL values have none). */
	char extra[sizeof(c->eal_args)];

	snprintf(extra, sizeof(extra), "%s", c->eal_args);
	for (char *save = NULL, *t = strtok_r(extra, " \t", &save); t;
	     t = strtok_r(NULL, " \t", &save))
		if ((err = add(p, "%s", t)))
			return err;
	/* The start-up line shows the first 400 characters of a long lcore
	 * list (EAL gets all of it). */
	snprintf(p->summary, sizeof(p->summary),
		 "EAL: %u lcores (%.400s%s), %s (%s), %u port(s)%s%s", p->lcores, lc,
		 strlen(lc) > 400 ? "..." : "", p->hugepages ? "hugepages, in-memory" : "--no-huge",
		 why, c->n_ports, c->eal_args[0] ? ", extra: " : "", c->eal_args);
	return 0;
}

int rxl_eal_init(const struct rxl_cfg *c, const char *prog, struct rxl_eal_plan *p)
{
	int err = rxl_eal_plan(c, prog, p);

	if (err)
		return err;
	/* rte_eal_init() permutes argv: give it a copy. */
	char *argv[RXL_EAL_MAX_ARGS + 1];

	memcpy(argv, p->argv, sizeof(argv));
	if (rte_eal_init(p->argc, argv) < 0)
		return rxl_err_set(-rte_errno ? -rte_errno : -EINVAL,
				   "EAL initialisation failed (%s): %s; check the ports, cores and "
				   "eal_args settings",
				   p->summary, rte_strerror(rte_errno));
	return 0;
}

static int rm_one(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	return remove(path);
}

void rxl_eal_cleanup(void)
{
	char dir[4096];

	/* EAL leaves its runtime folder (/var/run/dpdk/<prefix>) behind. */
	snprintf(dir, sizeof(dir), "%s", rte_eal_get_runtime_dir());
	rte_eal_cleanup();
	const char *last = strrchr(dir, '/');

	/* Only the folder of this run's own prefix, never anything else. */
	if (run_prefix[0] && last && !strcmp(last + 1, run_prefix))
		nftw(dir, rm_one, 8, FTW_DEPTH | FTW_PHYS);
}
