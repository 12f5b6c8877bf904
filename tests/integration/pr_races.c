/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Threads and fork() against one UDP socket, with the plain socket API: run
 * on the kernel and under pollnet-run, each case prints what happened in
 * lines that start with "= ", which the test compares (the kernel is the
 * oracle).  Cases that need pollnet held still (its TX ring full) ask the
 * test to stop and continue it: they print "STOP" or "CONT" and wait for a
 * line on standard input; "SEND PORT" asks the test to send one datagram
 * from the peer to that port, "FLOOD PORT N" N of them.
 *
 * usage: pr_races CASE PEER_IP ECHO_PORT SINK_PORT
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "pn_wait.h"

static struct sockaddr_in echo_to, sink_to;

static void
die(const char *what)
{
	printf("! %s: %s\n", what, strerror(errno));
	exit(1);
}

static void
ask(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* A request to the test, answered by a line on stdin. */
static void
ask(const char *fmt, ...)
{
	char line[64];
	va_list ap;

	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	fflush(stdout);
	if (fgets(line, sizeof(line), stdin) == NULL)
		exit(1);
}

static int
udp(void)
{
	int s = socket(AF_INET, SOCK_DGRAM, 0);

	if (s < 0)
		die("socket");
	return s;
}

/* A receive that would wait longer than 3 s says so instead (EAGAIN). */
static int
udp_3s(void)
{
	struct timeval tmo = { 3, 0 };
	int s = udp();

	if (setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tmo, sizeof(tmo)) < 0)
		die("SO_RCVTIMEO");
	return s;
}

static uint16_t
bound(int s, const char *ip)
{
	struct sockaddr_in a = { .sin_family = AF_INET };
	socklen_t len = sizeof(a);

	inet_pton(AF_INET, ip, &a.sin_addr);
	if (bind(s, (struct sockaddr *)&a, sizeof(a)) < 0)
		die("bind");
	if (getsockname(s, (struct sockaddr *)&a, &len) < 0)
		die("getsockname");
	return ntohs(a.sin_port);
}

static struct sockaddr_in
to(const char *ip, uint16_t port)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(port) };

	inet_pton(AF_INET, ip, &a.sin_addr);
	return a;
}

/* ---- close() while another thread is blocked receiving ---- */

struct rx_result {
	int fd;
	ssize_t n;
	int err;
	char data[64];
	_Atomic int done;
};

static void *
rx_thread(void *arg)
{
	struct rx_result *r = arg;

	r->n = recv(r->fd, r->data, sizeof(r->data) - 1, 0);
	r->err = r->n < 0 ? errno : 0;
	if (r->n >= 0)
		r->data[r->n] = 0;
	r->done = 1;
	return NULL;
}

/*
 * The kernel keeps a socket that a call is using until the call returns:
 * close() frees the number, not the socket, and does not wake the call.
 * The number is taken by a pipe at once; a datagram to the old port still
 * reaches the blocked receive, and the pipe keeps its bytes.
 */
static void
case_close_blocked(void)
{
	struct rx_result r = { .fd = udp() };
	uint16_t port = bound(r.fd, "0.0.0.0");
	struct sockaddr_in dst = to("127.0.0.1", port);
	int p[2], t = udp();
	char buf[16] = "";
	pthread_t th;

	if (pipe(p) < 0)
		die("pipe");
	pthread_create(&th, NULL, rx_thread, &r);
	nap(200);
	if (close(r.fd) < 0)
		die("close");
	if (dup2(p[0], r.fd) < 0)       /* the number, taken by a pipe */
		die("dup2");
	if (write(p[1], "pipe", 4) != 4)
		die("write");
	nap(100);
	if (sendto(t, "after close", 11, 0, (struct sockaddr *)&dst, sizeof(dst)) < 0)
		die("sendto");
	if (!joined(th, &r.done, 3000)) {
		printf("= the blocked receive: still blocked 3 s after the datagram\n");
		fflush(stdout);
		_exit(0);
	}
	if (r.n >= 0)
		printf("= the blocked receive: got '%s'\n", r.data);
	else
		printf("= the blocked receive: %s\n", strerror(r.err));
	fcntl(r.fd, F_SETFL, O_NONBLOCK);
	printf("= the number's new pipe: read %zd bytes ('%s')\n",
	       read(r.fd, buf, sizeof(buf) - 1), buf);
}

/* ---- fork() ---- */

/* A bind in the child is the parent's too: one socket. */
static void
case_fork_bind(void)
{
	struct sockaddr_in me, from;
	socklen_t len = sizeof(me);
	int s = udp_3s(), p[2], st;
	uint16_t child = 0;
	char buf[32];
	ssize_t n;
	pid_t pid;

	if (pipe(p) < 0)
		die("pipe");
	fflush(stdout);                 /* not the child's to print */
	pid = fork();
	if (pid == 0) {
		child = bound(s, "0.0.0.0");
		_exit(write(p[1], &child, sizeof(child)) == sizeof(child) ? 0 : 1);
	}
	if (read(p[0], &child, sizeof(child)) != sizeof(child))
		die("read");
	waitpid(pid, &st, 0);
	getsockname(s, (struct sockaddr *)&me, &len);
	printf("= after the child's bind, the parent's name is %s\n",
	       ntohs(me.sin_port) == child && child != 0 ? "the child's port" : "another");
	sendto(s, "fork-bind", 9, 0, (struct sockaddr *)&echo_to, sizeof(echo_to));
	len = sizeof(from);
	n = recvfrom(s, buf, sizeof(buf), 0, (struct sockaddr *)&from, &len);
	printf("= the parent's datagram went out from that port and came back: %s\n",
	       n == 9 && from.sin_port == echo_to.sin_port ? "yes" : n < 0 ? strerror(errno) : "no");
	getsockname(s, (struct sockaddr *)&me, &len);
	printf("= and the parent's name is still the child's port: %s\n",
	       ntohs(me.sin_port) == child ? "yes" : "no");
}

/* A connect in the child is the parent's too. */
static void
case_fork_connect(void)
{
	struct sockaddr_in peer;
	socklen_t len = sizeof(peer);
	int s = udp_3s(), st;
	char buf[32];
	ssize_t n;
	pid_t pid;

	fflush(stdout);                 /* not the child's to print */
	pid = fork();
	if (pid == 0)
		_exit(connect(s, (struct sockaddr *)&echo_to, sizeof(echo_to)) == 0 ? 0 : 1);
	waitpid(pid, &st, 0);
	printf("= the child's connect: %s\n", WIFEXITED(st) && WEXITSTATUS(st) == 0 ?
	       "done" : "failed");
	if (getpeername(s, (struct sockaddr *)&peer, &len) < 0)
		printf("= the parent's getpeername: %s\n", strerror(errno));
	else
		printf("= the parent's getpeername: the echo server: %s\n",
		       peer.sin_port == echo_to.sin_port &&
		       peer.sin_addr.s_addr == echo_to.sin_addr.s_addr ? "yes" : "no");
	n = send(s, "fork-connect", 12, 0);
	if (n < 0) {
		printf("= the parent's send() with no address: %s\n", strerror(errno));
		return;
	}
	n = recv(s, buf, sizeof(buf), 0);
	printf("= the parent's send() with no address, echoed: %s\n",
	       n == 12 ? "yes" : n < 0 ? strerror(errno) : "no");
	/* and a disconnect in a child is the parent's too */
	fflush(stdout);                 /* not the child's to print */
	pid = fork();
	if (pid == 0) {
		struct sockaddr un = { .sa_family = AF_UNSPEC };

		_exit(connect(s, &un, sizeof(un)) == 0 ? 0 : 1);
	}
	waitpid(pid, &st, 0);
	len = sizeof(peer);
	printf("= after the child's disconnect, the parent's getpeername: %s\n",
	       getpeername(s, (struct sockaddr *)&peer, &len) < 0 ? strerror(errno) : "connected");
}

/* ---- wake-ups: one receiving thread and one sending thread ---- */

struct tx_job {
	int fd;
	ssize_t n;
	_Atomic int done;
};

static void *
tx_thread(void *arg)
{
	struct tx_job *j = arg;

	j->n = sendto(j->fd, "t", 1, 0, (struct sockaddr *)&sink_to, sizeof(sink_to));
	j->done = 1;
	return NULL;
}

/* Fill s's send queue while pollnet is held still: how many it took. */
static int
fill(int s)
{
	int n = 0;

	while (sendto(s, "f", 1, MSG_DONTWAIT, (struct sockaddr *)&sink_to,
		      sizeof(sink_to)) == 1)
		n++;
	return n;
}

/*
 * A thread blocked receiving and a thread blocked sending on one socket:
 * each returns when what it waits for comes, whatever the other does.
 * pollnet only (a kernel's UDP send queue does not stay full).
 */
static void
case_wake_rx_tx(void)
{
	struct rx_result r = { .fd = udp() };
	struct tx_job j = { .fd = r.fd };
	uint16_t port = bound(r.fd, "0.0.0.0");
	pthread_t rt, tt;
	int filled, sent;

	pthread_create(&rt, NULL, rx_thread, &r);
	nap(100);
	ask("STOP");
	filled = fill(r.fd);
	pthread_create(&tt, NULL, tx_thread, &j);
	nap(300);                       /* both asleep */
	ask("CONT");
	sent = joined(tt, &j.done, 2000);
	printf("= the blocked send returned once pollnet took the queue: %s\n",
	       sent ? "yes" : "no");
	ask("SEND %u", port);
	printf("= the blocked receive returned when the datagram came: %s\n",
	       joined(rt, &r.done, 2000) ? "yes" : "no");
	printf("# %d datagrams filled the queue\n", filled);
	fflush(stdout);
	_exit(0);
}

/*
 * Waiting for room to send, with a datagram unread: poll and epoll sleep,
 * they do not spin.  pollnet only (its TX ring full).
 */
static void
case_pollout_idle(void)
{
	int s = udp(), ep = epoll_create1(0), rc;
	uint16_t port = bound(s, "0.0.0.0");
	struct pollfd p = { .fd = s, .events = POLLIN };
	struct epoll_event ev = { .events = EPOLLOUT };
	double c0;

	/* a datagram that comes while poll sleeps, left unread */
	printf("SEND %u\n", port);
	fflush(stdout);
	rc = poll(&p, 1, 3000);
	printf("= poll(POLLIN) saw the datagram: %s\n", rc == 1 ? "yes" : "no");
	{
		char line[16];

		if (fgets(line, sizeof(line), stdin) == NULL)
			exit(1);
	}
	ask("STOP");
	printf("# %d datagrams filled the queue\n", fill(s));
	p.events = POLLOUT;
	c0 = cpu_ms(CLOCK_THREAD_CPUTIME_ID);
	rc = poll(&p, 1, 500);
	printf("= poll(POLLOUT) on a full queue timed out: %s\n", rc == 0 ? "yes" : "no");
	printf("# poll: %d, revents %#x (%s)\n", rc, p.revents, rc < 0 ? strerror(errno) : "");
	printf("= ... and slept, using under 100 ms of CPU in 500: %s\n",
	       cpu_ms(CLOCK_THREAD_CPUTIME_ID) - c0 < 100 ? "yes" : "no");
	printf("# %.0f ms of CPU\n", cpu_ms(CLOCK_THREAD_CPUTIME_ID) - c0);
	epoll_ctl(ep, EPOLL_CTL_ADD, s, &ev);
	c0 = cpu_ms(CLOCK_THREAD_CPUTIME_ID);
	rc = epoll_wait(ep, &ev, 1, 500);
	printf("= epoll_wait(EPOLLOUT) on a full queue timed out: %s\n", rc == 0 ? "yes" : "no");
	printf("# epoll_wait: %d, events %#x (%s)\n", rc, rc > 0 ? ev.events : 0,
	       rc < 0 ? strerror(errno) : "");
	printf("= ... and slept, using under 100 ms of CPU in 500: %s\n",
	       cpu_ms(CLOCK_THREAD_CPUTIME_ID) - c0 < 100 ? "yes" : "no");
	printf("# %.0f ms of CPU\n", cpu_ms(CLOCK_THREAD_CPUTIME_ID) - c0);
	ask("CONT");
	p.events = POLLOUT;
	printf("= with pollnet back, poll(POLLOUT): %s\n",
	       poll(&p, 1, 2000) == 1 ? "writable" : "not writable");
}

/* ---- a socket bound to 127.0.0.1, read by two threads that peek ---- */

#define LOOPBACK_N 3000

struct peeker {
	int fd;
	_Atomic int got;                /* loopback datagrams */
	_Atomic int other;              /* anything else (must be 0) */
	char *seen;
	pthread_mutex_t *lock;
	_Atomic int *done;
};

static void *
peek_thread(void *arg)
{
	struct peeker *pk = arg;
	char a[32], b[32];

	while (!*pk->done) {
		ssize_t n = recv(pk->fd, a, sizeof(a) - 1, MSG_PEEK);
		int k;

		if (n < 0)
			continue;               /* the timeout: look at done */
		n = recv(pk->fd, b, sizeof(b) - 1, MSG_DONTWAIT);
		if (n < 0)
			continue;               /* the other thread took it */
		b[n] = 0;
		if (sscanf(b, "L%d", &k) == 1 && k >= 0 && k < LOOPBACK_N) {
			pthread_mutex_lock(pk->lock);
			pk->seen[k]++;
			pthread_mutex_unlock(pk->lock);
			pk->got++;
		} else {
			pk->other++;
		}
	}
	return NULL;
}

/*
 * A socket bound to 127.0.0.1 gets only loopback datagrams, never one sent
 * to the host's address from the wire; two threads that peek before they
 * read get every loopback datagram once.
 */
static void
case_loopback_peek(void)
{
	pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
	struct timeval tmo = { 0, 100000 };
	_Atomic int done = 0;
	char seen[LOOPBACK_N] = { 0 };
	int s = udp(), t = udp(), lost = 0, twice = 0, rcv = 1 << 20;
	uint16_t port;
	struct sockaddr_in dst;
	struct peeker pk[2];
	pthread_t th[2];
	uint64_t t0;

	setsockopt(s, SOL_SOCKET, SO_RCVBUF, &rcv, sizeof(rcv));
	setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tmo, sizeof(tmo));
	port = bound(s, "127.0.0.1");
	dst = to("127.0.0.1", port);
	for (int i = 0; i < 2; i++) {
		pk[i] = (struct peeker){ .fd = s, .seen = seen, .lock = &lock, .done = &done };
		pthread_create(&th[i], NULL, peek_thread, &pk[i]);
	}
	ask("FLOOD %u %d", port, 2 * LOOPBACK_N);
	for (int i = 0; i < LOOPBACK_N; i++) {
		char m[16];
		int n = snprintf(m, sizeof(m), "L%d", i);

		while (sendto(t, m, (size_t)n, 0, (struct sockaddr *)&dst, sizeof(dst)) < 0)
			nap(1);
		if (i % 32 == 31)
			nap(1);                 /* the readers keep up */
	}
	t0 = now_ms();
	while (pk[0].got + pk[1].got < LOOPBACK_N && now_ms() - t0 < 3000)
		nap(10);
	nap(200);
	done = 1;
	for (int i = 0; i < 2; i++)
		pthread_join(th[i], NULL);
	for (int i = 0; i < LOOPBACK_N; i++) {
		lost += seen[i] == 0;
		twice += seen[i] > 1;
	}
	printf("= loopback datagrams lost: %d, read twice: %d, others read: %d\n", lost, twice,
	       pk[0].other + pk[1].other);
}

/* ---- SO_RCVBUF while another thread polls ---- */

static _Atomic int polling;

static void *
poll_thread(void *arg)
{
	struct pollfd p = { .fd = *(int *)arg, .events = POLLIN };

	while (polling)
		poll(&p, 1, 0);
	return NULL;
}

/* Resizing the receive buffer of a socket another thread polls. */
static void
case_resize_polled(void)
{
	int s = udp();
	pthread_t th;

	polling = 1;
	pthread_create(&th, NULL, poll_thread, &s);
	for (int i = 0; i < 300; i++) {
		int v = (i & 1) ? 65536 : 262144;

		if (setsockopt(s, SOL_SOCKET, SO_RCVBUF, &v, sizeof(v)) < 0)
			die("setsockopt");
	}
	polling = 0;
	pthread_join(th, NULL);
	printf("= SO_RCVBUF 300 times while another thread polled: survived\n");
	{
		struct timeval tmo = { 3, 0 };

		setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tmo, sizeof(tmo));
	}
	printf("= and the socket still works: %s\n",
	       sendto(s, "x", 1, 0, (struct sockaddr *)&echo_to, sizeof(echo_to)) == 1 &&
	       recv(s, (char[8]){ 0 }, 8, 0) == 1 ? "yes" : "no");
}

/* ---- ioctls with no argument ---- */

static void
case_ioctl_cloexec(void)
{
	int s = udp(), rc;

	rc = ioctl(s, FIOCLEX);
	printf("= ioctl(FIOCLEX): %s, close-on-exec %d\n", rc == 0 ? "0" : strerror(errno),
	       (fcntl(s, F_GETFD) & FD_CLOEXEC) != 0);
	rc = ioctl(s, FIONCLEX);
	printf("= ioctl(FIONCLEX): %s, close-on-exec %d\n", rc == 0 ? "0" : strerror(errno),
	       (fcntl(s, F_GETFD) & FD_CLOEXEC) != 0);
}

int
main(int argc, char **argv)
{
	static const struct {
		const char *name;
		void (*fn)(void);
	} cases[] = {
		{ "close-blocked", case_close_blocked },
		{ "fork-bind", case_fork_bind },
		{ "fork-connect", case_fork_connect },
		{ "wake-rx-tx", case_wake_rx_tx },
		{ "pollout-idle", case_pollout_idle },
		{ "loopback-peek", case_loopback_peek },
		{ "resize-polled", case_resize_polled },
		{ "ioctl-cloexec", case_ioctl_cloexec },
	};

	if (argc != 5) {
		fprintf(stderr, "usage: pr_races CASE PEER_IP ECHO_PORT SINK_PORT\n");
		return 2;
	}
	signal(SIGPIPE, SIG_IGN);
	echo_to = to(argv[2], (uint16_t)atoi(argv[3]));
	sink_to = to(argv[2], (uint16_t)atoi(argv[4]));
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		if (strcmp(argv[1], cases[i].name) == 0) {
			cases[i].fn();
			fflush(stdout);
			return 0;
		}
	fprintf(stderr, "pr_races: no case %s\n", argv[1]);
	return 2;
}
