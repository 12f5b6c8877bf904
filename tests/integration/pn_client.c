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
 *   pn_client chaos CTL IP PORT SEED do everything a client does, in random
 *                                    order, until killed: sessions, sockets,
 *                                    binds, connects, sends, receives, closes
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

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
