/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Datagrams between two processes: over libpollnet (pollnet's local
 * delivery) or over Linux UDP sockets on loopback.  One binary, one side per
 * process; bench/shm_sockets.py runs the pairs side by side.
 *
 *   shm_bench server  pollnet CTL PORT | kernel PORT | kernel-mmsg PORT
 *   shm_bench rtt     pollnet CTL IP PORT N SIZE | kernel IP PORT N SIZE
 *                     (against any UDP echo server: bench/run.sh servers)
 *   shm_bench stream  pollnet CTL IP PORT N SIZE | kernel IP PORT N SIZE |
 *                     kernel-mmsg IP PORT N SIZE
 *
 * A server echoes every ping.  In stream mode the client sends N datagrams
 * in windows of WINDOW: the server acknowledges the last of each window and
 * the client waits for that before sending the next, the same flow control
 * for every transport, so none of them loses datagrams to a receiver that
 * is not scheduled; the server prints how many it got and over how long.
 * Output: one JSON object on stdout.
 *
 * The kernel's side of bench/run.sh servers (its libpollnet side is
 * pollnet-echo):
 *   shm_bench echo kernel-mmsg PORT
 *       a UDP echo server on every address: recvmmsg, then sendmmsg, 32 at
 *       a time; prints what it received and echoed when SIGINT/SIGTERM
 *       stop it
 *
 * For the guest's NIC benchmark (bench/guest_pmd.sh), two more:
 *   shm_bench blast pollnet CTL IP PORT N SIZE | kernel IP PORT N SIZE
 *       send N datagrams as fast as the transport takes them (the kernel:
 *       sendmmsg, 32 at a time); no replies
 *   shm_bench sink pollnet CTL PORT SECONDS | kernel PORT SECONDS
 *       count datagrams until a second of silence (or SECONDS), timed from
 *       the first to the last; kernel sockets bind every address here
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "pollnet.h"

#define BATCH 32
#define WINDOW 128                      /* datagrams per acknowledged window */
#define LAST 0xff                       /* first byte of the final datagram */
#define WEND 'w'                        /* ... of the last of a window */

static uint64_t
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* A transport: pollnet or a kernel socket, the same four operations. */
struct xport {
	int kernel, mmsg;
	int fd;
	struct pollnet *pn;
	struct pollnet_socket *s;
};

static void
die(const char *what, int err)
{
	fprintf(stderr, "shm_bench: %s: %s\n", what, err < 0 ? pollnet_strerror(err) : strerror(errno));
	exit(1);
}

static void
xopen(struct xport *x, char ***argv)
{
	const char *kind = *(*argv)++;

	memset(x, 0, sizeof(*x));
	x->kernel = strncmp(kind, "kernel", 6) == 0;
	x->mmsg = strcmp(kind, "kernel-mmsg") == 0;
	if (x->kernel) {
		int big = 8 << 20;

		x->fd = socket(AF_INET, SOCK_DGRAM, 0);
		if (x->fd < 0)
			die("socket", 0);
		/* room for a whole stream: the kernel's drops, if any, are its own */
		setsockopt(x->fd, SOL_SOCKET, SO_RCVBUF, &big, sizeof(big));
		setsockopt(x->fd, SOL_SOCKET, SO_SNDBUF, &big, sizeof(big));
	} else {
		int rc = pollnet_open(&x->pn, *(*argv)++);

		if (rc == 0)
			rc = pollnet_socket(x->pn, &x->s);
		if (rc < 0)
			die("pollnet", rc);
	}
}

static int bind_any;             /* kernel sockets: every address, not loopback */

static void
xbind(struct xport *x, uint16_t port)
{
	if (x->kernel) {
		struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(port),
					 .sin_addr.s_addr = htonl(bind_any ? INADDR_ANY : INADDR_LOOPBACK) };

		if (bind(x->fd, (struct sockaddr *)&a, sizeof(a)) < 0)
			die("bind", 0);
	} else {
		int rc = pollnet_bind(x->s, port);

		if (rc < 0)
			die("bind", rc);
	}
}

static ssize_t
xsend(struct xport *x, const void *buf, size_t len, const struct sockaddr_in *to)
{
	if (x->kernel)
		return sendto(x->fd, buf, len, 0, (const struct sockaddr *)to, sizeof(*to));
	return pollnet_sendto(x->s, buf, len, to);
}

static ssize_t
xrecv(struct xport *x, void *buf, size_t len, struct sockaddr_in *from)
{
	socklen_t fl = sizeof(*from);

	if (x->kernel)
		return recvfrom(x->fd, buf, len, 0, (struct sockaddr *)from, &fl);
	return pollnet_recvfrom(x->s, buf, len, from, NULL);
}

/* recvmmsg's vectors: BATCH buffers (each UDP's longest datagram: the
 * echo sends back what it took, whole) and their senders' addresses. */
#define MMSG_BUF 65536
static void
mmsg_setup(struct mmsghdr *mm, struct iovec *iov, char (*bufs)[MMSG_BUF], struct sockaddr_in *addrs)
{
	for (int i = 0; i < BATCH; i++) {
		iov[i] = (struct iovec){ bufs[i], sizeof(bufs[i]) };
		mm[i].msg_hdr = (struct msghdr){ .msg_name = &addrs[i],
			.msg_namelen = sizeof(addrs[i]), .msg_iov = &iov[i], .msg_iovlen = 1 };
	}
}

static int
server(char **argv)
{
	struct xport x;
	char buf[2048];
	struct sockaddr_in from;
	uint64_t got = 0, t0 = 0;
	xopen(&x, &argv);
	xbind(&x, (uint16_t)atoi(argv[0]));
	printf("ready\n");
	fflush(stdout);
	for (;;) {
		ssize_t n;

		if (x.mmsg) {
			struct mmsghdr mm[BATCH];
			struct iovec iov[BATCH];
			static char bufs[BATCH][MMSG_BUF];
			struct sockaddr_in addrs[BATCH];

			mmsg_setup(mm, iov, bufs, addrs);
			int k = recvmmsg(x.fd, mm, BATCH, MSG_WAITFORONE, NULL);

			if (k <= 0)
				continue;
			if (got == 0)
				t0 = now_ns();
			got += (uint64_t)k;
			for (int i = 0; i < k; i++) {
				if (bufs[i][0] == WEND)
					sendto(x.fd, bufs[i], 1, 0, (struct sockaddr *)&addrs[i],
					       sizeof(addrs[i]));
				if ((uint8_t)bufs[i][0] == LAST) {
					printf("{\"received\": %llu, \"ns\": %llu}\n", (unsigned long long)got,
					       (unsigned long long)(now_ns() - t0));
					fflush(stdout);
					sendto(x.fd, bufs[i], mm[i].msg_len, 0,
					       (struct sockaddr *)&addrs[i], sizeof(addrs[i]));
					got = 0;
				}
			}
			continue;
		}
		n = xrecv(&x, buf, sizeof(buf), &from);
		if (n < 0)
			continue;
		if (got == 0)
			t0 = now_ns();
		got++;
		if (n > 0 && (uint8_t)buf[0] == LAST) {
			printf("{\"received\": %llu, \"ns\": %llu}\n", (unsigned long long)got,
			       (unsigned long long)(now_ns() - t0));
			fflush(stdout);
			got = 0;
			xsend(&x, buf, (size_t)n, &from);
		} else if (n > 0 && buf[0] == WEND) {
			xsend(&x, buf, 1, &from);
		} else if (n > 0 && buf[0] == 'p') {
			got = 0;        /* a ping: echo, not counted */
			xsend(&x, buf, (size_t)n, &from);
		}
	}
	return 0;
}

static volatile sig_atomic_t echo_stop;

static void
echo_signal(int sig)
{
	(void)sig;
	echo_stop = 1;
}

static int
echo(char **argv)
{
	struct xport x;
	struct mmsghdr mm[BATCH], out[BATCH];
	struct iovec iov[BATCH];
	static char bufs[BATCH][MMSG_BUF];
	struct sockaddr_in addrs[BATCH];
	struct sigaction sa = { .sa_handler = echo_signal };   /* no SA_RESTART */
	uint64_t got = 0, sent = 0;

	if (strcmp(argv[0], "kernel-mmsg") != 0) {
		fprintf(stderr, "shm_bench: echo: only kernel-mmsg\n");
		return 2;
	}
	bind_any = 1;
	xopen(&x, &argv);
	xbind(&x, (uint16_t)atoi(argv[0]));
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	printf("ready\n");
	fflush(stdout);
	while (!echo_stop) {
		mmsg_setup(mm, iov, bufs, addrs);
		int k = recvmmsg(x.fd, mm, BATCH, MSG_WAITFORONE, NULL);

		if (k <= 0)
			continue;
		got += (uint64_t)k;
		for (int i = 0; i < k; i++) {
			out[i] = mm[i];
			iov[i].iov_len = mm[i].msg_len;
		}
		for (int done = 0; done < k;) {
			int r = sendmmsg(x.fd, out + done, (unsigned)(k - done), 0);

			if (r <= 0)
				break;          /* the kernel refused: not echoed */
			done += r;
			sent += (uint64_t)r;
		}
	}
	printf("{\"received\": %llu, \"echoed\": %llu}\n", (unsigned long long)got,
	       (unsigned long long)sent);
	return 0;
}

/* A client's first arguments: IP PORT N SIZE, checked. */
static void
client_args(char **argv, struct sockaddr_in *to, long *n, long *size)
{
	memset(to, 0, sizeof(*to));
	to->sin_family = AF_INET;
	if (inet_pton(AF_INET, argv[0], &to->sin_addr) != 1) {
		fprintf(stderr, "shm_bench: '%s' is not an IPv4 address\n", argv[0]);
		exit(2);
	}
	to->sin_port = htons((uint16_t)atoi(argv[1]));
	*n = atol(argv[2]);
	*size = atol(argv[3]);
	if (*n <= 0 || *size < 1 || *size > POLLNET_MAX_FRAME_DATAGRAM) {
		fprintf(stderr, "shm_bench: bad N or SIZE (1..%d)\n", POLLNET_MAX_FRAME_DATAGRAM);
		exit(2);
	}
}

static int
cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static int
client(int stream, char **argv)
{
	struct xport x;
	struct sockaddr_in to, from;
	char buf[2048];
	long n, size;

	xopen(&x, &argv);
	client_args(argv, &to, &n, &size);
	/* a kernel socket to another host binds every address, not loopback */
	bind_any = (ntohl(to.sin_addr.s_addr) >> 24) != 127;
	xbind(&x, 0);
	memset(buf, 'd', sizeof(buf));
	if (!stream) {
		uint64_t *rtt = calloc((size_t)n, sizeof(*rtt));

		buf[0] = 'p';
		for (long i = -1000; i < n; i++) {     /* 1000 warm-up round trips */
			uint64_t t = now_ns();

			if (xsend(&x, buf, (size_t)size, &to) < 0 || xrecv(&x, buf, sizeof(buf), &from) < 0)
				die("round trip", -EIO);
			if (i >= 0)
				rtt[i] = now_ns() - t;
		}
		qsort(rtt, (size_t)n, sizeof(*rtt), cmp_u64);
		printf("{\"round_trips\": %ld, \"p50_ns\": %llu, \"p99_ns\": %llu, \"min_ns\": %llu}\n",
		       n, (unsigned long long)rtt[n / 2], (unsigned long long)rtt[n * 99 / 100],
		       (unsigned long long)rtt[0]);
		free(rtt);
		return 0;
	}
	uint64_t t0 = now_ns();

	for (long i = 0; i < n - 1;) {
		long w = n - 1 - i < WINDOW ? n - 1 - i : WINDOW;
		char ack[16];

		buf[0] = 's';
		if (x.mmsg) {
			struct mmsghdr mm[BATCH];
			static char wbuf[2048];
			struct iovec iov = { buf, (size_t)size }, last = { wbuf, (size_t)size };

			for (long j = 0; j < w;) {
				int k = (int)(w - j < BATCH ? w - j : BATCH);

				for (int q = 0; q < k; q++)
					mm[q].msg_hdr = (struct msghdr){ .msg_name = &to,
						.msg_namelen = sizeof(to), .msg_iov = &iov, .msg_iovlen = 1 };
				if (j + k == w) {       /* the window's last one asks for an ack */
					wbuf[0] = WEND;
					mm[k - 1].msg_hdr.msg_iov = &last;
				}
				k = sendmmsg(x.fd, mm, (unsigned)k, 0);
				if (k < 0)
					die("sendmmsg", 0);
				j += k;
			}
		} else {
			for (long j = 0; j < w; j++) {
				buf[0] = j == w - 1 ? WEND : 's';
				if (xsend(&x, buf, (size_t)size, &to) < 0)
					die("send", -EIO);
			}
		}
		if (xrecv(&x, ack, sizeof(ack), &from) < 0)
			die("window ack", -EIO);
		i += w;
	}
	buf[0] = (char)LAST;
	xsend(&x, buf, (size_t)size, &to);
	uint64_t sent_ns = now_ns() - t0;

	if (!x.kernel)
		pollnet_set_timeout(x.s, 5000);
	else {
		struct timeval tv = { 5, 0 };

		setsockopt(x.fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	}
	if (xrecv(&x, buf, sizeof(buf), &from) < 0)
		die("the final echo", -ETIMEDOUT);
	printf("{\"sent\": %ld, \"send_ns\": %llu}\n", n, (unsigned long long)sent_ns);
	return 0;
}

static int
blast(char **argv)
{
	struct xport x;
	struct sockaddr_in to;
	static char buf[2048];
	long n, size, sent = 0;
	uint64_t t0;

	bind_any = 1;
	xopen(&x, &argv);
	xbind(&x, 0);
	client_args(argv, &to, &n, &size);
	memset(buf, 'b', sizeof(buf));
	t0 = now_ns();
	if (x.kernel) {
		struct mmsghdr mm[BATCH];
		struct iovec iov = { buf, (size_t)size };

		for (int i = 0; i < BATCH; i++)
			mm[i].msg_hdr = (struct msghdr){ .msg_name = &to, .msg_namelen = sizeof(to),
							 .msg_iov = &iov, .msg_iovlen = 1 };
		while (sent < n) {
			int k = sendmmsg(x.fd, mm, (unsigned)(n - sent < BATCH ? n - sent : BATCH), 0);

			if (k < 0 && errno != ENOBUFS && errno != EAGAIN)
				die("sendmmsg", 0);
			if (k > 0)
				sent += k;
		}
	} else {
		for (; sent < n; sent++)
			if (pollnet_sendto(x.s, buf, (size_t)size, &to) < 0)
				die("send", -EIO);
	}
	printf("{\"sent\": %ld, \"seconds\": %.6f}\n", sent, (double)(now_ns() - t0) / 1e9);
	if (!x.kernel)          /* let pollnet take the last of them */
		pollnet_close(x.s);
	return 0;
}

static int
sink(char **argv)
{
	struct xport x;
	struct sockaddr_in from;
	static char buf[2048];
	uint64_t first = 0, last = 0, got = 0, start = now_ns(), limit;

	bind_any = 1;
	xopen(&x, &argv);
	xbind(&x, (uint16_t)atoi(argv[0]));
	limit = (uint64_t)(atof(argv[1]) * 1e9);
	if (x.kernel) {
		struct timeval tv = { 0, 100000 };

		setsockopt(x.fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	} else {
		pollnet_set_timeout(x.s, 100);
	}
	printf("ready\n");
	fflush(stdout);
	for (;;) {
		uint64_t t = now_ns();

		if (got > 0 && (t - last > 1000000000u || t - first > limit))
			break;
		if (got == 0 && t - start > limit + 10000000000u)
			break;
		if (xrecv(&x, buf, sizeof(buf), &from) > 0) {
			last = now_ns();
			if (got++ == 0)
				first = last;
		}
	}
	printf("{\"received\": %llu, \"seconds\": %.6f}\n", (unsigned long long)got,
	       (double)(last - first) / 1e9);
	return 0;
}

int
main(int argc, char **argv)
{
	if (argc >= 7 && strcmp(argv[1], "blast") == 0)
		return blast(argv + 2);
	if (argc >= 5 && strcmp(argv[1], "sink") == 0)
		return sink(argv + 2);
	if (argc >= 4 && strcmp(argv[1], "echo") == 0)
		return echo(argv + 2);
	if (argc >= 3 && strcmp(argv[1], "server") == 0)
		return server(argv + 2);
	if (argc >= 7 && strcmp(argv[1], "rtt") == 0)
		return client(0, argv + 2);
	if (argc >= 7 && strcmp(argv[1], "stream") == 0)
		return client(1, argv + 2);
	fprintf(stderr, "usage: see the comment at the top of bench/shm_bench.c\n");
	return 2;
}
