/* tests: rxlogd configuration — file, flags, validation messages.
 * Test thread.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "rxl_config.h"
#include "rxl_err.h"

static void test_readme_example_flags_parse(void **state)
{
	struct rxl_cfg c;
	const char *flags[][2] = {
		{"data", "./data"},
		{"port", "net_af_packet0,iface=veth0"},
		{"addr", "198.18.0.1"},
		{"listen", "5514/syslog:topic=syslog,partitions=4"},
		{"listen", "7000/native:topic=telemetry,partitions=8"},
	};

	rxl_cfg_default(&c);
	for (size_t i = 0; i < sizeof(flags) / sizeof(flags[0]); i++)
		assert_int_equal(rxl_cfg_set_flag(&c, flags[i][0], flags[i][1]), 0);
	assert_int_equal(rxl_cfg_validate(&c), 0);
	assert_string_equal(c.data, "./data");
	assert_int_equal(c.n_ports, 1);
	assert_int_equal(c.n_addrs, 1);
	assert_int_equal(c.addrs[0].family, AF_INET);
	assert_int_equal(c.n_listeners, 2);
	assert_int_equal(c.listeners[0].port, 5514);
	assert_int_equal(c.listeners[0].format, RXL_CFG_FMT_SYSLOG);
	assert_string_equal(c.listeners[0].topic, "syslog");
	assert_int_equal(c.listeners[0].partitions, 4);
	assert_int_equal(c.listeners[1].format, RXL_CFG_FMT_NATIVE);
	assert_int_equal(c.listeners[1].partitions, 8);
	assert_int_equal(c.listeners[1].log.durability, RXL_DUR_NONE);
}

static char *write_tmp(const char *text)
{
	char *p = strdup("/tmp/rxl-cfg-XXXXXX");
	int fd = mkstemp(p);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
	return p;
}

static void test_file_then_flags_override(void **state)
{
	struct rxl_cfg c;
	char *p = write_tmp("[rxlogd]\n"
			    "data = /var/lib/rxlog ; inline comment\n"
			    "writer_cores = 2\n"
			    "hugepages = off\n"
			    "checksum = ipv4\n"
			    "port = net_null0\n"
			    "\n"
			    "[listen 5514]\n"
			    "format = syslog\n"
			    "partitions = 4\n"
			    "durability = fsync\n"
			    "retention = 7d\n"
			    "retention_bytes = 10G\n"
			    "segment_bytes = 256M\n"
			    "rfc3164_utc_offset_min = -300\n"
			    "\n"
			    "[listen 9000]\n"
			    "format = lines\n"
			    "topic = app\n");

	rxl_cfg_default(&c);
	assert_int_equal(rxl_cfg_load_file(&c, p), 0);
	assert_string_equal(c.data, "/var/lib/rxlog");
	assert_int_equal(c.writer_cores, 2);
	assert_int_equal(c.hugepages, RXL_HUGE_OFF);
	assert_int_equal(c.checksum, RXL_CSUM_IPV4);
	assert_string_equal(c.ports[0], "net_null0");
	assert_int_equal(c.n_listeners, 2);
	assert_string_equal(c.listeners[0].topic, "syslog"); /* defaults to the format */
	assert_int_equal(c.listeners[0].log.durability, RXL_DUR_FSYNC);
	assert_int_equal(c.listeners[0].log.retention_ms, 7 * 86400000ll);
	assert_int_equal(c.listeners[0].log.retention_bytes, 10ll << 30);
	assert_int_equal(c.listeners[0].log.segment_bytes, 256ull << 20);
	assert_int_equal(c.listeners[0].rfc3164_utc_offset_min, -300);
	assert_string_equal(c.listeners[1].topic, "app");
	assert_int_equal(c.listeners[1].rfc3164_utc_offset_min, 0);
	/* Flags override the file. */
	assert_int_equal(rxl_cfg_set_flag(&c, "port", "net_null1"), 0);
	assert_int_equal(c.n_ports, 1);
	assert_string_equal(c.ports[0], "net_null1");
	assert_int_equal(rxl_cfg_set_flag(&c, "port", "net_null2"), -EINVAL);
	assert_int_equal(rxl_cfg_set_flag(&c, "data", "./d2"), 0);
	assert_int_equal(rxl_cfg_set_flag(&c, "listen", "5514/raw:topic=r"), 0);
	assert_int_equal(c.n_listeners, 2);
	assert_int_equal(c.listeners[0].format, RXL_CFG_FMT_RAW);
	assert_string_equal(c.data, "./d2");
	assert_int_equal(rxl_cfg_set_flag(&c, "addr", "198.18.0.1"), 0); /* a port needs one */
	assert_int_equal(rxl_cfg_validate(&c), 0);
	unlink(p);
	free(p);
}

/* Each bad setting fails and the message names the setting and what is valid. */
static void test_bad_settings_say_what_to_change(void **state)
{
	static const struct {
		const char *name, *value, *must_say;
	} cases[] = {
		{"listen", "5514/sislog", "must be one of native, syslog, lines, raw"},
		{"listen", "5514", "expected PORT/FORMAT"},
		{"listen", "99999/raw", "from 1 to 65535"},
		{"listen", "5514/raw:partitions=0", "partitions"},
		{"listen", "5514/raw:durability=sometimes", "must be one of none, interval, fsync"},
		{"listen", "5514/raw:retention=forever", "duration like"},
		{"listen", "5514/raw:segment_bytes=lots", "size like"},
		{"listen", "5514/syslog:rfc3164_utc_offset_min=1441", "from -1440 to 1440"},
		{"listen", "5514/syslog:rfc3164_utc_offset_min=+2h", "whole number"},
		{"listen", "5514/raw:topic=a/b", "without '/'"},
		{"listen", "5514/raw:colour=blue", "unknown listener setting"},
		{"addr", "198.18.0.256", "not an IPv4 or IPv6 address"},
		{"rx_cores", "0", "rx_cores"},
		{"rx_cpus", "a", "list of CPU numbers"},
		{"rx_cpus", "2,", "list of CPU numbers"},
		{"rx_cpus", "3-1", "list of CPU numbers"},
		{"writer_cpus", "1,2-4,3", "CPU 3 is listed twice"},
		{"source", "kernel", "must be one of auto, dpdk, socket"},
		{"hugepages", "maybe", "must be one of auto, on, off"},
		{"checksum", "sometimes", "must be one of auto, verify, ipv4, off"},
		{"prometheus", "9108", "IPV4:PORT"},
		{"prometheus", "127.0.0.1:abc", "port of 1-65535"},
		{"prometheus", "127.0.0.1:0", "port of 1-65535"},
		{"prometheus", "127.0.0.1:65536", "port of 1-65535"},
		{"prometheus", "127.0.0.1:9108x", "port of 1-65535"},
		{"prometheus", "localhost:9108", "IPV4:PORT"},
		{"ring_size", "1000", "power of 2"},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct rxl_cfg c;

		rxl_cfg_default(&c);
		rxl_err_clear();
		assert_int_equal(rxl_cfg_set_flag(&c, cases[i].name, cases[i].value), -EINVAL);
		if (!strstr(rxl_err_msg(), cases[i].must_say))
			fail_msg("%s=%s: message \"%s\" lacks \"%s\"", cases[i].name,
				 cases[i].value, rxl_err_msg(), cases[i].must_say);
	}
}

static void test_validation_errors(void **state)
{
	struct rxl_cfg c;

	rxl_cfg_default(&c);
	assert_int_equal(rxl_cfg_validate(&c), -EINVAL);
	assert_non_null(strstr(rxl_err_msg(), "no listener"));
	assert_int_equal(rxl_cfg_set_flag(&c, "listen", "1/raw:topic=t"), 0);
	assert_int_equal(rxl_cfg_set_flag(&c, "listen", "2/lines:topic=t"), 0);
	assert_int_equal(rxl_cfg_validate(&c), -EINVAL);
	assert_non_null(strstr(rxl_err_msg(), "both write topic"));

	rxl_cfg_default(&c);
	assert_int_equal(rxl_cfg_set_flag(&c, "prometheus", "off"), 0);
	assert_true(c.prometheus_set);
	assert_int_equal(rxl_cfg_set_flag(&c, "prometheus", "0.0.0.0:65535"), 0);
	assert_string_equal(c.prometheus, "0.0.0.0:65535");
	/* One port: two flags are refused (below, a flag replaces the file's). */
	assert_int_equal(rxl_cfg_set_flag(&c, "port", "net_null0"), 0);
	assert_int_equal(rxl_cfg_set_flag(&c, "port", "net_null1"), -EINVAL);
	assert_non_null(strstr(rxl_err_msg(), "one port per rxlogd"));

	/* CPU lists set the core counts; a count that contradicts a list, or
	 * a CPU in both lists, is refused. */
	rxl_cfg_default(&c);
	assert_int_equal(rxl_cfg_set_flag(&c, "listen", "1/raw"), 0);
	assert_int_equal(rxl_cfg_set_flag(&c, "rx_cpus", "1,4-5"), 0);
	assert_int_equal(rxl_cfg_set_flag(&c, "writer-cpus", "2"), 0);
	assert_int_equal(c.rx_cores, 3);
	assert_int_equal(c.writer_cores, 1);
	assert_int_equal(c.rx_cpus[0], 1);
	assert_int_equal(c.rx_cpus[2], 5);
	assert_int_equal(rxl_cfg_validate(&c), 0);
	assert_int_equal(rxl_cfg_set_flag(&c, "rx_cores", "2"), 0);
	assert_int_equal(rxl_cfg_validate(&c), -EINVAL);
	assert_non_null(strstr(rxl_err_msg(), "rx_cpus lists 3 CPUs"));
	assert_int_equal(rxl_cfg_set_flag(&c, "rx_cpus", "0-1"), 0);
	assert_int_equal(rxl_cfg_set_flag(&c, "writer_cpus", "1"), 0);
	assert_int_equal(rxl_cfg_validate(&c), -EINVAL);
	assert_non_null(strstr(rxl_err_msg(), "CPU 1 is in both"));

	rxl_cfg_default(&c);
	assert_false(c.prometheus_set);
	assert_int_equal(rxl_cfg_set_flag(&c, "listen", "1/raw"), 0);
	assert_int_equal(rxl_cfg_set_flag(&c, "port", "net_null0"), 0);
	assert_int_equal(rxl_cfg_validate(&c), -EINVAL);
	assert_non_null(strstr(rxl_err_msg(), "--addr"));
	assert_int_equal(rxl_cfg_set_flag(&c, "source", "socket"), 0);
	assert_int_equal(rxl_cfg_validate(&c), -EINVAL);
	assert_non_null(strstr(rxl_err_msg(), "does not use --port"));

	rxl_cfg_default(&c);
	assert_int_equal(rxl_cfg_set_flag(&c, "listen", "1/raw:segment_bytes=100"), 0);
	assert_int_equal(rxl_cfg_validate(&c), -EINVAL);
	assert_non_null(strstr(rxl_err_msg(), "listener 1"));
	assert_non_null(strstr(rxl_err_msg(), "segment_bytes"));
}

static void test_file_errors_name_file_and_line(void **state)
{
	struct rxl_cfg c;
	char *p = write_tmp("[rxlogd]\ndata = x\n\n[listen 5514]\nformat = json\n");

	rxl_cfg_default(&c);
	assert_int_equal(rxl_cfg_load_file(&c, p), -EINVAL);
	assert_non_null(strstr(rxl_err_msg(), "line 5"));
	assert_non_null(strstr(rxl_err_msg(), "format = \"json\""));
	unlink(p);
	free(p);
	p = write_tmp("[server]\nx = 1\n");
	assert_int_equal(rxl_cfg_load_file(&c, p), -EINVAL);
	assert_non_null(strstr(rxl_err_msg(), "unknown section"));
	unlink(p);
	free(p);
	assert_int_equal(rxl_cfg_load_file(&c, "/nonexistent/rxlogd.conf"), -ENOENT);
	assert_non_null(strstr(rxl_err_msg(), "/nonexistent/rxlogd.conf"));
}

static void test_sizes_and_durations(void **state)
{
	int64_t v;

	assert_int_equal(rxl_cfg_parse_size("64", &v), 0);
	assert_int_equal(v, 64);
	assert_int_equal(rxl_cfg_parse_size("256K", &v), 0);
	assert_int_equal(v, 256 * 1024);
	assert_int_equal(rxl_cfg_parse_size("1GiB", &v), 0);
	assert_int_equal(v, 1ll << 30);
	assert_int_equal(rxl_cfg_parse_size("-1", &v), 0);
	assert_int_equal(v, -1);
	assert_int_equal(rxl_cfg_parse_size("1X", &v), -EINVAL);
	assert_int_equal(rxl_cfg_parse_size("-5", &v), -EINVAL);
	assert_int_equal(rxl_cfg_parse_size("99999999999T", &v), -EINVAL);
	assert_int_equal(rxl_cfg_parse_duration_ms("500ms", &v), 0);
	assert_int_equal(v, 500);
	assert_int_equal(rxl_cfg_parse_duration_ms("12h", &v), 0);
	assert_int_equal(v, 12 * 3600000ll);
	assert_int_equal(rxl_cfg_parse_duration_ms("3x", &v), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_readme_example_flags_parse),
		cmocka_unit_test(test_file_then_flags_override),
		cmocka_unit_test(test_bad_settings_say_what_to_change),
		cmocka_unit_test(test_validation_errors),
		cmocka_unit_test(test_file_errors_name_file_and_line),
		cmocka_unit_test(test_sizes_and_durations),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
