/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef PN_OPTIONS_H
#define PN_OPTIONS_H

#include <stdbool.h>

#include "config.h"

struct pn_options {
	struct pn_config cfg;
	bool dump;              /* print a line per frame (debugging) */
	int eal_argc;           /* EAL arguments, ready for rte_eal_init */
	char **eal_argv;
};

enum { OPTIONS_OK = 0, OPTIONS_EXIT = 1, OPTIONS_ERROR = 2 };

/* Split "[EAL options] -- [pollnet options]", load the config file, apply
 * overrides.  Returns OPTIONS_OK, OPTIONS_EXIT (--help was printed) or
 * OPTIONS_ERROR (a message and usage went to stderr). */
int options_parse(int argc, char **argv, struct pn_options *o);
void options_usage(const char *prog, FILE *f);
void options_free(struct pn_options *o);

#endif
