/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * libpollnet with a thread blocked receiving and a thread blocked sending
 * on one socket (its send ring full while pollnet is held still): each
 * returns when its turn comes, whatever the other does.  The requests to
 * the test are pr_races's ("STOP", "CONT", "SEND PORT", answered by a line
 * on standard input); what happened is in the lines that start with "= ".
 *
 * usage: pn_threads PEER_IP SINK_PORT     (pollnet at $POLLNET_CTL)
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "pn_wait.h"
#include "pollnet.h"

struct job {
	struct pollnet_socket *s;
	struct sockaddr_in to;
	ssize_t n;
	_Atomic int done;
};

static void
ask(const char *what, unsigned port)
{
	char line[64];

	if (port != 0)
		printf("%s %u\n", what, port);
	else
		printf("%s\n", what);
	fflush(stdout);
	if (fgets(line, sizeof(line), stdin) == NULL)
		exit(1);
}

static void *
receiver(void *arg)
{
	struct job *j = arg;
	char buf[64];

	j->n = pollnet_recv(j->s, buf, sizeof(buf), NULL);
	j->done = 1;
	return NULL;
}

static void *
sender(void *arg)
{
	struct job *j = arg;

	j->n = pollnet_sendto(j->s, "t", 1, &j->to);
	j->done = 1;
	return NULL;
}

int
main(int argc, char **argv)
{
	static char one[1] = "f";
	struct pollnet_msg msgs[4096];
	struct job rx = { 0 }, tx = { 0 };
	struct pollnet *pn;
	pthread_t rt, tt;
	int rc, filled;

	if (argc != 3) {
		fprintf(stderr, "usage: pn_threads PEER_IP SINK_PORT\n");
		return 2;
	}
	tx.to = (struct sockaddr_in){ .sin_family = AF_INET, .sin_port = htons(atoi(argv[2])) };
	inet_pton(AF_INET, argv[1], &tx.to.sin_addr);
	rc = pollnet_open(&pn, NULL);
	if (rc == 0)
		rc = pollnet_socket(pn, &rx.s);
	if (rc == 0)
		rc = pollnet_bind(rx.s, 0);
	if (rc < 0) {
		printf("! %s\n", pollnet_strerror(rc));
		return 1;
	}
	tx.s = rx.s;
	for (size_t i = 0; i < sizeof(msgs) / sizeof(msgs[0]); i++)
		msgs[i] = (struct pollnet_msg){ .buf = one, .len = 1, .addr = tx.to };
	pthread_create(&rt, NULL, receiver, &rx);
	nap(100);
	ask("STOP", 0);
	filled = pollnet_sendmmsg(tx.s, msgs, sizeof(msgs) / sizeof(msgs[0]));
	pthread_create(&tt, NULL, sender, &tx);
	nap(300);                       /* both asleep */
	ask("CONT", 0);
	printf("= the blocked send returned once pollnet took the queue: %s\n",
	       joined(tt, &tx.done, 2000) ? "yes" : "no");
	ask("SEND", pollnet_local_port(rx.s));
	printf("= the blocked receive returned when the datagram came: %s\n",
	       joined(rt, &rx.done, 2000) ? "yes" : "no");
	printf("# %d datagrams filled the queue\n", filled);
	fflush(stdout);
	if (!rx.done || !tx.done)
		_exit(0);               /* a thread still blocked */
	pollnet_session_close(pn);
	return 0;
}
