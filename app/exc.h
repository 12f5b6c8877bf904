/* SPDX-License-Identifier: BSD-3-Clause */
/* The exception path's port and the kernel's interface (exc.c). */
#ifndef PN_EXC_H
#define PN_EXC_H

#include <stddef.h>

struct app;

/* With port.exception set: open a->exc (a queue pair per lcore) and set
 * the kernel's interface up as pollnet's (a->sconf: MAC, MTU, address,
 * network, a default route through the gateway).  0 (a->exc NULL without
 * port.exception), or a negative errno with the reason in err. */
int exc_open(struct app *a, char *err, size_t errlen);
void exc_close(struct app *a);

#endif
