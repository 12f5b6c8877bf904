/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * pollnet-run: the C library's functions (libc.h: every call of ours goes
 * through them), the library's start, syscall(2), and name lookups.
 */
#define _GNU_SOURCE
#undef _FILE_OFFSET_BITS        /* fcntl, not fcntl64: preload_sock.c */
#include <dlfcn.h>
#include <fcntl.h>
#include <ifaddrs.h>
#include <netdb.h>
#include <nss.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "preload.h"

/* ---- the C library's functions ---- */

struct pn_libc pn_libc;

/* The definitions after ours: libc's (or another preloaded library's).
 * Filled at start, and on a call that comes before (another library's
 * constructor may make one). */
struct pn_libc *
pn_libc_load(void)
{
#define RESOLVE(ret, name, args) \
	if (pn_libc.name == NULL) \
		pn_libc.name = (ret (*) args)dlsym(RTLD_NEXT, #name);
	PN_LIBC_CORE(RESOLVE)
	PN_LIBC_PRELOAD(RESOLVE)
#undef RESOLVE
	return &pn_libc;
}

/* Name lookups: glibc's DNS module drives its socket through libc's
 * internal calls, out of our reach.  libnss_pollnet (next to this library)
 * does the same with the calls we stand in for; it takes "dns"'s place on
 * the hosts line of nsswitch.conf, for this process only.
 * POLLNET_PRELOAD_DNS=0 leaves the lookups to glibc (and the kernel). */
static void
dns_setup(void)
{
	const char *off = getenv("POLLNET_PRELOAD_DNS");
	char path[4096], line[1024], out[1024], *slash;
	size_t n = 0;
	int changed = 0;
	Dl_info di;
	FILE *f;

	if (off != NULL && strcmp(off, "0") == 0)
		return;
	if (dladdr((void *)dns_setup, &di) == 0 || di.dli_fname == NULL ||
	    strlen(di.dli_fname) >= sizeof(path) - 32)
		return;
	strcpy(path, di.dli_fname);
	slash = strrchr(path, '/');
	strcpy(slash != NULL ? slash + 1 : path, "libnss_pollnet.so.2");
	/* loaded by its path, glibc finds it again by its soname */
	if (dlopen(path, RTLD_NOW | RTLD_NODELETE) == NULL) {
		DEBUG("name lookups stay glibc's: %s", dlerror());
		return;
	}
	f = fopen("/etc/nsswitch.conf", "re");
	while (f != NULL && fgets(line, sizeof(line), f) != NULL) {
		char *save = NULL, *w = strtok_r(line, " \t\r\n", &save);

		if (w == NULL || strcmp(w, "hosts:") != 0)
			continue;
		while ((w = strtok_r(NULL, " \t\r\n", &save)) != NULL && n + strlen(w) + 9 < sizeof(out)) {
			if (strcmp(w, "dns") == 0) {
				w = "pollnet";
				changed = 1;
			}
			n += (size_t)sprintf(out + n, "%s%s", n ? " " : "", w);
		}
		break;
	}
	if (f != NULL)
		fclose(f);
	if (f == NULL || n == 0) {      /* glibc's default line */
		strcpy(out, "files pollnet");
		changed = 1;
	}
	if (changed && __nss_configure_lookup("hosts", out) == 0)
		DEBUG("hosts: %s", out);
}

__attribute__((constructor)) static void
preload_init(void)
{
	const char *d = getenv("POLLNET_PRELOAD_DEBUG");

	pn_libc_load();
	g_spin_most = pn_wait_most(PRELOAD_SPIN_US);
	g_debug = d != NULL && *d != '\0' && strcmp(d, "0") != 0;
	pthread_atfork(fork_prepare, fork_parent, fork_child);
	dns_setup();
}

/* ---- getaddrinfo(3): AI_ADDRCONFIG ----
 *
 * AI_ADDRCONFIG asks for IPv4 addresses only if the host has an IPv4
 * address, and glibc asks the kernel.  Under pollnet-run, this process has
 * one, pollnet's, even where the kernel has none (in the guest, pollnet owns
 * the only NIC); IPv6 is still the kernel's. */
static int
kernel_has_ipv6(void)
{
	struct ifaddrs *ifa, *i;
	int found = 0;

	if (getifaddrs(&ifa) < 0)
		return 1;               /* cannot tell: let glibc decide */
	for (i = ifa; i != NULL && !found; i = i->ifa_next) {
		const struct sockaddr_in6 *a = (const struct sockaddr_in6 *)i->ifa_addr;

		found = a != NULL && a->sin6_family == AF_INET6 &&
			!IN6_IS_ADDR_LOOPBACK(&a->sin6_addr) && !IN6_IS_ADDR_LINKLOCAL(&a->sin6_addr);
	}
	freeifaddrs(ifa);
	return found;
}

EXPORT int
getaddrinfo(const char *node, const char *service, const struct addrinfo *hints,
	    struct addrinfo **res)
{
	struct addrinfo h;

	if (hints == NULL || !(hints->ai_flags & AI_ADDRCONFIG) ||
	    (hints->ai_family != AF_INET && hints->ai_family != AF_UNSPEC))
		return LIBC(getaddrinfo)(node, service, hints, res);
	h = *hints;
	h.ai_flags &= ~AI_ADDRCONFIG;
	if (h.ai_family == AF_UNSPEC && !kernel_has_ipv6())
		h.ai_family = AF_INET;
	return LIBC(getaddrinfo)(node, service, &h, res);
}

/* ---- syscall(2) ----
 *
 * Some libraries make the calls above through syscall() rather than libc's
 * wrappers (libuv: close, so as not to be a cancellation point; sendmmsg and
 * recvmmsg, for old libcs), which would reach the kernel with our
 * descriptors behind our back.  They go where the wrappers go. */
EXPORT long
syscall(long nr, ...)
{
	long a[6];
	va_list ap;

	va_start(ap, nr);
	for (int i = 0; i < 6; i++)
		a[i] = va_arg(ap, long);        /* as libc's syscall() reads them */
	va_end(ap);
#define I(k) ((int)a[k])
#define P(k, T) ((T)(uintptr_t)a[k])
	switch (nr) {
	case SYS_socket: return socket(I(0), I(1), I(2));
	case SYS_close: return close(I(0));
	case SYS_bind: return bind(I(0), P(1, const struct sockaddr *), (socklen_t)a[2]);
	case SYS_connect: return connect(I(0), P(1, const struct sockaddr *), (socklen_t)a[2]);
	case SYS_getsockname: return getsockname(I(0), P(1, struct sockaddr *), P(2, socklen_t *));
	case SYS_getpeername: return getpeername(I(0), P(1, struct sockaddr *), P(2, socklen_t *));
	case SYS_setsockopt:
		return setsockopt(I(0), I(1), I(2), P(3, const void *), (socklen_t)a[4]);
	case SYS_getsockopt:
		return getsockopt(I(0), I(1), I(2), P(3, void *), P(4, socklen_t *));
	case SYS_shutdown: return shutdown(I(0), I(1));
	case SYS_fcntl: return fcntl(I(0), I(1), a[2]);
	case SYS_ioctl: return ioctl(I(0), (unsigned long)a[1], a[2]);
	case SYS_sendto:
		return sendto(I(0), P(1, const void *), (size_t)a[2], I(3),
			      P(4, const struct sockaddr *), (socklen_t)a[5]);
	case SYS_recvfrom:
		return recvfrom(I(0), P(1, void *), (size_t)a[2], I(3), P(4, struct sockaddr *),
				P(5, socklen_t *));
	case SYS_sendmsg: return sendmsg(I(0), P(1, const struct msghdr *), I(2));
	case SYS_recvmsg: return recvmsg(I(0), P(1, struct msghdr *), I(2));
	case SYS_sendmmsg: return sendmmsg(I(0), P(1, struct mmsghdr *), (unsigned)a[2], I(3));
	case SYS_recvmmsg:
		return recvmmsg(I(0), P(1, struct mmsghdr *), (unsigned)a[2], I(3),
				P(4, struct timespec *));
	case SYS_read: return read(I(0), P(1, void *), (size_t)a[2]);
	case SYS_write: return write(I(0), P(1, const void *), (size_t)a[2]);
	case SYS_readv: return readv(I(0), P(1, const struct iovec *), I(2));
	case SYS_writev: return writev(I(0), P(1, const struct iovec *), I(2));
	case SYS_dup: return dup(I(0));
	case SYS_dup2: return dup2(I(0), I(1));
	case SYS_dup3: return dup3(I(0), I(1), I(2));
	case SYS_close_range: return close_range((unsigned)a[0], (unsigned)a[1], I(2));
	case SYS_poll: return poll(P(0, struct pollfd *), (nfds_t)a[1], I(2));
	case SYS_epoll_ctl: return epoll_ctl(I(0), I(1), I(2), P(3, struct epoll_event *));
	case SYS_epoll_wait: return epoll_wait(I(0), P(1, struct epoll_event *), I(2), I(3));
	case SYS_epoll_pwait:
		return epoll_pwait(I(0), P(1, struct epoll_event *), I(2), I(3),
				   P(4, const sigset_t *));
	}
#undef I
#undef P
	return LIBC(syscall)(nr, a[0], a[1], a[2], a[3], a[4], a[5]);
}
