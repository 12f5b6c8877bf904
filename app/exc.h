/* SPDX-License-Identifier: BSD-3-Clause */
/* The exception path's port and the kernel's interface (exc.c). */
#ifndef PN_EXC_H
#define PN_EXC_H

#include <stddef.h>
#include <stdint.h>

struct app;

/* With port.exception set: open a->exc (a queue pair per lcore) and set
 * the kernel's interface up as pollnet's (a->sconf: MAC, MTU, address,
 * network, a default route through the gateway).  0 (a->exc NULL without
 * port.exception), or a negative errno with the reason in err. */
int exc_open(struct app *a, char *err, size_t errlen);
void exc_close(struct app *a);

/* Hold UDP port `port` for pollnet where the kernel shares its address,
 * or give it back: on an xdp: port (port_udp_hold), and on the kernel
 * behind the exception path (a socket bound to pollnet's address and the
 * port), so that the kernel's programs and pollnet share one table of
 * ports.  0, or a negative errno (-EADDRINUSE: the kernel's). */
int app_udp_hold(struct app *a, uint16_t port, int hold);

#endif
