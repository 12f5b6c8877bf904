/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * libpollnet.so's table of libc functions (libc.h): libc's own.
 */
#define _GNU_SOURCE
#include "libc.h"

#include <unistd.h>

struct pn_libc pn_libc = {
#define PN_LIBC_DIRECT(ret, name, args) .name = name,
	PN_LIBC_CORE(PN_LIBC_DIRECT)
#undef PN_LIBC_DIRECT
};

struct pn_libc *
pn_libc_load(void)
{
	return &pn_libc;
}
