/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * A test client of libpollnet that misbehaves on purpose.
 *
 *   pn_client stream CTL IP PORT     send and receive until killed; prints
 *                                    "streaming" once replies flow
 *   pn_client scribble CTL IP PORT SECONDS
 *                                    keep writing random bytes over its own
 *                                    socket's region while sending through it
 *   pn_client small CTL IP PORT      send 500 bytes to an echo server, read
 *                                    the answer into 100: prints what recv
 *                                    said ("got 100 trunc=1")
 *   pn_client hog CTL N              open sockets until N or an error; print
 *                                    "opened K: <error>"; hold them until
 *                                    stdin closes
 *   pn_client flood CTL SECONDS      open and close sockets as fast as it
 *                                    can; print how many
 *   pn_client refused CTL IP PORT    connect, send one datagram, receive:
 *                                    prints "refused: <error>" or "answered"
 *   pn_client batch CTL IP PORT N    pollnet_sendmmsg / pollnet_recvmmsg with an
 *                                    echo server: N datagrams out in batches
 *                                    (every one echoed once, in order, from
 *                                    the peer), then the calls' edges; prints
 *                                    "batch ok ..." or what went wrong
 *   pn_client idle CTL IP PORT N     N times: 50 ms without a word, then one
 *                                    datagram to an echo server and its echo
 *                                    back; prints "idle ok N" or what was
 *                                    missing (a dozing lcore must be rung)
 *   pn_client pollfd CTL IP PORT N   non-blocking, as pollnet.h says to use
 *                                    pollnet_fd(): N datagrams to an echo
 *                                    server, each echo waited for with
 *                                    poll(), then 500 ms of poll() with
 *                                    nothing coming; prints "pollfd ok ..."
 *                                    or what went wrong (a poll that never
 *                                    sleeps: a wake-up never consumed)
 *   pn_client info CTL IP PORT       IP_TOS/IP_TTL and IP_PKTINFO/RECVTOS/
 *                                    RECVTTL/SO_TIMESTAMPNS through libpollnet,
 *                                    with udp_cases.py's reflector: TOS 0xb9
 *                                    and TTL 17 out, asks for 0x2e and 33
 *                                    back; prints "info peer-saw=<its JSON>
 *                                    dst=A tos=T ttl=L stamp-age-ms=M"
 *   pn_client chaos CTL IP PORT SEED do everything a client does, in random
 *                                    order, until killed: sessions, sockets,
 *                                    binds, connects, sends, receives, closes
 */
#include <arpa/inet.h>
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "pn_wait.h"
#include "pollnet.h"

static int
open_connected(const char *ctl, const char *ip, const char *port,
	       struct pollnet **pn, struct pollnet_socket **s)
{
	struct sockaddr_in to = { .sin_family = AF_INET, .sin_port = htons((uint16_t)atoi(port)) };
	int rc;

	inet_pton(AF_INET, ip, &to.sin_addr);
	if ((rc = pollnet_open(pn, ctl)) < 0 || (rc = pollnet_socket(*pn, s)) < 0 ||
	    (rc = pollnet_connect(*s, &to)) < 0) {
		fprintf(stderr, "pn_client: %s\n", pollnet_strerror(rc));
		return -1;
	}
	pollnet_set_timeout(*s, 100);
	return 0;
}

/* Zero-copy receive against an echo server at ip:port, on a socket with a
 * 16-entry receive ring: views in order and intact, mixed with a copying
 * receive, releases checked; then 16 borrowed hold the ring, so that 4 more
 * are dropped (the caller checks udp_ring_full) while the views stay
 * intact. */
static void
zc_send(struct pollnet_socket *s, const char *tag, int from, int to)
{
	char m[32];

	for (int i = from; i < to; i++) {
		snprintf(m, sizeof(m), "%s %d", tag, i);
		pollnet_send(s, m, strlen(m));
	}
	nanosleep(&(struct timespec){ .tv_nsec = 300 * 1000000L }, NULL);   /* echoed */
}

static int
zc_is(const struct pollnet_view *v, const char *tag, int i, const struct sockaddr_in *peer)
{
	char want[32];

	snprintf(want, sizeof(want), "%s %d", tag, i);
	return v->n == strlen(want) && memcmp(v->buf, want, v->n) == 0 && v->flags == 0 &&
	       v->addr.sin_addr.s_addr == peer->sin_addr.s_addr && v->addr.sin_port == peer->sin_port;
}

#define ZFAIL(...) do { printf("borrow: " __VA_ARGS__); printf("\n"); return 1; } while (0)

static int
borrow(const char *ctl, const char *ip, const char *port)
{
	struct sockaddr_in peer = { .sin_family = AF_INET, .sin_port = htons((uint16_t)atoi(port)) };
	struct pollnet_view v[32], w[32];
	struct pollnet *pn;
	struct pollnet_socket *s;
	char buf[64];
	int r;

	inet_pton(AF_INET, ip, &peer.sin_addr);
	if (pollnet_open(&pn, ctl) < 0 || pollnet_socket_rings(pn, &s, 16, 0) < 0 ||
	    pollnet_connect(s, &peer) < 0)
		ZFAIL("no socket");
	pollnet_set_timeout(s, 2000);
	zc_send(s, "zc", 0, 10);
	if ((r = pollnet_recv_borrow(s, v, 4)) != 4)
		ZFAIL("borrow 4: %d", r);
	if ((r = (int)pollnet_recv(s, buf, sizeof(buf), NULL)) != 4 || memcmp(buf, "zc 4", 4) != 0)
		ZFAIL("a copying receive between borrows: %d", r);
	if ((r = pollnet_recv_borrow(s, w, 32)) != 5)
		ZFAIL("borrow the other 5: %d", r);
	for (int i = 0; i < 4; i++)
		if (!zc_is(&v[i], "zc", i, &peer))
			ZFAIL("view %d: %.*s", i, (int)v[i].n, (const char *)v[i].buf);
	for (int i = 0; i < 5; i++)
		if (!zc_is(&w[i], "zc", 5 + i, &peer))
			ZFAIL("view %d: %.*s", 5 + i, (int)w[i].n, (const char *)w[i].buf);
	if (pollnet_recv_release(s, 10) != -EINVAL)
		ZFAIL("released 10 of 9 lent");
	if (pollnet_recv_release(s, 4) != 0 || pollnet_recv_release(s, 5) != 0 ||
	    pollnet_recv_release(s, 1) != -EINVAL)
		ZFAIL("release 4, 5, then 1 too many");
	/* 16 lent fill the ring: 4 more are dropped, the views stay */
	zc_send(s, "hold", 0, 16);
	if ((r = pollnet_recv_borrow(s, v, 32)) != 16)
		ZFAIL("borrow 16: %d", r);
	zc_send(s, "hold", 16, 20);
	pollnet_set_nonblocking(s, 1);
	if ((r = pollnet_recv_borrow(s, w, 32)) != -EAGAIN)
		ZFAIL("a full ring had room: %d", r);
	for (int i = 0; i < 16; i++)
		if (!zc_is(&v[i], "hold", i, &peer))
			ZFAIL("held view %d: %.*s", i, (int)v[i].n, (const char *)v[i].buf);
	pollnet_set_nonblocking(s, 0);
	pollnet_recv_release(s, 16);
	zc_send(s, "after", 0, 1);
	if ((r = pollnet_recv_borrow(s, v, 32)) != 1 || !zc_is(&v[0], "after", 0, &peer))
		ZFAIL("after the release: %d", r);
	pollnet_recv_release(s, 1);
	printf("borrow ok\n");
	pollnet_session_close(pn);
	return 0;
}

/* Our socket's region, as any process can find its own mappings. */
static uint8_t *
find_region(size_t *size)
{
	FILE *f = fopen("/proc/self/maps", "r");
	char line[512];
	unsigned long lo, hi;

	while (f != NULL && fgets(line, sizeof(line), f) != NULL) {
		if (strstr(line, "memfd:pollnet-sock-") != NULL &&
		    sscanf(line, "%lx-%lx", &lo, &hi) == 2) {
			fclose(f);
			*size = hi - lo;
			return (uint8_t *)lo;
		}
	}
	if (f != NULL)
		fclose(f);
	return NULL;
}

#define FAIL(...) do { printf("batch: " __VA_ARGS__); printf("\n"); return 1; } while (0)

/* The batch calls against an echo server at ip:port (s is connected to it). */
static int
batch(struct pollnet *pn, struct pollnet_socket *s, const char *ip, const char *port, int n)
{
	static char out[32][64], in[32][2048];
	struct pollnet_msg m[32];
	struct sockaddr_in peer = { .sin_family = AF_INET, .sin_port = htons((uint16_t)atoi(port)) };
	int sent = 0, got = 0, calls_out = 0, calls_in = 0, most = 0, r;

	inet_pton(AF_INET, ip, &peer.sin_addr);
	pollnet_set_timeout(s, 5000);
	if (pollnet_sendmmsg(s, m, 0) != 0 || pollnet_recvmmsg(s, m, 0) != 0)
		FAIL("count 0 did something");
	while (got < n) {
		/* up to 16 out, half to the connected peer (family 0), half
		 * addressed; then take every echo there is */
		int k = n - sent < 16 ? n - sent : 16;

		for (int i = 0; i < k; i++) {
			snprintf(out[i], sizeof(out[i]), "batch %06d", sent + i);
			m[i] = (struct pollnet_msg){ .buf = out[i], .len = strlen(out[i]) };
			if (i % 2)
				m[i].addr = peer;
		}
		for (int i = 0; i < k;) {
			r = pollnet_sendmmsg(s, m + i, (unsigned)(k - i));
			if (r <= 0)
				FAIL("sendmmsg: %s", pollnet_strerror(r));
			i += r;
			calls_out++;
		}
		sent += k;
		while (got < sent) {
			for (int i = 0; i < 32; i++)
				m[i] = (struct pollnet_msg){ .buf = in[i], .len = sizeof(in[i]) };
			r = pollnet_recvmmsg(s, m, 32);
			if (r <= 0)
				FAIL("recvmmsg after %d of %d: %s", got, n, pollnet_strerror(r));
			calls_in++;
			most = r > most ? r : most;
			for (int i = 0; i < r; i++) {
				char want[64];

				snprintf(want, sizeof(want), "batch %06d", got);
				if (m[i].n != strlen(want) || memcmp(in[i], want, m[i].n) != 0 ||
				    m[i].flags != 0 || m[i].addr.sin_addr.s_addr != peer.sin_addr.s_addr ||
				    m[i].addr.sin_port != peer.sin_port)
					FAIL("echo %d: %.*s (%zu bytes, flags %d)", got, (int)m[i].n,
					     in[i], m[i].n, m[i].flags);
				got++;
			}
		}
	}
	/* the edges: nothing there (non-blocking), a short buffer, a message
	 * that cannot go first, and one that stops a batch before it */
	pollnet_set_nonblocking(s, 1);
	m[0] = (struct pollnet_msg){ .buf = in[0], .len = sizeof(in[0]) };
	if ((r = pollnet_recvmmsg(s, m, 1)) != -EAGAIN)
		FAIL("recvmmsg on nothing: %d", r);
	pollnet_set_nonblocking(s, 0);
	memset(out[0], 'x', 60);
	m[0] = (struct pollnet_msg){ .buf = out[0], .len = 60 };
	if (pollnet_sendmmsg(s, m, 1) != 1)
		FAIL("one more");
	m[0] = (struct pollnet_msg){ .buf = in[0], .len = 10 };
	if ((r = pollnet_recvmmsg(s, m, 1)) != 1 || m[0].n != 10 || !(m[0].flags & POLLNET_TRUNC))
		FAIL("short buffer: %d, %zu bytes, flags %d", r, m[0].n, m[0].flags);
	m[0] = (struct pollnet_msg){ .buf = in[0], .len = POLLNET_MAX_DATAGRAM + 1 };
	if ((r = pollnet_sendmmsg(s, m, 1)) != -EMSGSIZE)
		FAIL("too long first: %d", r);
	m[0] = (struct pollnet_msg){ .buf = out[0], .len = 5 };
	m[1] = (struct pollnet_msg){ .buf = out[0], .len = 5, .addr = { .sin_family = AF_INET } };
	if ((r = pollnet_sendmmsg(s, m, 2)) != 1)
		FAIL("a bad destination second: %d, not 1", r);
	pollnet_session_close(pn);
	printf("batch ok: %d datagrams in %d send calls and %d receive calls (at most %d at once)\n",
	       n, calls_out, calls_in, most);
	return 0;
}

/* pollnet_fd() as pollnet.h says to use it: receive until -EAGAIN, then
 * poll; while nothing comes, poll must sleep. */
static int
pollfd_case(struct pollnet *pn, struct pollnet_socket *s, int n)
{
	struct pollfd p;
	char buf[64];
	int got = 0, polls = 0, idle_polls = 0, rc = 1;
	double c0, used;

	pollnet_set_nonblocking(s, 1);
	p = (struct pollfd){ .fd = pollnet_fd(s), .events = POLLIN };
	for (int i = 0; i < n; i++) {
		ssize_t k;

		if (pollnet_send(s, "x", 1) != 1) {
			printf("pollfd: send %d failed\n", i);
			goto out;
		}
		for (;;) {
			k = pollnet_recv(s, buf, sizeof(buf), NULL);
			if (k != -EAGAIN)
				break;
			polls++;
			if (poll(&p, 1, 1000) == 0) {
				printf("pollfd: datagram %d: poll() slept 1 s through its echo\n", i);
				goto out;
			}
		}
		if (k != 1) {
			printf("pollfd: datagram %d: %s\n", i, pollnet_strerror((int)k));
			goto out;
		}
		got++;
	}
	/* nothing more comes: the descriptor must not stay readable */
	c0 = cpu_ms(CLOCK_PROCESS_CPUTIME_ID);
	for (int waited = 0; waited < 500; waited += 50) {
		if (pollnet_recv(s, buf, sizeof(buf), NULL) != -EAGAIN) {
			printf("pollfd: a datagram from nowhere\n");
			goto out;
		}
		idle_polls += poll(&p, 1, 50) > 0;
		if (idle_polls > 20)
			break;
	}
	used = cpu_ms(CLOCK_PROCESS_CPUTIME_ID) - c0;
	rc = idle_polls <= 2 && used < 100 ? 0 : 1;
	printf("pollfd %s: %d echoes, %d polls, %d wake-ups with nothing to read while idle, "
	       "%.0f ms of CPU idle\n", rc == 0 ? "ok" : "spins", got, polls, idle_polls, used);
out:
	pollnet_session_close(pn);
	return rc;
}

int
main(int argc, char **argv)
{
	struct pollnet *pn;
	struct pollnet_socket *s;
	char buf[2048];
	int streaming = 0;

	if (argc == 4 && strcmp(argv[1], "hog") == 0) {
		int n = atoi(argv[3]), k = 0, rc = pollnet_open(&pn, argv[2]);
		const int opened = rc == 0;

		while (rc == 0 && k < n && (rc = pollnet_socket(pn, &s)) == 0)
			k++;
		printf("opened %d: %s\n", k, rc < 0 ? pollnet_strerror(rc) : "ok");
		fflush(stdout);
		while (read(0, buf, sizeof(buf)) > 0)
			;
		if (opened)
			pollnet_session_close(pn);
		return 0;
	}
	if (argc == 4 && strcmp(argv[1], "flood") == 0) {
		time_t end = time(NULL) + atoi(argv[3]);
		unsigned long ops = 0;
		int rc = pollnet_open(&pn, argv[2]);
		const int opened = rc == 0;

		printf("flooding\n");
		fflush(stdout);
		while (rc == 0 && time(NULL) < end && (rc = pollnet_socket(pn, &s)) == 0) {
			pollnet_close(s);
			ops++;
		}
		printf("flooded %lu: %s\n", ops, rc < 0 ? pollnet_strerror(rc) : "ok");
		if (opened)
			pollnet_session_close(pn);
		return 0;
	}
	if (argc == 6 && strcmp(argv[1], "chaos") == 0) {
		struct sockaddr_in to = { .sin_family = AF_INET,
					  .sin_port = htons((uint16_t)atoi(argv[4])) };
		struct pollnet_socket *socks[4] = { NULL };

		inet_pton(AF_INET, argv[3], &to.sin_addr);
		srand((unsigned)atoi(argv[5]));
		if (pollnet_open(&pn, argv[2]) < 0)
			return 2;
		printf("chaos\n");
		fflush(stdout);
		for (;;) {
			int k = rand() % 4, op = rand() % 8;
			struct pollnet_socket *x = socks[k];

			if (x == NULL) {
				if (pollnet_socket(pn, &socks[k]) < 0)
					socks[k] = NULL;
				continue;
			}
			pollnet_set_nonblocking(x, rand() % 2);
			pollnet_set_timeout(x, rand() % 20);
			switch (op) {
			case 0: pollnet_bind(x, 0); break;
			case 1: pollnet_connect(x, &to); break;
			case 2: case 3:
				for (int i = rand() % 64; i >= 0; i--)
					pollnet_sendto(x, buf, 1 + (size_t)(rand() % 1400), &to);
				break;
			case 4: case 5:
				for (int i = rand() % 64; i >= 0; i--)
					pollnet_recv(x, buf, sizeof(buf), NULL);
				break;
			case 6:
				pollnet_close(x);
				socks[k] = NULL;
				break;
			case 7:
				if (rand() % 16 == 0) {     /* a new session, now and then */
					pollnet_session_close(pn);
					memset(socks, 0, sizeof(socks));
					if (pollnet_open(&pn, argv[2]) < 0)
						return 2;
				}
				break;
			}
		}
	}
	if (strcmp(argv[1], "borrow") == 0 && argc == 5)
		return borrow(argv[2], argv[3], argv[4]);
	if (argc < 5 || open_connected(argv[2], argv[3], argv[4], &pn, &s) < 0)
		return 2;
	if (strcmp(argv[1], "stream") == 0) {
		for (uint32_t i = 0;; i++) {
			snprintf(buf, sizeof(buf), "stream %u from %d", i, (int)getpid());
			pollnet_send(s, buf, strlen(buf));
			if (pollnet_recv(s, buf, sizeof(buf), NULL) > 0 && !streaming) {
				printf("streaming\n");
				fflush(stdout);
				streaming = 1;
			}
		}
	}
	if (strcmp(argv[1], "refused") == 0) {
		ssize_t n;

		pollnet_set_timeout(s, 3000);
		pollnet_send(s, "anyone?", 7);
		n = pollnet_recv(s, buf, sizeof(buf), NULL);
		if (n < 0)
			printf("refused: %s\n", pollnet_strerror((int)n));
		else
			printf("answered\n");
		pollnet_session_close(pn);
		return n == -ECONNREFUSED ? 0 : 1;
	}
	if (strcmp(argv[1], "idle") == 0 && argc == 6) {
		int n = atoi(argv[5]), ok = 0;

		pollnet_set_timeout(s, 2000);
		for (int i = 0; i < n; i++) {
			struct timespec gap = { .tv_nsec = 50 * 1000000L };
			char want[64];
			ssize_t r;

			nanosleep(&gap, NULL);
			snprintf(want, sizeof(want), "idle %d", i);
			pollnet_send(s, want, strlen(want));
			r = pollnet_recv(s, buf, sizeof(buf) - 1, NULL);
			if (r == (ssize_t)strlen(want) && memcmp(buf, want, (size_t)r) == 0)
				ok++;
			else
				printf("datagram %d: %s\n", i, r < 0 ? pollnet_strerror((int)r) : "wrong echo");
		}
		printf("idle %s %d\n", ok == n ? "ok" : "lost", ok);
		pollnet_session_close(pn);
		return ok == n ? 0 : 1;
	}
	if (strcmp(argv[1], "pollfd") == 0 && argc == 6)
		return pollfd_case(pn, s, atoi(argv[5]));
	if (strcmp(argv[1], "batch") == 0 && argc == 6)
		return batch(pn, s, argv[3], argv[4], atoi(argv[5]));
	if (strcmp(argv[1], "info") == 0) {
		const char *req = "{\"tos\": 46, \"ttl\": 33}";
		struct pollnet_info info;
		struct timespec now;
		char dst[INET_ADDRSTRLEN];
		ssize_t n;

		pollnet_set_timeout(s, 3000);
		if (pollnet_set_tos(s, 0xb9) < 0 || pollnet_set_ttl(s, 17) < 0 ||
		    pollnet_set_ttl(s, 256) != -EINVAL || pollnet_set_tos(s, -1) != -EINVAL)
			return 1;
		pollnet_send(s, req, strlen(req));
		n = pollnet_recvfrom_info(s, buf, sizeof(buf) - 1, NULL, NULL, &info);
		clock_gettime(CLOCK_REALTIME, &now);
		if (n < 0) {
			printf("info: %s\n", pollnet_strerror((int)n));
			return 1;
		}
		buf[n] = '\0';
		inet_ntop(AF_INET, &info.dst, dst, sizeof(dst));
		printf("info peer-saw=%s dst=%s tos=%#x ttl=%u stamp-age-ms=%lld\n", buf, dst,
		       info.tos, info.ttl,
		       (long long)((now.tv_sec - info.stamp.tv_sec) * 1000 +
				   (now.tv_nsec - info.stamp.tv_nsec) / 1000000));
		pollnet_session_close(pn);
		return 0;
	}
	if (strcmp(argv[1], "small") == 0) {
		int flags = -1;
		ssize_t n;

		memset(buf, 'w', 500);
		pollnet_set_timeout(s, 5000);
		pollnet_send(s, buf, 500);
		n = pollnet_recv(s, buf, 100, &flags);
		printf("got %zd trunc=%d\n", n, (flags & POLLNET_TRUNC) != 0);
		pollnet_session_close(pn);
		return n == 100 ? 0 : 1;
	}
	if (strcmp(argv[1], "scribble") == 0 && argc == 6) {
		size_t size = 0;
		uint8_t *r = find_region(&size);
		time_t end = time(NULL) + atoi(argv[5]);
		unsigned long rounds = 0;

		if (r == NULL) {
			fprintf(stderr, "pn_client: no region found\n");
			return 2;
		}
		srand((unsigned)getpid());
		printf("scribbling over %zu bytes\n", size);
		fflush(stdout);
		while (time(NULL) < end) {
			for (size_t i = 0; i < size; i += 1 + (size_t)(rand() % 64))
				r[i] = (uint8_t)rand();
			pollnet_send(s, "garbage?", 8);
			pollnet_recv(s, buf, sizeof(buf), NULL);
			rounds++;
		}
		printf("scribbled %lu rounds\n", rounds);
		return 0;
	}
	return 2;
}
