/* SPDX-License-Identifier: BSD-3-Clause */
#define _GNU_SOURCE
#include "ctl.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <bsd/string.h>
#include <rte_malloc.h>

#include "app.h"
#include "capture.h"
#include "mcast.h"
#include "abi/pn_control.h"
#include "abi/pn_region.h"
#include "sock_table.h"

#define EPHEMERAL_LO CTL_EPHEMERAL_LO
#define EPHEMERAL_HI CTL_EPHEMERAL_HI

static void
mkdir_parent(const char *path)
{
	char dir[108], *slash;

	strlcpy(dir, path, sizeof(dir));
	slash = strrchr(dir, '/');
	if (slash == NULL || slash == dir)
		return;
	*slash = '\0';
	mkdir(dir, 0755);       /* one level: /run/pollnet; exists is fine */
}

int
ctl_open(struct ctl *c, struct app *a, char *err, size_t errlen)
{
	const struct pn_config *cfg = a->cfg;
	struct sockaddr_un sa = { .sun_family = AF_UNIX };

	memset(c, 0, sizeof(*c));
	c->a = a;
	c->lfd = -1;
	c->next_port = EPHEMERAL_LO;
	for (int i = 0; i < CTL_MAX_CLIENTS; i++)
		c->clients[i].fd = -1;
	c->max = cfg->max_sockets;
	c->socks = calloc(c->max, sizeof(c->socks[0]));
	c->pfd = calloc(c->max + CTL_MAX_CLIENTS + 5, sizeof(c->pfd[0]));
	c->pfd_idx = calloc(c->max + CTL_MAX_CLIENTS + 5, sizeof(c->pfd_idx[0]));
	if (c->socks == NULL || c->pfd == NULL || c->pfd_idx == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	strlcpy(c->path, cfg->ctl_path, sizeof(c->path));
	strlcpy(sa.sun_path, c->path, sizeof(sa.sun_path));
	mkdir_parent(c->path);
	c->lfd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (c->lfd < 0)
		goto fail;
	/* A socket file left by a pollnet that died: take it over if no one
	 * answers on it. */
	if (connect(c->lfd, (struct sockaddr *)&sa, sizeof(sa)) == 0) {
		snprintf(err, errlen, "%s: another pollnet is listening there", c->path);
		close(c->lfd);
		c->lfd = -1;
		return -1;
	}
	unlink(c->path);
	if (bind(c->lfd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    chmod(c->path, cfg->ctl_mode) < 0 || listen(c->lfd, 64) < 0)
		goto fail;
	return 0;
fail:
	snprintf(err, errlen, "control socket %s: %s", c->path, strerror(errno));
	if (c->lfd >= 0)
		close(c->lfd);
	c->lfd = -1;
	return -1;
}

static int
gid_allowed(const struct pn_config *cfg, gid_t g)
{
	for (uint32_t i = 0; i < cfg->n_allow_gid; i++)
		if (cfg->allow_gid[i] == g)
			return 1;
	return 0;
}

/*
 * Was a group of the peer's, primary (SO_PEERCRED's gid) or supplementary
 * (SO_PEERGROUPS), in control.allow_groups when it connected?  The
 * connection's credentials, as the kernel took them at connect(), not its
 * process's now: that process may have changed its groups since, or exited
 * and left its pid to another.
 */
static int
ctl_peer_in_group(struct ctl *c, int fd, gid_t gid)
{
	const struct pn_config *cfg = c->a->cfg;
	socklen_t len;

	if (gid_allowed(cfg, gid))
		return 1;
	if (cfg->n_allow_gid == 0)
		return 0;
	for (;;) {
		len = (socklen_t)(c->ngroups_cap * sizeof(gid_t));
		if (getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, c->groups, &len) == 0)
			break;
		/* ERANGE: len says how much they take (they never change) */
		if (errno != ERANGE || len <= c->ngroups_cap * sizeof(gid_t))
			return 0;
		gid_t *g = realloc(c->groups, len);

		if (g == NULL)
			return 0;
		c->groups = g;
		c->ngroups_cap = len / sizeof(gid_t);
	}
	for (size_t i = 0; i < len / sizeof(gid_t); i++)
		if (gid_allowed(cfg, c->groups[i]))
			return 1;
	return 0;
}

/* root, a listed user, or a member of a listed group when it connected. */
static int
ctl_allowed(const struct pn_config *cfg, const struct ctl_client *cl)
{
	if (cl->uid == 0)
		return 1;
	for (uint32_t i = 0; i < cfg->n_allow_uid; i++)
		if (cfg->allow_uid[i] == cl->uid)
			return 1;
	return cl->in_group;
}

/* Sessions (or, sock: sockets) the user uid holds. */
static uint32_t
ctl_user_count(const struct ctl *c, uid_t uid, int sock)
{
	uint32_t n = 0;

	for (int i = 0; i < CTL_MAX_CLIENTS; i++)
		if (c->clients[i].fd >= 0 && c->clients[i].uid == uid)
			n += sock ? c->clients[i].nsocks : 1;
	return n;
}

/* Turn a connection away with a reason the client reads as its first
 * reply (sequence number 0: the answer to whatever it asks; libpollnet
 * reads a queued reply even when its send finds the connection closed). */
static void
ctl_turn_away(struct ctl *c, int fd, enum pn_refusal why, int err)
{
	struct pn_ctl_rep rep = { .seq = 0, .status = err, .version = PN_CTL_VERSION };
	struct pn_ctl_req req;

	c->refused[why]++;
	/* what it sent already, read: closing with it unread would reset the
	 * connection before the client reads our reply */
	while (recv(fd, &req, sizeof(req), MSG_DONTWAIT) > 0)
		;
	(void)!send(fd, &rep, sizeof(rep), MSG_DONTWAIT | MSG_NOSIGNAL);
	close(fd);
}

static void
ctl_accept(struct ctl *c)
{
	struct ucred cred;
	socklen_t len = sizeof(cred);
	int fd, slot;

	while ((fd = accept4(c->lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC)) >= 0) {
		slot = -1;
		for (int i = 0; i < CTL_MAX_CLIENTS && slot < 0; i++)
			if (c->clients[i].fd < 0)
				slot = i;
		if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0) {
			close(fd);
			continue;
		}
		if (slot < 0) {
			ctl_turn_away(c, fd, PN_REFUSED_CLIENTS_FULL, -EUSERS);
			continue;
		}
		if (ctl_user_count(c, cred.uid, 0) >= c->a->cfg->max_clients_per_user) {
			ctl_turn_away(c, fd, PN_REFUSED_USER_CLIENTS, -EDQUOT);
			continue;
		}
		c->clients[slot] = (struct ctl_client){
			.fd = fd, .pid = cred.pid, .uid = cred.uid, .gid = cred.gid,
			.in_group = ctl_peer_in_group(c, fd, cred.gid) };
		c->nclients++;
	}
}

static int
port_free(struct ctl *c, uint16_t port)
{
	const struct sock_port *sp = &c->a->socks->ports[port];

	return atomic_load(&sp->bound) == NULL && atomic_load(&sp->connected) == 0;
}

/*
 * Beside the kernel (an xdp: port, or the exception path), a UDP port
 * pollnet's table takes from free is the kernel's to give first
 * (app_udp_hold: its own programs and pollnet share one table), and goes
 * back to it when the last socket on it leaves.  Elsewhere both are no-ops.
 */
static int
port_take(struct ctl *c, uint16_t port)
{
	return port_free(c, port) ? app_udp_hold(c->a, port, 1) : 0;
}

static void
port_give_back(struct ctl *c, uint16_t port)
{
	if (port_free(c, port))
		app_udp_hold(c->a, port, 0);
}

static void
sock_free(struct pn_sock *s)
{
	if (s->region != NULL)
		munmap(s->region, s->geo.region_size);
	if (s->efd >= 0)
		close(s->efd);
	if (s->tx_efd >= 0)
		close(s->tx_efd);
	rte_free(s);
}

static void
ctl_sock_close(struct ctl *c, uint32_t id)
{
	struct ctl_sock *cs = &c->socks[id];

	if (c->a->mc != NULL)
		mcast_sock_gone(c->a->mc, id, mcast_now_ms());
	if (cs->in_table) {
		sock_table_remove(c->a->socks, cs->s);  /* waits out the lcores */
		port_give_back(c, ntohs(cs->s->key.lport));
	}
	sock_free(cs->s);
	c->clients[cs->client].nsocks--;
	memset(cs, 0, sizeof(*cs));
	c->open--;
}

static void
ctl_drop_client(struct ctl *c, int ci)
{
	if (c->a->cap != NULL && c->a->cap->client == ci)
		capture_stop(c->a);
	for (uint32_t id = 0; id < c->max; id++)
		if (c->socks[id].s != NULL && c->socks[id].client == ci)
			ctl_sock_close(c, id);
	close(c->clients[ci].fd);
	c->clients[ci].fd = -1;
	c->clients[ci].nsocks = 0;
	c->nclients--;
}

/* A ring size a client asked for: 0 is the default; else rounded up to a
 * power of 2, at least 16, at most sockets.ring_max (but never below the
 * default). */
static uint32_t
ring_entries(uint32_t want, uint32_t dflt, uint32_t max)
{
	uint32_t n = 16;

	if (want == 0)
		return dflt;
	if (max < dflt)
		max = dflt;
	while (n < want && n < max)
		n <<= 1;
	return n;
}

/* A wake pair (abi/pn_region.h): our end non-blocking and shut for reading
 * (we only send), the client's its own to block on. */
static int
wake_pair(int *ours, int *theirs)
{
	int sv[2];

	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
		return -1;
	*ours = sv[0];
	*theirs = sv[1];
	return fcntl(sv[0], F_SETFL, O_NONBLOCK) < 0 || shutdown(sv[0], SHUT_RD) < 0 ? -1 : 0;
}

/* A new socket: its region (sealed: the client can neither grow nor shrink
 * it under us) and its two wake pairs.  fds: what the client gets (the
 * region's memfd, its ends of the receive and the send pairs). */
static int
ctl_sock_new(struct ctl *c, int ci, const struct pn_ctl_req *req, uint32_t *id_out, int fds[3])
{
	uint32_t flags = req->arg;
	const struct pn_config *cfg = c->a->cfg;
	struct pn_sock *s;
	struct pn_shm_hdr h;
	uint32_t id;
	char name[32];

	/* the limits, tightest first: this session's, its user's, pollnet's.
	 * As the kernel's, the user's share and the table's last part do not
	 * hold root back (a session's does, as RLIMIT_NOFILE does root's
	 * processes). */
	const int root = c->clients[ci].uid == 0;

	if (c->clients[ci].nsocks >= cfg->max_per_client) {
		c->refused[PN_REFUSED_CLIENT_SOCKETS]++;
		return -EMFILE;
	}
	if (!root && ctl_user_count(c, c->clients[ci].uid, 1) >= config_max_per_user(cfg)) {
		c->refused[PN_REFUSED_USER_SOCKETS]++;
		return -EDQUOT;
	}
	for (id = 0; id < c->max && c->socks[id].s != NULL; id++)
		;
	if (id == c->max || (!root && c->open >= c->max - config_reserved(cfg))) {
		c->refused[PN_REFUSED_SOCKETS_FULL]++;
		return -ENFILE;
	}
	s = rte_zmalloc("pn_sock", sizeof(*s), RTE_CACHE_LINE_SIZE);
	if (s == NULL)
		return -ENOMEM;
	s->efd = s->tx_efd = -1;
	/* its lcore, for good: the client rings that lcore's doorbell */
	s->owner = c->next_lcore;
	c->next_lcore = (uint16_t)((c->next_lcore + 1) % c->a->nb_lcores);
	pn_shm_layout(&h, ring_entries(req->rx_ring, cfg->sock_ring, cfg->sock_ring_max),
		      ring_entries(req->tx_ring, cfg->sock_tx_ring, cfg->sock_ring_max), id,
		      s->owner);
	snprintf(name, sizeof(name), "pollnet-sock-%u", id);
	fds[0] = memfd_create(name, MFD_CLOEXEC | MFD_ALLOW_SEALING);
	if (fds[0] < 0 || ftruncate(fds[0], h.region_size) < 0 ||
	    fcntl(fds[0], F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL) < 0)
		goto fail;
	s->region = mmap(NULL, h.region_size, PROT_READ | PROT_WRITE, MAP_SHARED, fds[0], 0);
	if (s->region == MAP_FAILED) {
		s->region = NULL;
		goto fail;
	}
	memcpy(s->region, &h, sizeof(h));
	s->geo = h;
	s->rx_limit = h.rx_size;
	if (wake_pair(&s->efd, &fds[1]) < 0 || wake_pair(&s->tx_efd, &fds[2]) < 0)
		goto fail;
	s->id = id;
	s->kind = SOCK_SHM;
	s->pid = c->clients[ci].pid;
	s->uid = c->clients[ci].uid;
	c->socks[id] = (struct ctl_sock){ .s = s, .client = ci,
					  .preload = (flags & PN_SOCK_PRELOAD) != 0 };
	c->clients[ci].nsocks++;
	c->open++;
	*id_out = id;
	return 0;
fail:
	{
		int e = -errno;

		for (int i = 0; i < 3; i++) {
			if (fds[i] >= 0)
				close(fds[i]);
			fds[i] = -1;
		}
		sock_free(s);
		return e;
	}
}

/* A free port of the ephemeral range, taken (port_take). */
static int
ephemeral_port(struct ctl *c)
{
	for (int n = 0; n <= EPHEMERAL_HI - EPHEMERAL_LO; n++) {
		uint16_t p = c->next_port;

		c->next_port = p == EPHEMERAL_HI ? EPHEMERAL_LO : p + 1;
		if (port_free(c, p) && port_take(c, p) == 0)
			return p;
	}
	return -EADDRINUSE;
}

/* Place socket id, not in the table yet, under key k (a socket in the
 * table moves with sock_table_rekey). */
static int
ctl_sock_place(struct ctl *c, uint32_t id, struct sock_key k)
{
	struct ctl_sock *cs = &c->socks[id];
	int rc;

	if (cs->in_table)
		return -EINVAL;
	rc = port_take(c, ntohs(k.lport));
	if (rc < 0)
		return rc;
	cs->s->key = k;
	rc = sock_table_add(c->a->socks, cs->s);
	if (rc == 0)
		cs->in_table = 1;
	else
		port_give_back(c, ntohs(k.lport));
	return rc;
}

/* With REUSEADDR, a port other sockets use is free to bind if they all,
 * bound or connected, were bound with REUSEADDR as well (the kernel's rule:
 * SO_REUSEADDR on both).  The echo service never shares its port. */
static int
port_shareable(struct ctl *c, uint16_t port)
{
	const struct pn_sock *b = atomic_load(&c->a->socks->ports[port].bound);

	if (b != NULL && b->kind != SOCK_SHM)
		return 0;
	for (uint32_t i = 0; i < c->max; i++) {
		const struct ctl_sock *o = &c->socks[i];

		if (o->s != NULL && o->in_table && ntohs(o->s->key.lport) == port &&
		    !o->s->reuse)
			return 0;
	}
	return 1;
}

static int
ctl_bind(struct ctl *c, int ci, uint32_t id, uint16_t port, uint32_t flags,
	 struct pn_ctl_rep *rep)
{
	struct ctl_sock *cs = &c->socks[id];
	int p = port;

	if (cs->in_table || (flags & ~PN_BIND_FLAGS))
		return -EINVAL;         /* already bound, or flags we do not know */
	if (p == 0) {
		p = ephemeral_port(c);
		if (p < 0)
			return p;
	} else if (p < 1024 && c->clients[ci].uid != 0) {
		return -EACCES;
	} else if (!port_free(c, (uint16_t)p) &&
		   !((flags & PN_BIND_REUSEADDR) && port_shareable(c, (uint16_t)p))) {
		return -EADDRINUSE;
	}
	rep->port = htons((uint16_t)p);
	cs->s->reuse = (flags & PN_BIND_REUSEADDR) != 0;
	cs->port_named = port != 0;
	return ctl_sock_place(c, id, (struct sock_key){ .lport = htons((uint16_t)p) });
}

static int
ctl_connect(struct ctl *c, uint32_t id, uint32_t addr, uint16_t port, struct pn_ctl_rep *rep)
{
	struct ctl_sock *cs = &c->socks[id];
	int p;

	if (addr == 0 && port == 0) {
		/* Disconnect (connect(AF_UNSPEC)), which on the kernel does not
		 * fail: a socket never bound stays so; one whose port was
		 * chosen for it (by connect, or a bind to port 0) gives it up,
		 * connected or not, and is unbound again (port 0); one bound
		 * to a port it named keeps it, among the port's bound
		 * sockets, whoever else is connected on it (they share it
		 * with this one, or it would not be theirs too). */
		if (!cs->in_table)
			return 0;
		if (!cs->port_named) {
			sock_table_remove(c->a->socks, cs->s);  /* waits out the lcores */
			port_give_back(c, ntohs(cs->s->key.lport));
			cs->in_table = 0;
			cs->s->key = (struct sock_key){ 0 };    /* unbound, as shown */
			return 0;
		}
		rep->port = cs->s->key.lport;
		if (sock_key_bound(&cs->s->key))
			return 0;
		return sock_table_rekey(c->a->socks, cs->s,
					(struct sock_key){ .lport = cs->s->key.lport }) == 0 ?
		       0 : -EADDRINUSE;
	}
	if (addr == 0 || port == 0)
		return -EINVAL;
	if (cs->in_table) {
		/* the socket moves to its new key without ever being nowhere:
		 * no datagram for it is refused meanwhile */
		rep->port = cs->s->key.lport;
		return sock_table_rekey(c->a->socks, cs->s, (struct sock_key){
			.lport = cs->s->key.lport, .rip = addr, .rport = port }) == 0 ?
		       0 : -EADDRINUSE;
	}
	p = ephemeral_port(c);
	if (p < 0)
		return p;
	rep->port = htons((uint16_t)p);
	cs->port_named = 0;
	return ctl_sock_place(c, id, (struct sock_key){
		.lport = htons((uint16_t)p), .rip = addr, .rport = port });
}

/* The socket's key into its region, for every process that shares it
 * (abi/pn_region.h, Association): before the reply. */
static void
ctl_assoc(struct ctl *c, uint32_t id)
{
	const struct pn_sock *s = c->socks[id].s;
	uint64_t v = c->socks[id].in_table ?
		     pn_assoc_pack(s->key.lport, s->key.rip, s->key.rport) : 0;

	atomic_store_explicit(&pn_shm_ctl(s->region)->assoc.v, v, memory_order_release);
}

static int
ctl_reply(int fd, const struct pn_ctl_rep *rep, const int *fds, int nfds)
{
	char cbuf[CMSG_SPACE(3 * sizeof(int))] = { 0 };
	struct iovec iov = { .iov_base = (void *)rep, .iov_len = sizeof(*rep) };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };

	if (nfds > 0) {
		struct cmsghdr *cm;

		mh.msg_control = cbuf;
		mh.msg_controllen = CMSG_SPACE(nfds * sizeof(int));
		cm = CMSG_FIRSTHDR(&mh);
		cm->cmsg_level = SOL_SOCKET;
		cm->cmsg_type = SCM_RIGHTS;
		cm->cmsg_len = CMSG_LEN(nfds * sizeof(int));
		memcpy(CMSG_DATA(cm), fds, nfds * sizeof(int));
	}
	return sendmsg(fd, &mh, MSG_DONTWAIT | MSG_NOSIGNAL) == (ssize_t)sizeof(*rep) ? 0 : -1;
}

/* Frames carry every client's data: root only.  The filter (classic BPF)
 * follows the request: n instructions in len bytes. */
static int
ctl_capture(struct ctl *c, int ci, const struct pn_ctl_req *req, size_t len, int *fd)
{
	const uint32_t n = req->sock_id;

	if (c->clients[ci].uid != 0)
		return -EPERM;
	if (n > CAPTURE_MAX_INSNS || len != sizeof(*req) + n * sizeof(struct capture_insn))
		return -EINVAL;
	return capture_start(c->a, ci, (const struct capture_insn *)(req + 1), n, req->arg, fd);
}

/* One request: 1 handled, 0 nothing to read, -1 drop the client. */
/* A socket's filter for a group; its sources follow the request. */
static int
ctl_mcast(struct ctl *c, const struct pn_ctl_req *req, size_t len)
{
	const uint32_t mode = req->arg & 0xff, nsrc = req->arg >> 8;
	rte_be32_t src[PN_MC_MAX_SOURCES];

	if (c->a->mc == NULL)
		return -EOPNOTSUPP;
	if ((mode != PN_MC_INCLUDE && mode != PN_MC_EXCLUDE) || nsrc > PN_MC_MAX_SOURCES ||
	    len != sizeof(*req) + nsrc * sizeof(src[0]))
		return -EINVAL;
	memcpy(src, c->msg.raw + sizeof(*req), nsrc * sizeof(src[0]));
	return mcast_set(c->a->mc, req->sock_id, req->addr,
			 mode == PN_MC_INCLUDE ? MC_INCLUDE : MC_EXCLUDE, (uint8_t)nsrc, src,
			 mcast_now_ms());
}

static int
ctl_request(struct ctl *c, int ci)
{
	struct ctl_client *cl = &c->clients[ci];
	struct pn_ctl_req req = { 0 };
	struct pn_ctl_rep rep = { 0 };
	int fds[3] = { -1, -1, -1 }, nfds = 0, rc;
	ssize_t n = recv(cl->fd, c->msg.raw, sizeof(c->msg.raw), MSG_DONTWAIT | MSG_TRUNC);

	if (n == 0)
		return -1;              /* the client went away (or died) */
	if (n < 0)
		return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR ? 0 : -1;
	/* a message shorter than a request is answered with sequence 0: what
	 * it holds of one is not a request (req stays all zero, op 0) */
	if (n >= (ssize_t)sizeof(req))
		memcpy(&req, c->msg.raw, sizeof(req));
	rep.seq = req.seq;
	rep.version = PN_CTL_VERSION;
	if (n < (ssize_t)sizeof(req) || n > (ssize_t)sizeof(c->msg.raw) ||
	    (n != sizeof(req) && req.op != PN_CTL_CAPTURE && req.op != PN_CTL_MCAST)) {
		rep.status = -EBADMSG;
	} else if (!cl->hello && req.op != PN_CTL_HELLO) {
		rep.status = -EPROTO;
	} else if (req.op != PN_CTL_HELLO && req.op != PN_CTL_SOCKET && req.op != PN_CTL_CAPTURE &&
		   (req.sock_id >= c->max || c->socks[req.sock_id].s == NULL ||
		    c->socks[req.sock_id].client != ci)) {
		rep.status = -EBADF;    /* not a socket of this client */
	} else {
		switch (req.op) {
		case PN_CTL_HELLO:
			if (req.version != PN_CTL_VERSION) {
				rep.status = -EPROTONOSUPPORT;
			} else if (!ctl_allowed(c->a->cfg, cl)) {
				c->refused[PN_REFUSED_CREDENTIALS]++;
				rep.status = -EACCES;
			} else {
				cl->hello = 1;
				rep.addr = c->a->sconf.ip;
				fds[0] = c->a->state_fd;        /* (ours to keep) */
				fds[1] = c->a->bell;
				nfds = 2;
			}
			break;
		case PN_CTL_SOCKET:
			if (req.arg & ~PN_SOCK_FLAGS) {
				rep.status = -EINVAL;
				break;
			}
			rc = ctl_sock_new(c, ci, &req, &rep.sock_id, fds);
			rep.status = rc;
			if (rc == 0) {
				rep.region_size = c->socks[rep.sock_id].s->geo.region_size;
				nfds = 3;
			}
			break;
		case PN_CTL_BIND:
			rep.sock_id = req.sock_id;
			rep.addr = c->a->sconf.ip;
			rep.status = ctl_bind(c, ci, req.sock_id, ntohs(req.port), req.arg, &rep);
			ctl_assoc(c, req.sock_id);
			break;
		case PN_CTL_CONNECT:
			rep.sock_id = req.sock_id;
			rep.addr = c->a->sconf.ip;
			rep.status = ctl_connect(c, req.sock_id, req.addr, req.port, &rep);
			ctl_assoc(c, req.sock_id);
			break;
		case PN_CTL_CLOSE:
			ctl_sock_close(c, req.sock_id);
			break;
		case PN_CTL_MCAST:
			rep.sock_id = req.sock_id;
			rep.status = ctl_mcast(c, &req, (size_t)n);
			break;
		case PN_CTL_CAPTURE:
			rep.status = ctl_capture(c, ci, &c->msg.req, (size_t)n, &fds[0]);
			if (rep.status == 0) {
				rep.region_size = (uint32_t)c->a->cap->geo.size;
				nfds = 1;
			}
			break;
		default:
			rep.status = -EOPNOTSUPP;
		}
	}
	rc = ctl_reply(cl->fd, &rep, fds, nfds);
	if (req.op == PN_CTL_HELLO) {   /* the page and the doorbell stay ours */
		fds[0] = fds[1] = -1;
		nfds = 0;
	}
	for (int i = 0; i < 3; i++)
		if (fds[i] >= 0)
			close(fds[i]);  /* the client has its own copy now */
	if (rc < 0 && nfds > 0 && req.op == PN_CTL_CAPTURE)
		capture_stop(c->a);
	else if (rc < 0 && nfds > 0)
		ctl_sock_close(c, rep.sock_id);
	if (rc < 0 || (rep.status == -EACCES && req.op == PN_CTL_HELLO))
		return -1;
	return 1;
}

void
ctl_poll(struct ctl *c, int timeout_ms)
{
	struct pollfd *pfd = c->pfd;
	int *idx = c->pfd_idx, n = 0, nc, ns, fds[4], nf;

	pfd[n] = (struct pollfd){ .fd = c->lfd, .events = POLLIN };
	idx[n++] = -1;
	for (int i = 0; i < CTL_MAX_CLIENTS; i++) {
		if (c->clients[i].fd < 0)
			continue;
		pfd[n] = (struct pollfd){ .fd = c->clients[i].fd, .events = POLLIN };
		idx[n++] = i;
	}
	nc = n;
	/* a pollnet-run socket lives as long as the client's end of its
	 * receive wake pair, the program's descriptor: when the last
	 * descriptor for it closes (in every process that inherited it),
	 * ours hangs up and the socket goes (a libpollnet socket goes when
	 * it is closed, or with its session) */
	for (uint32_t id = 0; id < c->max; id++) {
		if (c->socks[id].s == NULL || !c->socks[id].preload)
			continue;
		pfd[n] = (struct pollfd){ .fd = c->socks[id].s->efd, .events = 0 };
		idx[n++] = (int)id;
	}
	ns = n;
	/* beside the kernel (xdp:): an lcore's ask for a neighbour, the
	 * kernel's news, which wake us at once (the caller's neigh_poll
	 * reads them) */
	nf = neigh_fds(&c->a->neigh, fds);
	nf += kernel_local_fds(c->a, fds + nf);     /* and the kernel's programs' */
	for (int k = 0; k < nf; k++)
		pfd[n++] = (struct pollfd){ .fd = fds[k], .events = POLLIN };
	if (poll(pfd, (nfds_t)n, timeout_ms) <= 0)
		return;
	for (int k = nc; k < ns; k++)
		if ((pfd[k].revents & (POLLHUP | POLLERR)) && c->socks[idx[k]].s != NULL &&
		    c->socks[idx[k]].s->efd == pfd[k].fd) {
			c->hangups++;
			ctl_sock_close(c, (uint32_t)idx[k]);
		}
	for (int k = 1; k < nc; k++) {
		if (pfd[k].revents == 0)
			continue;
		/* a few requests each, so no client starves the others; a
		 * hang-up reads as end of file and drops the client */
		for (int r = 0; r < 16; r++) {
			int rc = ctl_request(c, idx[k]);

			if (rc < 0)
				ctl_drop_client(c, idx[k]);
			if (rc <= 0)
				break;
		}
	}
	if (pfd[0].revents & POLLIN)
		ctl_accept(c);
}

void
ctl_close(struct ctl *c)
{
	for (int i = 0; i < CTL_MAX_CLIENTS; i++)
		if (c->clients[i].fd >= 0)
			ctl_drop_client(c, i);
	if (c->lfd >= 0) {
		close(c->lfd);
		unlink(c->path);
	}
	free(c->socks);
	free(c->pfd);
	free(c->pfd_idx);
	free(c->groups);
	c->groups = NULL;
	c->socks = NULL;
	c->pfd = NULL;
	c->pfd_idx = NULL;
}
