/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The C library's own functions, for every call that libpollnet and
 * pollnet-run make on their own behalf.
 *
 * Under pollnet-run (LD_PRELOAD) the program's calls to socket, close,
 * send, poll... come to libpollnet-preload.so; the calls libpollnet makes
 * for itself (its control connection, its wake-ups) must not, or they
 * would be taken for the program's.  So neither library calls those names
 * directly: every such call goes through this table.  libpollnet.so fills
 * it with libc's functions (libc_direct.c); libpollnet-preload.so with the
 * next definitions after its own, dlsym(RTLD_NEXT), on first use
 * (preload_libc.c).  VPP's ldp (libc_*) and libvma (orig_os_api) do the
 * same.
 */
#ifndef POLLNET_LIBC_H
#define POLLNET_LIBC_H

#include <poll.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <time.h>

/* What libpollnet itself calls. */
#define PN_LIBC_CORE(X) \
	X(int, socket, (int, int, int)) \
	X(int, connect, (int, const struct sockaddr *, socklen_t)) \
	X(int, close, (int)) \
	X(ssize_t, send, (int, const void *, size_t, int)) \
	X(ssize_t, recv, (int, void *, size_t, int)) \
	X(ssize_t, recvmsg, (int, struct msghdr *, int)) \
	X(int, poll, (struct pollfd *, nfds_t, int)) \
	X(ssize_t, read, (int, void *, size_t)) \
	X(ssize_t, write, (int, const void *, size_t))

/* What pollnet-run stands in for besides (its own calls to them, and the
 * program's calls it passes on, go here too). */
#define PN_LIBC_PRELOAD(X) \
	X(int, bind, (int, const struct sockaddr *, socklen_t)) \
	X(int, listen, (int, int)) \
	X(int, accept, (int, struct sockaddr *, socklen_t *)) \
	X(int, accept4, (int, struct sockaddr *, socklen_t *, int)) \
	X(int, shutdown, (int, int)) \
	X(int, getsockname, (int, struct sockaddr *, socklen_t *)) \
	X(int, getpeername, (int, struct sockaddr *, socklen_t *)) \
	X(int, setsockopt, (int, int, int, const void *, socklen_t)) \
	X(int, getsockopt, (int, int, int, void *, socklen_t *)) \
	X(int, fcntl, (int, int, ...)) \
	X(int, ioctl, (int, unsigned long, ...)) \
	X(ssize_t, sendto, (int, const void *, size_t, int, const struct sockaddr *, socklen_t)) \
	X(ssize_t, sendmsg, (int, const struct msghdr *, int)) \
	X(int, sendmmsg, (int, struct mmsghdr *, unsigned int, int)) \
	X(ssize_t, writev, (int, const struct iovec *, int)) \
	X(ssize_t, recvfrom, (int, void *, size_t, int, struct sockaddr *, socklen_t *)) \
	X(int, recvmmsg, (int, struct mmsghdr *, unsigned int, int, struct timespec *)) \
	X(ssize_t, readv, (int, const struct iovec *, int)) \
	X(ssize_t, __recv_chk, (int, void *, size_t, size_t, int)) \
	X(ssize_t, __recvfrom_chk, (int, void *, size_t, size_t, int, struct sockaddr *, socklen_t *)) \
	X(ssize_t, __read_chk, (int, void *, size_t, size_t)) \
	X(int, ppoll, (struct pollfd *, nfds_t, const struct timespec *, const sigset_t *)) \
	X(int, select, (int, fd_set *, fd_set *, fd_set *, struct timeval *)) \
	X(int, pselect, (int, fd_set *, fd_set *, fd_set *, const struct timespec *, const sigset_t *)) \
	X(int, epoll_ctl, (int, int, int, struct epoll_event *)) \
	X(int, epoll_wait, (int, struct epoll_event *, int, int)) \
	X(int, epoll_pwait, (int, struct epoll_event *, int, int, const sigset_t *)) \
	X(int, dup, (int)) \
	X(int, dup2, (int, int)) \
	X(int, dup3, (int, int, int)) \
	X(int, close_range, (unsigned int, unsigned int, int)) \
	X(void, closefrom, (int)) \
	X(long, syscall, (long, ...)) \
	X(int, getaddrinfo, (const char *, const char *, const struct addrinfo *, struct addrinfo **))

struct addrinfo;

struct pn_libc {
#define PN_LIBC_SLOT(ret, name, args) ret (*name) args;
	PN_LIBC_CORE(PN_LIBC_SLOT)
	PN_LIBC_PRELOAD(PN_LIBC_SLOT)
#undef PN_LIBC_SLOT
};

extern struct pn_libc pn_libc;

/* Fill the table (once; every later call returns it as it is). */
struct pn_libc *pn_libc_load(void);

/* The C library's function `name`: LIBC(close)(fd). */
#define LIBC(name) (pn_libc.name != NULL ? pn_libc.name : pn_libc_load()->name)

#endif
