/* SPDX-License-Identifier: BSD-3-Clause */
/* pollnetctl capture: frames into a pcap file. */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <pcap/pcap.h>

#include "abi/pn_capture.h"
#include "abi/pn_control.h"
#include "pollnetctl.h"

/* One request (and what follows it in the same message: extra, len
 * bytes), one reply with maybe a file descriptor. */
static int
ctl_call(int fd, struct pn_ctl_req *req, const void *extra, size_t len,
	 struct pn_ctl_rep *rep, int *rfd)
{
	char cbuf[CMSG_SPACE(sizeof(int) * 2)];
	struct iovec out[2] = { { .iov_base = req, .iov_len = sizeof(*req) },
				{ .iov_base = (void *)(uintptr_t)extra, .iov_len = len } };
	struct msghdr om = { .msg_iov = out, .msg_iovlen = len ? 2 : 1 };
	struct iovec iov = { .iov_base = rep, .iov_len = sizeof(*rep) };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1,
			     .msg_control = cbuf, .msg_controllen = sizeof(cbuf) };
	struct cmsghdr *cm;
	ssize_t n;

	if (sendmsg(fd, &om, MSG_NOSIGNAL) != (ssize_t)(sizeof(*req) + len))
		return -errno;
	n = recvmsg(fd, &mh, MSG_CMSG_CLOEXEC);
	if (n != (ssize_t)sizeof(*rep))
		return n < 0 ? -errno : -EPROTO;
	/* the first descriptor is the caller's, if it wants one; the others
	 * (HELLO's state page and doorbell) are not for us */
	for (cm = CMSG_FIRSTHDR(&mh); cm != NULL; cm = CMSG_NXTHDR(&mh, cm)) {
		if (cm->cmsg_level != SOL_SOCKET || cm->cmsg_type != SCM_RIGHTS)
			continue;
		for (size_t i = 0; i < (cm->cmsg_len - CMSG_LEN(0)) / sizeof(int); i++) {
			int f;

			memcpy(&f, CMSG_DATA(cm) + i * sizeof(int), sizeof(int));
			if (rfd != NULL && *rfd < 0)
				*rfd = f;
			else
				close(f);
		}
	}
	return rep->status;
}

static void
pcap_time(const struct pn_stats_clock *clk, uint64_t tsc, struct timeval *tv)
{
	int64_t ns = pn_clock_ns(clk, tsc);

	tv->tv_sec = (time_t)(ns / 1000000000);
	tv->tv_usec = (suseconds_t)(ns % 1000000000 / 1000);
}

static int
cap_cmp(const void *a, const void *b)
{
	const struct pn_cap_rec *const *x = a, *const *y = b;

	return (*x)->ts < (*y)->ts ? -1 : (*x)->ts > (*y)->ts;
}

static void
usage_capture(FILE *f)
{
	fprintf(f,
"Usage: pollnetctl [-S PATH] capture -w FILE [-c N] [-t SECS] [-s SNAPLEN] [FILTER]\n"
"\n"
"Frames pollnet receives and sends from now on, into a pcap file that\n"
"tcpdump and Wireshark read, until N frames, SECS seconds or Ctrl-C.  Root\n"
"only (frames carry every client's data).  pollnet's lcores copy the frames\n"
"that match into a ring this command empties; when it is full they skip\n"
"frames (counted, and said at the end) rather than slow down.\n"
"\n"
"  -w, --write FILE       the pcap file ('-' is standard output)\n"
"  -c, --count N          stop after N frames\n"
"  -t, --seconds SECS     stop after SECS seconds\n"
"  -s, --snaplen SNAPLEN  bytes kept of each frame (default and most: %d)\n"
"  -h, --help             this text\n"
"\n"
"FILTER: a tcpdump expression (pcap-filter(7)), compiled by libpcap; pollnet\n"
"runs it on every whole frame with DPDK's BPF library (JIT-compiled), as\n"
"dpdk-dumpcap does; one that indexes into the packet (e.g. 'tcp port 80',\n"
"whose TCP header follows a variable IP header) with libpcap's interpreter.\n",
		PN_CAP_DATA);
}

int
cmd_capture(struct seg *s, int argc, char **argv)
{
	static const struct option lo[] = {
		{ "write", required_argument, NULL, 'w' },
		{ "count", required_argument, NULL, 'c' },
		{ "seconds", required_argument, NULL, 't' },
		{ "snaplen", required_argument, NULL, 's' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 } };
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct pn_ctl_req req = { 0 };
	struct pn_ctl_rep rep = { 0 };
	struct bpf_program filt;
	struct pn_stats_clock clk;
	struct pn_cap_hdr geo;
	const char *file = NULL;
	char spec[sizeof(s->h->ctl_path) + 1];
	long count = -1, snaplen = PN_CAP_DATA;
	double secs = 0;
	uint64_t got = 0, skipped = 0;
	struct timespec t0, now;
	int c, fd, mfd = -1, rc;
	uint8_t *region;
	pcap_t *pd;
	pcap_dumper_t *out;
	const struct pn_cap_rec **batch;

	usage_fn = usage_capture;
	while ((c = getopt_long(argc, argv, "+:w:c:t:s:h", lo, NULL)) != -1) {
		switch (c) {
		case 'w': file = optarg; break;
		case 'c': count = parse_long("--count", optarg, 1, 1000000000); break;
		case 't': secs = parse_secs("--seconds", optarg); break;
		case 's': snaplen = parse_long("--snaplen", optarg, 14, PN_CAP_DATA); break;
		case 'h': usage_capture(stdout); return 0;
		default: bad_option(c, argv, lo);
		}
	}
	if (file == NULL)
		bad_args("--write FILE is required");
	filter_compile(&filt, argc - optind, argv + optind);
	seg_open(s);

	fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (fd < 0)
		die("socket: %s", strerror(errno));
	/* the segment's path may lack its NUL: at most what sun_path holds */
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%.*s",
		 (int)strnlen(s->h->ctl_path, sizeof(s->h->ctl_path)), s->h->ctl_path);
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		die("%s: %s", text_string(spec, sizeof(spec), sa.sun_path, sizeof(sa.sun_path)),
		    strerror(errno));
	req = (struct pn_ctl_req){ .op = PN_CTL_HELLO, .seq = 1, .version = PN_CTL_VERSION };
	rc = ctl_call(fd, &req, NULL, 0, &rep, NULL);
	if (rc < 0)
		die("pollnet refused this connection: %s", strerror(-rc));
	/* the filter's classic BPF follows the request */
	req = (struct pn_ctl_req){ .op = PN_CTL_CAPTURE, .seq = 2, .sock_id = filt.bf_len,
				   .arg = (uint32_t)snaplen };
	rc = ctl_call(fd, &req, filt.bf_insns, filt.bf_len * sizeof(struct bpf_insn), &rep, &mfd);
	pcap_freecode(&filt);
	if (rc == -EPERM)
		die("capture: only root may capture (frames carry every client's data)");
	if (rc == -EBUSY)
		die("capture: another capture is running (one at a time)");
	if (rc == -EINVAL)
		die("capture: pollnet could not load the filter into DPDK's BPF library");
	if (rc < 0 || mfd < 0)
		die("capture: pollnet said %s", strerror(rc < 0 ? -rc : EPROTO));
	region = mmap(NULL, rep.region_size, PROT_READ | PROT_WRITE, MAP_SHARED, mfd, 0);
	if (region == MAP_FAILED)
		die("capture: mapping the region: %s", strerror(errno));
	memcpy(&geo, region, sizeof(geo));
	{
		struct pn_cap_hdr want;

		if (memcmp(geo.magic, PN_CAP_MAGIC, 8) != 0 || geo.nb_lcores != s->h->nb_lcores ||
		    pn_cap_layout(&want, geo.nb_lcores, geo.snaplen) != rep.region_size ||
		    want.slot_off != geo.slot_off || want.ring_off != geo.ring_off)
			die("capture: the region pollnet sent makes no sense");
	}
	pd = pcap_open_dead(DLT_EN10MB, (int)snaplen);
	out = pd != NULL ? pcap_dump_open(pd, file) : NULL;
	if (out == NULL)
		die("capture: %s: %s", file, pd != NULL ? pcap_geterr(pd) : "pcap_open_dead failed");
	batch = calloc((size_t)geo.nb_lcores * geo.slots, sizeof(*batch));
	if (batch == NULL)
		die("out of memory");
	signal(SIGINT, on_stop);
	signal(SIGTERM, on_stop);
	signal(SIGPIPE, on_stop);
	fprintf(stderr, "%s: capturing on %s, snaplen %ld", prog,
		text_string(spec, sizeof(spec), s->h->port_spec, sizeof(s->h->port_spec)), snaplen);
	for (int i = optind; i < argc; i++)
		fprintf(stderr, "%s%s", i == optind ? ", filter: " : " ", argv[i]);
	fprintf(stderr, "\n");
	clock_gettime(CLOCK_MONOTONIC, &t0);
	while (!got_stop && (count < 0 || got < (uint64_t)count)) {
		size_t k = 0;
		uint64_t heads[64];

		for (uint32_t i = 0; i < geo.nb_lcores && i < 64; i++) {
			struct pn_cap_ring *r = pn_cap_ring(region, &geo, i);
			uint64_t tail = atomic_load_explicit(&r->tail, memory_order_relaxed);

			heads[i] = atomic_load_explicit(&r->head, memory_order_acquire);
			if (heads[i] - tail > geo.slots)
				die("capture: pollnet's ring position makes no sense");
			for (uint64_t p = tail; p < heads[i]; p++)
				batch[k++] = pn_cap_rec(region, &geo, i, p);
		}
		qsort(batch, k, sizeof(batch[0]), cap_cmp);
		if (k > 0)
			clock_take(s, &clk);
		for (size_t j = 0; j < k && (count < 0 || got < (uint64_t)count); j++) {
			struct pcap_pkthdr ph;

			pcap_time(&clk, batch[j]->ts, &ph.ts);
			ph.caplen = batch[j]->caplen < snaplen ? batch[j]->caplen : (uint32_t)snaplen;
			ph.len = batch[j]->len;
			pcap_dump((u_char *)out, &ph, batch[j]->data);
			got++;
		}
		/* everything read is free again (what -c left is dropped) */
		for (uint32_t i = 0; i < geo.nb_lcores && i < 64; i++)
			atomic_store_explicit(&pn_cap_ring(region, &geo, i)->tail, heads[i],
					      memory_order_release);
		if (k == 0) {
			pcap_dump_flush(out);
			clock_gettime(CLOCK_MONOTONIC, &now);
			if (secs > 0 && (double)(now.tv_sec - t0.tv_sec) +
			    (double)(now.tv_nsec - t0.tv_nsec) / 1e9 >= secs)
				break;
			if (!seg_alive(s)) {
				fprintf(stderr, "%s: pollnet exited\n", prog);
				break;
			}
			sleep_secs(0.01);
		}
	}
	for (uint32_t i = 0; i < geo.nb_lcores; i++)
		skipped += atomic_load_explicit(&pn_cap_ring(region, &geo, i)->skipped,
						memory_order_relaxed);
	pcap_dump_close(out);
	pcap_close(pd);
	free(batch);
	munmap(region, rep.region_size);
	close(mfd);
	close(fd);              /* pollnet stops copying */
	fprintf(stderr, "%s: %" PRIu64 " frame%s captured, %" PRIu64 " skipped by pollnet "
		"(the capture ring was full)\n", prog, got, got == 1 ? "" : "s", skipped);
	return 0;
}
