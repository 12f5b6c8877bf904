/* SPDX-License-Identifier: BSD-3-Clause */
/* The configuration file and overrides: good files load, bad ones name the
 * file, the line and the reason. */
#include "harness.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "config.h"

static char path[64];

static const char *
write_conf(const char *text)
{
	int fd;

	snprintf(path, sizeof(path), "/tmp/pn_conf_XXXXXX");
	fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
	return path;
}

/* Load text; expect failure with an error that contains want (after the
 * file name). */
static void
expect_error(const char *text, const char *want)
{
	struct pn_config c;
	char err[512], full[600];

	config_defaults(&c);
	write_conf(text);
	assert_int_equal(config_load(&c, path, err, sizeof(err)), -1);
	snprintf(full, sizeof(full), "%s%s", path, want);
	if (strstr(err, full) == NULL)
		fail_msg("error '%s' does not contain '%s'", err, full);
	unlink(path);
}

static void
good_file(void **state)
{
	struct pn_config c;
	char err[512];

	config_defaults(&c);
	write_conf("; comment\n"
		   "[port]\n"
		   "spec = dpdk:net_af_packet0,iface=veth0   ; trailing comment\n"
		   "mac = 02:00:00:00:00:07\n"
		   "rx_desc = 512\n"
		   "\n"
		   "# another comment\n"
		   "[ipv4]\n"
		   "address = 198.18.0.2/25\n"
		   "gateway = 198.18.0.1\n"
		   "[dataplane]\n"
		   "lcores = 0-2\n"
		   "pool_size = 4095\n"
		   "[sockets]\n"
		   "rx_ring = 256\n"
		   "echo_port = 7\n");
	assert_int_equal(config_load(&c, path, err, sizeof(err)), 0);
	unlink(path);
	assert_string_equal(c.port, "dpdk:net_af_packet0,iface=veth0");
	assert_true(c.mac_set);
	assert_int_equal(c.mac.addr_bytes[5], 7);
	assert_int_equal(c.rx_desc, 512);
	assert_int_equal(c.tx_desc, 1024);      /* default kept */
	assert_int_equal(ntohl(c.ip), OUR_IP);
	assert_int_equal(c.prefix, 25);
	assert_int_equal(ntohl(c.gateway), PEER_IP);
	assert_string_equal(c.lcores, "0-2");
	assert_int_equal(c.pool_size, 4095);
	assert_int_equal(c.sock_ring, 256);
	assert_int_equal(c.echo_port, 7);
	assert_int_equal(config_validate(&c, err, sizeof(err)), 0);

	/* overrides win */
	assert_int_equal(config_set(&c, "sockets.echo_port", "9", err, sizeof(err)), 0);
	assert_int_equal(c.echo_port, 9);
	assert_int_equal(config_set(&c, "ipv4.gateway", "none", err, sizeof(err)), 0);
	assert_int_equal(c.gateway, 0);
}

static void
bad_numbers_rejected_not_truncated(void **state)
{
	expect_error("[port]\nspec = dpdk:y\nrx_desc = 99999999999999999999\n",
		     ":3: [port] rx_desc: '99999999999999999999' is too large");
	expect_error("[port]\nspec = veth0\n", ":2: [port] spec: 'veth0' is not a port spec");
	expect_error("[port]\nrx_desc = 12abc\n", ":2: [port] rx_desc: '12abc' is invalid");
	expect_error("[port]\n\ntx_desc = -5\n", ":3: [port] tx_desc: '-5' is too small");
	expect_error("[sockets]\necho_port = 65536\n", ":2: [sockets] echo_port: '65536' is too large");
	expect_error("[sockets]\nrx_ring = 1000\n", ":2: [sockets] rx_ring: 1000 is not a power of 2");
	expect_error("[dataplane]\nidle = sleep\n",
		     ":2: [dataplane] idle: 'sleep' is not poll, nap or interrupt");
	expect_error("[dataplane]\nidle_after = 5\n", ":2: [dataplane] idle_after: '5' is too small");
	expect_error("[dataplane]\nnap_first = 0\n", ":2: [dataplane] nap_first: '0' is too small");
	expect_error("[dataplane]\nmoderation = 100001\n",
		     ":2: [dataplane] moderation: '100001' is too large");
	expect_error("[port]\nexception_driver = tun\n",
		     ":2: [port] exception_driver: 'tun' is not tap, vhost or net_tap");
}

static void
idle_modes(void **state)
{
	struct pn_config c;
	char err[512];

	config_defaults(&c);
	assert_int_equal(c.idle, PN_IDLE_NAP);
	assert_int_equal(c.idle_after_us, 1000);
	assert_int_equal(config_set(&c, "dataplane.idle", "interrupt", err, sizeof(err)), 0);
	assert_int_equal(c.idle, PN_IDLE_INTERRUPT);
	assert_int_equal(config_set(&c, "dataplane.idle", "poll", err, sizeof(err)), 0);
	assert_int_equal(c.idle, PN_IDLE_POLL);
	assert_int_equal(config_set(&c, "dataplane.idle_after", "50", err, sizeof(err)), 0);
	assert_int_equal(c.idle_after_us, 50);
	assert_int_equal(config_set(&c, "dataplane.idle", "Interrupt", err, sizeof(err)), -1);
	assert_int_equal(c.nap_first_us, 20);
	assert_int_equal(config_set(&c, "dataplane.nap_first", "1000", err, sizeof(err)), 0);
	assert_int_equal(c.nap_first_us, 1000);
	assert_int_equal(c.moderation_us, 0);
	assert_int_equal(config_set(&c, "dataplane.moderation", "1000", err, sizeof(err)), 0);
	assert_int_equal(c.moderation_us, 1000);
	assert_int_equal(c.exc_driver, PN_EXC_DRIVER_TAP);
	assert_int_equal(config_set(&c, "port.exception_driver", "net_tap", err, sizeof(err)), 0);
	assert_int_equal(c.exc_driver, PN_EXC_DRIVER_NET_TAP);
}

static void
bad_addresses(void **state)
{
	expect_error("[ipv4]\naddress = 198.18.0.300/24\n",
		     ":2: [ipv4] address: '198.18.0.300' is not an IPv4 address");
	expect_error("[ipv4]\naddress = 198.18.0.2/33\n", ":2: [ipv4] address: '33' is too large");
	expect_error("[ipv4]\naddress = 224.0.0.1/24\n", ":2: [ipv4] address: '224.0.0.1' is a multicast address");
	expect_error("[ipv4]\ngateway = gw.example\n", ":2: [ipv4] gateway: 'gw.example' is not an IPv4");
	expect_error("[port]\nmac = 01:00:5e:00:00:01\n", ":2: [port] mac: '01:00:5e:00:00:01' is not a unicast MAC");
	expect_error("[port]\nmac = zz\n", ":2: [port] mac: 'zz' is not a unicast MAC");
}

/* An address pollnet could not be: the stack drops it as a martian source
 * (stack_martian_src), or the prefix makes it no host's. */
static void
addresses_no_host_can_have(void **state)
{
	static const struct { const char *v, *why; } bad[] = {
		{ "127.0.0.1/8", "'127.0.0.1' is a loopback address (127.0.0.0/8)" },
		{ "127.1.2.3/24", "'127.1.2.3' is a loopback address (127.0.0.0/8)" },
		{ "0.1.2.3/24", "'0.1.2.3' is in 0.0.0.0/8 (\"this network\")" },
		{ "239.1.1.1/24", "'239.1.1.1' is a multicast address (224.0.0.0/4)" },
		{ "240.0.0.1/24", "'240.0.0.1' is a class E address (240.0.0.0/4)" },
		{ "255.255.255.255/24", "'255.255.255.255' is the broadcast address" },
		{ "198.18.0.0/24", "'198.18.0.0' is the network address of 198.18.0.0/24" },
		{ "198.18.0.255/24", "'198.18.0.255' is the broadcast address of 198.18.0.0/24" },
		{ "198.18.0.3/30", "'198.18.0.3' is the broadcast address of 198.18.0.0/30" },
		{ "10.255.255.255/8", "'10.255.255.255' is the broadcast address of 10.0.0.0/8" },
		{ "198.18.0.2/32", "a /32 has no neighbour" },
		{ "198.18.0.2/0", "'0' is too small" },
	};
	static const char *const good[] = { "198.18.0.1/31", "198.18.0.0/31", "198.18.0.2",
					    "10.0.2.15/24", "198.18.255.254/15" };
	char text[128], want[160];
	struct pn_config c;
	char err[512];

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(text, sizeof(text), "[ipv4]\naddress = %s\n", bad[i].v);
		snprintf(want, sizeof(want), ":2: [ipv4] address: %s", bad[i].why);
		expect_error(text, want);
		config_defaults(&c);
		assert_int_equal(config_set(&c, "ipv4.address", bad[i].v, err, sizeof(err)), -1);
		if (strstr(err, bad[i].why) == NULL)
			fail_msg("--ip %s: '%s' does not say '%s'", bad[i].v, err, bad[i].why);
	}
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		config_defaults(&c);
		if (config_set(&c, "ipv4.address", good[i], err, sizeof(err)) != 0)
			fail_msg("%s refused: %s", good[i], err);
	}
	/* a gateway that no host can be either */
	expect_error("[ipv4]\ngateway = 127.0.0.1\n",
		     ":2: [ipv4] gateway: '127.0.0.1' is a loopback address (127.0.0.0/8)");
	expect_error("[ipv4]\ngateway = 224.0.0.1\n",
		     ":2: [ipv4] gateway: '224.0.0.1' is a multicast address (224.0.0.0/4)");
}

/* A gateway that does not fit the address is named where it was set. */
static void
gateway_named_where_set(void **state)
{
	struct pn_config c;
	char err[512], want[160];

	config_defaults(&c);
	write_conf("[port]\nspec = dpdk:x\n[ipv4]\naddress = 198.18.0.2/24\ngateway = 198.18.0.255\n");
	assert_int_equal(config_load(&c, path, err, sizeof(err)), 0);
	assert_int_equal(config_validate(&c, err, sizeof(err)), -1);
	snprintf(want, sizeof(want), "%s:5: [ipv4] gateway: '198.18.0.255' is the broadcast "
		 "address of 198.18.0.0/24", path);
	if (strstr(err, want) == NULL)
		fail_msg("'%s' does not contain '%s'", err, want);
	unlink(path);
	assert_int_equal(config_set(&c, "ipv4.gateway", "198.19.0.1", err, sizeof(err)), 0);
	assert_int_equal(config_validate(&c, err, sizeof(err)), -1);
	if (strstr(err, "ipv4.gateway = 198.19.0.1: '198.19.0.1' is not on 198.18.0.0/24") == NULL)
		fail_msg("'%s'", err);
}

/* dataplane.lcores is an EAL core list, checked when it is set (whether or
 * not EAL's -l makes it unused). */
static void
lcores_checked(void **state)
{
	static const struct { const char *v, *why; } bad[] = {
		{ "garbage", "'garbage' is not a core list" },
		{ "0-", "'0-' is not a core list" },
		{ "0,,1", "'0,,1' is not a core list" },
		{ "0-1 ", "'0-1 ' is not a core list" },
		{ "3-1", "3-1 goes backwards" },
		{ "0", "one core" },
		{ "1,1", "one core" },
		{ "0,100000", "100000 is not a core" },
	};
	struct pn_config c;
	char err[512];

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		config_defaults(&c);
		assert_int_equal(config_set(&c, "dataplane.lcores", bad[i].v, err, sizeof(err)), -1);
		if (strstr(err, bad[i].why) == NULL)
			fail_msg("lcores %s: '%s' does not say '%s'", bad[i].v, err, bad[i].why);
		assert_string_equal(c.lcores, "");
	}
	expect_error("[dataplane]\nlcores = garbage\n",
		     ":2: [dataplane] lcores: 'garbage' is not a core list");
	config_defaults(&c);
	assert_int_equal(config_set(&c, "dataplane.lcores", "0-1,4,6-7", err, sizeof(err)), 0);
	assert_string_equal(c.lcores, "0-1,4,6-7");
}

/* A section pollnet does not know is an error, empty or not; so is a
 * section opened twice (rte_cfgfile would keep only the first). */
static void
sections_checked(void **state)
{
	char text[300 * 8 + 1] = "";

	expect_error("[ports]\n", ":1: [ports]: unknown section");
	expect_error("[port]\nspec = dpdk:x\n\n[bogus]\n", ":4: [bogus]: unknown section");
	for (int i = 0; i < 300; i++)
		snprintf(text + strlen(text), sizeof(text) - strlen(text), "[x%d]\n", i);
	expect_error(text, ":1: [x0]: unknown section");
	expect_error("[port]\nspec = dpdk:x\n[ipv4]\naddress = 198.18.0.2/24\n[port]\nrx_desc = 64\n",
		     ":5: [port]: already opened at line 1");
}

static void
bad_lines(void **state)
{
	expect_error("[port]\nspec dpdk:x\n", ":2: expected 'key = value', got 'spec dpdk:x'");
	expect_error("spec = dpdk:x\n", ":1: 'spec' is outside any [section]");
	expect_error("[port\n", ":1: expected [section]");
	expect_error("[port]\nspec =\n", ":2: [port] spec: no value");
	expect_error("[port]\nspec = dpdk:b\n\nspec = dpdk:d\n", ":4: [port] spec: already set at line 2");
	expect_error("[port]\nspeed = 10\n", ":2: [port] speed: unknown key 'speed' in section [port]");
	expect_error("[ports]\nspec = dpdk:b\n", ":1: [ports]: unknown section");
}

static void
missing_file(void **state)
{
	struct pn_config c;
	char err[512];

	config_defaults(&c);
	assert_int_equal(config_load(&c, "/nonexistent/pollnet.conf", err, sizeof(err)), -1);
	assert_string_equal(err, "/nonexistent/pollnet.conf: No such file or directory");
}

static void
validation(void **state)
{
	struct pn_config c;
	char err[512];

	config_defaults(&c);
	assert_int_equal(config_validate(&c, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "no port"));
	assert_int_equal(config_set(&c, "port.spec", "dpdk:net_null0", err, sizeof(err)), 0);
	assert_int_equal(config_validate(&c, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "no address"));
	assert_int_equal(config_set(&c, "ipv4.address", "198.18.0.2/24", err, sizeof(err)), 0);
	assert_int_equal(config_set(&c, "ipv4.gateway", "198.19.0.1", err, sizeof(err)), 0);
	assert_int_equal(config_validate(&c, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "ipv4.gateway = 198.19.0.1: '198.19.0.1' is not on 198.18.0.0/24"));
	assert_int_equal(config_set(&c, "nodot", "1", err, sizeof(err)), -1);
}

/* A user's share and root's reserve follow sockets.max unless set. */
static void
socket_limits(void **state)
{
	struct pn_config c;
	char err[512];

	config_defaults(&c);
	assert_int_equal(config_set(&c, "port.spec", "dpdk:net_null0", err, sizeof(err)), 0);
	assert_int_equal(config_set(&c, "ipv4.address", "198.18.0.2/24", err, sizeof(err)), 0);
	assert_int_equal(c.max_sockets, 1024);
	assert_int_equal(config_max_per_user(&c), 256);
	assert_int_equal(config_reserved(&c), 64);
	assert_int_equal(config_set(&c, "sockets.max", "40", err, sizeof(err)), 0);
	assert_int_equal(config_max_per_user(&c), 10);
	assert_int_equal(config_reserved(&c), 2);
	assert_int_equal(config_set(&c, "sockets.max", "3", err, sizeof(err)), 0);
	assert_int_equal(config_max_per_user(&c), 1);
	assert_int_equal(config_reserved(&c), 0);
	assert_int_equal(config_validate(&c, err, sizeof(err)), 0);
	/* set, they stay */
	assert_int_equal(config_set(&c, "sockets.max_per_user", "7", err, sizeof(err)), 0);
	assert_int_equal(config_set(&c, "sockets.reserved", "0", err, sizeof(err)), 0);
	assert_int_equal(config_set(&c, "sockets.max", "1000", err, sizeof(err)), 0);
	assert_int_equal(config_max_per_user(&c), 7);
	assert_int_equal(config_reserved(&c), 0);
	assert_int_equal(config_set(&c, "sockets.max_per_user", "0", err, sizeof(err)), -1);
	/* a reserve that leaves users nothing */
	assert_int_equal(config_set(&c, "sockets.reserved", "1000", err, sizeof(err)), 0);
	assert_int_equal(config_validate(&c, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "sockets.reserved"));
}

static void
shipped_config_loads(void **state)
{
	struct pn_config c, d;
	char err[512];

	config_defaults(&c);
	if (config_load(&c, POLLNET_SOURCE_DIR "/config/pollnet.conf", err, sizeof(err)) != 0)
		fail_msg("%s", err);
	assert_int_equal(config_validate(&c, err, sizeof(err)), 0);
	/* the shipped file states the defaults: it must not contradict them */
	config_defaults(&d);
	assert_int_equal(c.sock_ring, d.sock_ring);
	assert_int_equal(c.sock_ring, 1024);
	assert_int_equal(c.sock_tx_ring, d.sock_tx_ring);
	assert_int_equal(c.sock_ring_max, d.sock_ring_max);
	assert_int_equal(c.max_sockets, d.max_sockets);
	assert_int_equal(config_max_per_user(&c), config_max_per_user(&d));
	assert_int_equal(config_reserved(&c), config_reserved(&d));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(good_file),
		cmocka_unit_test(bad_numbers_rejected_not_truncated),
		cmocka_unit_test(bad_addresses),
		cmocka_unit_test(addresses_no_host_can_have),
		cmocka_unit_test(gateway_named_where_set),
		cmocka_unit_test(lcores_checked),
		cmocka_unit_test(sections_checked),
		cmocka_unit_test(idle_modes),
		cmocka_unit_test(bad_lines),
		cmocka_unit_test(missing_file),
		cmocka_unit_test(validation),
		cmocka_unit_test(socket_limits),
		cmocka_unit_test(shipped_config_loads),
	};

	return cmocka_run_group_tests_name("config", tests, NULL, NULL);
}
