/* SPDX-License-Identifier: BSD-3-Clause */
#include "options.h"

#include "cli.h"
#include "abi/pn_control.h"
#include "abi/pn_region.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <bsd/string.h>

#define DEFAULT_CONFIG "config/pollnet.conf"

void
options_usage(const char *prog, FILE *f)
{
	fprintf(f,
"Usage: %s [EAL options] -- [pollnet options]\n"
"\n"
"pollnet: a poll-mode UDP data plane.  It answers ARP and ping on its port,\n"
"serves a UDP echo, and steers datagrams to sockets.\n"
"\n"
"pollnet options (they override the configuration file):\n"
"  -f, --config FILE     INI configuration (default: none; see\n"
"                        " DEFAULT_CONFIG " for every key)\n"
"  -p, --port SPEC       the port, DRIVER:ARGS, e.g.\n"
"                          dpdk:net_af_packet0,iface=veth0   (hot-plugged vdev)\n"
"                          dpdk:net_tap0,iface=pn0\n"
"                          tap:pn0              (a tap of pollnet's own)\n"
"                          dpdk:0000:00:03.0                 (PCI device)\n"
"                          e1000:0000:00:03.0   (pollnet's own 82540EM driver;\n"
"                                                EAL options --no-pci --iova-mode=pa)\n"
"                          xdp:eth0[,queues=N]  (beside the kernel on its interface:\n"
"                                                its address; pollnet's UDP ports only)\n"
"  -i, --ip ADDR/PREFIX  our IPv4 address, e.g. 198.18.0.2/24 (xdp: the kernel's)\n"
"  -g, --gateway ADDR    default gateway (\"none\" for none)\n"
"  -m, --mac MAC         override the port's MAC address\n"
"  -e, --echo-port N     UDP echo service port (0: off)\n"
"  -c, --ctl PATH        the Unix socket clients (libpollnet) connect to\n"
"                        (default " PN_CTL_DEFAULT_PATH ")\n"
"  -S, --stats PATH      the stats segment pollnetctl reads\n"
"                        (default /run/pollnet/pollnet.stats)\n"
"  -s, --set SEC.KEY=V   set any configuration key, e.g. --set sockets.rx_ring=2048\n"
"  -d, --dump            print one line per frame received and sent (debugging;\n"
"                        pollnetctl tail does it without a restart)\n"
"  -h, --help            this help\n"
"\n"
"EAL options are DPDK's (see 'dpdk-testpmd --help' or DPDK's EAL docs).\n"
"The first lcore runs the control thread, each other lcore a data-plane loop\n"
"with its own queue pair.  Without -l/-c/--lcores the configuration's\n"
"dataplane.lcores is used.\n"
"\n"
"Signals: SIGINT/SIGTERM stop cleanly and print the counters; SIGUSR1 prints\n"
"them while running.\n"
"\n"
"Example:\n"
"  %s -l 0-1 --in-memory -- --port dpdk:net_af_packet0,iface=veth0 \\\n"
"      --ip 198.18.0.2/24 --echo-port 7\n",
		prog, prog);
}

static bool
eal_has_lcores(int argc, char **argv)
{
	for (int i = 1; i < argc; i++)
		if (strncmp(argv[i], "-l", 2) == 0 || strncmp(argv[i], "-c", 2) == 0 ||
		    strncmp(argv[i], "--lcores", 8) == 0)
			return true;
	return false;
}

struct override { const char *key; const char *val; const char *opt; };

int
options_parse(int argc, char **argv, struct pn_options *o)
{
	static const struct option longopts[] = {
		{ "config", required_argument, NULL, 'f' },
		{ "port", required_argument, NULL, 'p' },
		{ "ip", required_argument, NULL, 'i' },
		{ "gateway", required_argument, NULL, 'g' },
		{ "mac", required_argument, NULL, 'm' },
		{ "echo-port", required_argument, NULL, 'e' },
		{ "set", required_argument, NULL, 's' },
		{ "ctl", required_argument, NULL, 'c' },
		{ "stats", required_argument, NULL, 'S' },
		{ "dump", no_argument, NULL, 'd' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *slash = strrchr(argv[0], '/');
	const char *prog = slash != NULL ? slash + 1 : argv[0], *config = NULL;
	struct override ov[64];
	int nov = 0, sep = -1, c, app_argc;
	char **app_argv, err[512];
	char setbuf[64][256];

	memset(o, 0, sizeof(*o));
	config_defaults(&o->cfg);

	for (int i = 1; i < argc; i++)
		if (strcmp(argv[i], "--") == 0) {
			sep = i;
			break;
		}
	if (sep < 0)
		sep = argc;
	/*
	 * Before "--" are EAL's options.  A request for help there is
	 * answered with pollnet's usage (which says where EAL's are); one of
	 * pollnet's own there is a mistake EAL would report as its own.
	 */
	for (int i = 1; i < sep; i++) {
		const size_t n = strcspn(argv[i], "=");

		if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
			options_usage(prog, stdout);
			return OPTIONS_EXIT;
		}
		for (const struct option *lo = longopts; lo->name != NULL; lo++)
			if (strncmp(argv[i], "--", 2) == 0 && strlen(lo->name) == n - 2 &&
			    strncmp(argv[i] + 2, lo->name, n - 2) == 0) {
				fprintf(stderr, "%s: '--%s' is a pollnet option: it goes after '--' "
					"(EAL's options come before it)\n\n", prog, lo->name);
				options_usage(prog, stderr);
				return OPTIONS_ERROR;
			}
	}
	app_argc = argc - sep;        /* argv[sep] ("--") stands in for argv[0] */
	app_argv = argv + sep;

	optind = 1;
	opterr = 0;
	while (app_argc > 1 &&
	       (c = getopt_long(app_argc, app_argv, ":f:p:i:g:m:e:s:c:S:dh", longopts, NULL)) != -1) {
		if (nov == (int)(sizeof(ov) / sizeof(ov[0]))) {
			fprintf(stderr, "%s: more than %d options\n\n", prog, nov);
			options_usage(prog, stderr);
			return OPTIONS_ERROR;
		}
		switch (c) {
		case 'f': config = optarg; break;
		case 'p': ov[nov++] = (struct override){ "port.spec", optarg, "--port" }; break;
		case 'i': ov[nov++] = (struct override){ "ipv4.address", optarg, "--ip" }; break;
		case 'g': ov[nov++] = (struct override){ "ipv4.gateway", optarg, "--gateway" }; break;
		case 'm': ov[nov++] = (struct override){ "port.mac", optarg, "--mac" }; break;
		case 'e': ov[nov++] = (struct override){ "sockets.echo_port", optarg, "--echo-port" }; break;
		case 'c': ov[nov++] = (struct override){ "control.path", optarg, "--ctl" }; break;
		case 'S': ov[nov++] = (struct override){ "control.stats", optarg, "--stats" }; break;
		case 's': {
			char *eq;

			if (strlcpy(setbuf[nov], optarg, sizeof(setbuf[nov])) >= sizeof(setbuf[nov])) {
				fprintf(stderr, "%s: --set %.40s...: longer than %zu characters\n\n",
					prog, optarg, sizeof(setbuf[nov]) - 1);
				options_usage(prog, stderr);
				return OPTIONS_ERROR;
			}
			eq = strchr(setbuf[nov], '=');
			if (eq == NULL) {
				fprintf(stderr, "%s: --set %s: expected SECTION.KEY=VALUE\n\n",
					prog, optarg);
				options_usage(prog, stderr);
				return OPTIONS_ERROR;
			}
			*eq = '\0';
			ov[nov] = (struct override){ setbuf[nov], eq + 1, "--set" };
			nov++;
			break;
		}
		case 'd': o->dump = true; break;
		case 'h':
			options_usage(prog, stdout);
			return OPTIONS_EXIT;
		default:
			cli_option_reason(err, sizeof(err), c, app_argv, longopts);
			fprintf(stderr, "%s: %s\n\n", prog, err);
			options_usage(prog, stderr);
			return OPTIONS_ERROR;
		}
	}
	if (app_argc > 1 && optind < app_argc) {
		fprintf(stderr, "%s: unexpected argument '%s'\n\n", prog, app_argv[optind]);
		options_usage(prog, stderr);
		return OPTIONS_ERROR;
	}

	if (config != NULL && config_load(&o->cfg, config, err, sizeof(err)) < 0) {
		fprintf(stderr, "%s: %s\n", prog, err);
		return OPTIONS_ERROR;
	}
	for (int i = 0; i < nov; i++) {
		char from[300];

		/* --set names its key: "--set sockets.rx_ring=1000: ..." */
		if (strcmp(ov[i].opt, "--set") == 0)
			snprintf(from, sizeof(from), "--set %s=%s", ov[i].key, ov[i].val);
		else
			snprintf(from, sizeof(from), "%s %s", ov[i].opt, ov[i].val);
		if (config_set_from(&o->cfg, from, ov[i].key, ov[i].val, err, sizeof(err)) < 0) {
			fprintf(stderr, "%s: %s: %s\n\n", prog, from, err);
			options_usage(prog, stderr);
			return OPTIONS_ERROR;
		}
	}
	if (config_validate(&o->cfg, err, sizeof(err)) < 0) {
		fprintf(stderr, "%s: %s\n\n", prog, err);
		options_usage(prog, stderr);
		return OPTIONS_ERROR;
	}

	/* EAL arguments: everything before "--", plus the configured lcores. */
	o->eal_argv = calloc(sep + 3, sizeof(char *));
	if (o->eal_argv == NULL)
		return OPTIONS_ERROR;
	for (int i = 0; i < sep; i++)
		o->eal_argv[o->eal_argc++] = argv[i];
	if (o->cfg.lcores[0] != '\0' && !eal_has_lcores(sep, argv)) {
		o->eal_argv[o->eal_argc++] = "-l";
		o->eal_argv[o->eal_argc++] = o->cfg.lcores;
	}
	return OPTIONS_OK;
}

void
options_free(struct pn_options *o)
{
	free(o->eal_argv);
	o->eal_argv = NULL;
}
