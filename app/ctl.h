/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The control channel: clients (libpollnet) connect to a Unix socket, are
 * checked (SO_PEERCRED and SO_PEERGROUPS against the configuration), and
 * create, bind, connect and close sockets.  Runs on the control thread
 * only; the lcores learn of sockets through the socket table.
 */
#ifndef PN_CTL_H
#define PN_CTL_H

#include <poll.h>
#include <stdint.h>
#include <sys/types.h>

#include "abi/pn_control.h"
#include "abi/pn_region.h"
#include "abi/pn_stats.h"

struct app;
struct pn_sock;

#define CTL_MAX_CLIENTS 256
/* the ports pollnet picks for a socket that binds to port 0 (IANA's
 * dynamic range; reserved in the kernel while the exception path is up) */
#define CTL_EPHEMERAL_LO 49152
#define CTL_EPHEMERAL_HI 65535

struct ctl_client {
	int fd;                 /* -1: free */
	pid_t pid;
	uid_t uid;
	gid_t gid;
	int in_group;           /* in control.allow_groups when it connected */
	int hello;              /* versions agreed */
	uint32_t nsocks;        /* sockets it holds */
};

struct ctl_sock {
	struct pn_sock *s;      /* NULL: free id */
	int client;             /* index in clients[] */
	int in_table;
	int port_named;         /* bound to a port the client named: a
	                         * disconnect keeps it (the kernel's
	                         * SOCK_BINDPORT_LOCK) */
	int preload;            /* a program's under pollnet-run (PN_SOCK_PRELOAD) */
};

/* One request as it arrives: a capture's filter follows its header. */
union ctl_msg {
	struct pn_ctl_req req;
	uint8_t raw[sizeof(struct pn_ctl_req) + 4096 * 8];
};

struct ctl {
	struct app *a;
	union ctl_msg msg;      /* the request being handled */
	int lfd;
	char path[108];
	struct ctl_client clients[CTL_MAX_CLIENTS];
	struct ctl_sock *socks; /* [max], by socket id */
	uint32_t max;
	uint32_t open;          /* sockets */
	uint32_t nclients;
	uint16_t next_lcore;
	uint16_t next_port;     /* where the ephemeral search resumes */
	uint64_t refused[PN_REFUSED_MAX];
	uint64_t hangups;       /* sockets closed by their wake pair hanging up */
	struct pollfd *pfd;     /* ctl_poll's: listener, clients, wake pairs */
	int *pfd_idx;
	gid_t *groups;          /* a new client's SO_PEERGROUPS, grown as needed */
	size_t ngroups_cap;
};

/* Listen on the configured path.  -1 with a message on error. */
int ctl_open(struct ctl *c, struct app *a, char *err, size_t errlen);
/* Wait up to timeout_ms for control traffic and handle it. */
void ctl_poll(struct ctl *c, int timeout_ms);
/* Close every client and socket, stop listening. */
void ctl_close(struct ctl *c);

#endif
