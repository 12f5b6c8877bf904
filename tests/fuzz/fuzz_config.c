/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The configuration parser on arbitrary bytes as a pollnet.conf: it either
 * loads, or refuses with a message that names the file (and, for a bad
 * line, the line and the reason); whatever loaded, the cross-key checks
 * accept it or say why.  Then the same bytes' first line as a --set
 * SECTION.KEY=VALUE: accepted, or refused with a reason.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "config.h"
#include "fuzz_env.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pn_config c;
	char path[64], err[512], line[512], *eq;
	int fd = memfd_create("fuzz.conf", MFD_CLOEXEC);
	size_t n;

	FUZZ_CHECK(fd >= 0, "memfd");
	FUZZ_CHECK(write(fd, data, size) == (ssize_t)size, "write");
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	config_defaults(&c);
	err[0] = '\0';
	if (config_load(&c, path, err, sizeof(err)) < 0) {
		FUZZ_CHECK(strncmp(err, path, strlen(path)) == 0 && err[strlen(path)] == ':',
			   "a refusal names the file: '%s'", err);
		FUZZ_CHECK(strlen(err) > strlen(path) + 2, "and says why: '%s'", err);
	} else {
		err[0] = '\0';
		if (config_validate(&c, err, sizeof(err)) < 0)
			FUZZ_CHECK(err[0] != '\0', "a refused configuration says why");
	}
	close(fd);

	n = size < sizeof(line) - 1 ? size : sizeof(line) - 1;
	memcpy(line, data, n);
	line[n] = '\0';
	line[strcspn(line, "\n")] = '\0';
	eq = strchr(line, '=');
	if (eq != NULL) {
		*eq = '\0';
		err[0] = '\0';
		config_defaults(&c);
		if (config_set(&c, line, eq + 1, err, sizeof(err)) < 0)
			FUZZ_CHECK(err[0] != '\0', "a refused --set says why");
	}
	return 0;
}
