/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The host's end of a guest on `-netdev socket` (one Ethernet frame per UDP
 * datagram on loopback), for bench/guest_pmd.sh.  It plays 10.0.2.2 on the
 * guest's LAN.
 *
 *   frame_peer sink QEMU_PORT MY_PORT SECONDS
 *       answer ARP for 10.0.2.2; count the UDP frames the guest sends to
 *       port 9, in phases separated by a second of silence; on SIGTERM or
 *       after SECONDS print one JSON line per phase
 *   frame_peer send QEMU_PORT RATE SECONDS SIZE
 *       send UDP frames 10.0.2.2:5000 -> 10.0.2.15:9 with SIZE bytes of
 *       payload at RATE frames per second (paced in batches of 16: with two
 *       host cores an unpaced sender starves QEMU), then print what it sent
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "frames.h"

static const uint8_t MY_MAC[6] = { 0x52, 0x55, 0x0a, 0x00, 0x02, 0x02 };
static const uint8_t GUEST_MAC[6] = { 0x52, 0x54, 0x00, 0x12, 0x34, 0x56 };
#define MY_IP    0x0a000202u      /* 10.0.2.2 */
#define GUEST_IP 0x0a00020fu      /* 10.0.2.15 */

static volatile sig_atomic_t stop;

static void
on_term(int sig)
{
	(void)sig;
	stop = 1;
}

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int
udp_socket(uint16_t bind_port)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(bind_port),
				 .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	int big = 8 << 20, fd = socket(AF_INET, SOCK_DGRAM, 0);

	setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &big, sizeof(big));
	setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &big, sizeof(big));
	if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof(a)) < 0) {
		perror("frame_peer: socket");
		exit(1);
	}
	return fd;
}

struct phase { uint64_t frames, bytes; double first, last; };

static int
sink(uint16_t qemu_port, uint16_t my_port, double seconds)
{
	struct sockaddr_in qemu = { .sin_family = AF_INET, .sin_port = htons(qemu_port),
				    .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	struct timeval tv = { 0, 200000 };
	struct phase ph[64] = { 0 };
	int np = 0, fd = udp_socket(my_port);
	double end = now() + seconds;
	uint8_t f[2048];

	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	signal(SIGTERM, on_term);
	signal(SIGINT, on_term);
	printf("ready\n");
	fflush(stdout);
	while (!stop && now() < end) {
		ssize_t n = recv(fd, f, sizeof(f), 0);
		double t;

		if (n < 14)
			continue;
		t = now();
		if (f[12] == 0x08 && f[13] == 0x06 && n >= 42 && f[20] == 0 && f[21] == 1 &&
		    f[38] == 10 && f[39] == 0 && f[40] == 2 && f[41] == 2) {
			/* who-has 10.0.2.2: is-at MY_MAC, in place */
			memcpy(f, f + 6, 6);
			memcpy(f + 6, MY_MAC, 6);
			f[21] = 2;
			memcpy(f + 32, f + 22, 10);             /* target = sender */
			memcpy(f + 22, MY_MAC, 6);
			put32(f + 28, MY_IP);
			sendto(fd, f, 42, 0, (struct sockaddr *)&qemu, sizeof(qemu));
			continue;
		}
		if (n < 42 || f[12] != 0x08 || f[13] != 0x00 || f[23] != 17 ||
		    f[36] != 0 || f[37] != 9)
			continue;                   /* only UDP to port 9 counts */
		if (np == 0 || t - ph[np - 1].last > 1.0) {
			if (np == 64)
				break;
			ph[np++] = (struct phase){ .first = t };
		}
		ph[np - 1].frames++;
		ph[np - 1].bytes += (uint64_t)n;
		ph[np - 1].last = t;
	}
	for (int i = 0; i < np; i++)
		printf("{\"phase\": %d, \"frames\": %llu, \"frame_bytes\": %llu, \"seconds\": %.6f}\n",
		       i, (unsigned long long)ph[i].frames, (unsigned long long)ph[i].bytes,
		       ph[i].last - ph[i].first);
	return 0;
}

static int
send_frames(uint16_t qemu_port, double rate, double seconds, unsigned size)
{
	struct sockaddr_in qemu = { .sin_family = AF_INET, .sin_port = htons(qemu_port),
				    .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	int fd = udp_socket(0);
	uint8_t f[2048] = { 0 };
	unsigned len = 14 + 20 + 8 + size;
	uint64_t sent = 0;
	struct timespec next;
	const long batch = 16;
	double t0 = now();

	memcpy(f, GUEST_MAC, 6);
	memcpy(f + 6, MY_MAC, 6);
	put16(f + 12, 0x0800);
	f[14] = 0x45;
	put16(f + 16, (uint16_t)(20 + 8 + size));
	f[22] = 64;
	f[23] = 17;
	put32(f + 26, MY_IP);
	put32(f + 30, GUEST_IP);
	put16(f + 24, csum(f + 14, 20, 0));
	put16(f + 34, 5000);
	put16(f + 36, 9);
	put16(f + 38, (uint16_t)(8 + size));            /* UDP checksum 0: none */
	memset(f + 42, 'x', size);
	clock_gettime(CLOCK_MONOTONIC, &next);
	while (now() - t0 < seconds) {
		for (long i = 0; i < batch; i++)
			if (sendto(fd, f, len, 0, (struct sockaddr *)&qemu, sizeof(qemu)) == (ssize_t)len)
				sent++;
		long ns = (long)(1e9 * (double)batch / rate);

		next.tv_nsec += ns;
		while (next.tv_nsec >= 1000000000L) {
			next.tv_nsec -= 1000000000L;
			next.tv_sec++;
		}
		clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &next, NULL);
	}
	printf("{\"sent\": %llu, \"seconds\": %.6f}\n", (unsigned long long)sent, now() - t0);
	return 0;
}

int
main(int argc, char **argv)
{
	if (argc == 5 && strcmp(argv[1], "sink") == 0)
		return sink((uint16_t)atoi(argv[2]), (uint16_t)atoi(argv[3]), atof(argv[4]));
	if (argc == 6 && strcmp(argv[1], "send") == 0)
		return send_frames((uint16_t)atoi(argv[2]), atof(argv[3]), atof(argv[4]),
				   (unsigned)atoi(argv[5]));
	fprintf(stderr, "usage: see the comment at the top of bench/frame_peer.c\n");
	return 2;
}
