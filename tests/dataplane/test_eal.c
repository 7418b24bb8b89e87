/* tests: EAL arguments from rxlogd's configuration, and a real EAL start on
 * a virtual port (net_null) with --no-huge.
 * Test thread (EAL's lcores are created by the last case).
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <rte_eal.h>
#include <rte_ethdev.h>
#include <rte_lcore.h>

#include "rxl_eal.h"
#include "rxl_err.h"

static int find(const struct rxl_eal_plan *p, const char *a)
{
	for (int i = 0; i < p->argc; i++)
		if (!strcmp(p->argv[i], a))
			return i;
	return -1;
}

static void base_cfg(struct rxl_cfg *c)
{
	rxl_cfg_default(c);
	assert_int_equal(rxl_cfg_set_flag(c, "listen", "5514/syslog"), 0);
	assert_int_equal(rxl_cfg_set_flag(c, "hugepages", "off"), 0);
}

static void test_vdev_ports_and_no_huge(void **state)
{
	struct rxl_cfg c;
	struct rxl_eal_plan p;

	base_cfg(&c);
	assert_int_equal(rxl_cfg_set_flag(&c, "port", "net_af_packet0,iface=veth0"), 0);
	assert_int_equal(rxl_cfg_set_flag(&c, "eal", "--log-level=3 --no-telemetry"), 0);
	assert_int_equal(rxl_eal_plan(&c, "rxlogd", &p), 0);
	int v = find(&p, "--vdev");

	assert_true(v > 0);
	assert_string_equal(p.argv[v + 1], "net_af_packet0,iface=veth0");
	assert_true(find(&p, "--no-pci") > 0);
	assert_true(find(&p, "--no-huge") > 0);
	assert_string_equal(p.argv[find(&p, "-m") + 1], "512");
	assert_true(find(&p, "--no-shconf") > 0);
	assert_true(find(&p, "--in-memory") < 0);
	assert_true(find(&p, "--log-level=3") > 0);
	assert_true(find(&p, "--no-telemetry") > 0);
	assert_int_equal(p.lcores, 3);
	assert_non_null(strstr(p.argv[find(&p, "--lcores") + 1], "0@0,1@"));
	assert_non_null(strstr(p.argv[find(&p, "--file-prefix") + 1], "rxlogd-"));
	assert_non_null(strstr(p.summary, "--no-huge (hugepages = off)"));
	assert_null(p.argv[p.argc]);
}

/* rx_cpus / writer_cpus pin the lcores in rxlogd's order (rx first); a CPU
 * that is not online is refused with the range that is. */
static void test_cpu_lists_pin_lcores(void **state)
{
	struct rxl_cfg c;
	struct rxl_eal_plan p;
	long ncpu = sysconf(_SC_NPROCESSORS_ONLN);

	if (ncpu < 2) /* the cases below name CPU 1 */
		skip();
	base_cfg(&c);
	assert_int_equal(rxl_cfg_set_flag(&c, "rx_cpus", "1,0"), 0);
	assert_int_equal(rxl_cfg_set_flag(&c, "writer_cpus", "0"), 0);
	assert_int_equal(rxl_eal_plan(&c, "rxlogd", &p), 0);
	assert_int_equal(p.lcores, 4);
	assert_string_equal(p.argv[find(&p, "--lcores") + 1], "0@0,1@1,2@0,3@0");
	/* Only rx pinned: the writer goes to a CPU nobody pinned (on 2 CPUs,
	 * CPU 0 with the main lcore rather than CPU 1 with the rx lcore). */
	base_cfg(&c);
	assert_int_equal(rxl_cfg_set_flag(&c, "rx_cpus", "1"), 0);
	assert_int_equal(rxl_eal_plan(&c, "rxlogd", &p), 0);
	if (ncpu == 2)
		assert_string_equal(p.argv[find(&p, "--lcores") + 1], "0@0,1@1,2@0");
	else
		assert_string_equal(p.argv[find(&p, "--lcores") + 1], "0@0,1@1,2@2");
	base_cfg(&c);
	assert_int_equal(rxl_cfg_set_flag(&c, "rx_cpus", "1,0"), 0);
	assert_int_equal(rxl_cfg_set_flag(&c, "writer_cpus", "0"), 0);
	char bad[32];

	snprintf(bad, sizeof(bad), "%ld", ncpu);
	assert_int_equal(rxl_cfg_set_flag(&c, "writer_cpus", bad), 0);
	assert_int_equal(rxl_eal_plan(&c, "rxlogd", &p), -EINVAL);
	assert_non_null(strstr(rxl_err_msg(), "writer_cpus: CPU"));
	assert_non_null(strstr(rxl_err_msg(), "is not online"));
	/* Many lcores: the --lcores list is not cut short. */
	base_cfg(&c);
	assert_int_equal(rxl_cfg_set_flag(&c, "rx_cores", "16"), 0);
	assert_int_equal(rxl_cfg_set_flag(&c, "writer_cores", "16"), 0);
	assert_int_equal(rxl_cfg_set_flag(&c, "rx_cores", "17"), -EINVAL);
	assert_int_equal(rxl_eal_plan(&c, "rxlogd", &p), 0);
	assert_int_equal(p.lcores, 33);
	assert_non_null(strstr(p.argv[find(&p, "--lcores") + 1], ",32@"));
	(void)state;
}

static void test_pci_port_is_allow_listed(void **state)
{
	struct rxl_cfg c;
	struct rxl_eal_plan p;

	base_cfg(&c);
	assert_int_equal(rxl_cfg_set_flag(&c, "port", "0000:03:00.0"), 0);
	assert_int_equal(rxl_cfg_set_flag(&c, "writer_cores", "3"), 0);
	assert_int_equal(rxl_eal_plan(&c, "rxlogd", &p), 0);
	assert_string_equal(p.argv[find(&p, "-a") + 1], "0000:03:00.0");
	assert_true(find(&p, "--no-pci") < 0);
	assert_int_equal(p.lcores, 5);
}

static void test_eal_starts_on_net_null_without_hugepages(void **state)
{
	struct rxl_cfg c;
	struct rxl_eal_plan p;

	base_cfg(&c);
	assert_int_equal(rxl_cfg_set_flag(&c, "port", "net_null0"), 0);
	assert_int_equal(rxl_cfg_set_flag(&c, "memory_mb", "128"), 0);
	assert_int_equal(rxl_cfg_set_flag(&c, "eal", "--log-level=1 --no-telemetry"), 0);
	if (rxl_eal_init(&c, "test_eal", &p))
		fail_msg("%s", rxl_err_msg());
	assert_int_equal(rte_eth_dev_count_avail(), 1);
	assert_int_equal(rte_lcore_count(), p.lcores);
	char dir[4096];

	snprintf(dir, sizeof(dir), "%s", rte_eal_get_runtime_dir());
	rxl_eal_cleanup();
	assert_int_equal(access(dir, F_OK), -1); /* nothing left behind */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_vdev_ports_and_no_huge),
		cmocka_unit_test(test_pci_port_is_allow_listed),
		cmocka_unit_test(test_cpu_lists_pin_lcores),
		cmocka_unit_test(test_eal_starts_on_net_null_without_hugepages),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
