/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * libnss_pollnet's reading of a DNS answer, on arbitrary bytes: what comes
 * back from the network is hostile.  The first byte picks the question (A,
 * AAAA or PTR) and the size of the caller's buffer; the rest is the answer.
 * parse() must stay inside the answer and its own arrays, and what it
 * found must fit the caller's buffer or be refused with ERANGE, every
 * pointer handed back pointing into that buffer.
 */
#define _GNU_SOURCE
#include "../../client/nss_pollnet.c"

#include "fuzz_env.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int
inside(const void *p, const char *buf, size_t len)
{
	return (const char *)p >= buf && (const char *)p < buf + len;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const int types[3] = { ns_t_a, ns_t_aaaa, ns_t_ptr };
	static struct result r;
	struct hostent h;
	enum outcome o;
	uint8_t *ans;
	char *buf;
	size_t buflen;
	int type, af, err = 0, herr = 0;
	uint8_t addr[16] = { 198, 18, 0, 77 };
	enum nss_status st;

	if (size < 1 + 12 || size - 1 > ANS_MAX)
		return 0;
	type = types[data[0] % 3];
	af = type == ns_t_aaaa ? AF_INET6 : AF_INET;
	buflen = (size_t)(data[0] >> 2) * 16;   /* 0 .. 1008 bytes */
	ans = malloc(size - 1);                 /* exactly the datagram's bytes */
	FUZZ_CHECK(ans != NULL, "malloc");
	memcpy(ans, data + 1, size - 1);
	o = parse(ans, (int)(size - 1), "web.pollnet.test", type, &r);
	free(ans);
	FUZZ_CHECK(o == O_FOUND || o == O_NODATA || o == O_FAILED, "outcome %d", o);
	if (o != O_FOUND)
		return 0;
	FUZZ_CHECK(r.naddr > 0 && r.naddr <= MAX_ADDRS && r.nnames >= 0 && r.nnames <= MAX_NAMES,
		   "%d addresses, %d names", r.naddr, r.nnames);
	FUZZ_CHECK(memchr(r.canon, 0, sizeof(r.canon)) != NULL, "the name ends");
	FUZZ_CHECK(type != ns_t_ptr || r.nnames >= 1, "a PTR answer has a name");
	buf = malloc(buflen ? buflen : 1);
	FUZZ_CHECK(buf != NULL, "malloc");
	st = fill_hostent(&r, af, type == ns_t_ptr ? addr : NULL, &h, buf, buflen, &err, &herr);
	if (st == NSS_STATUS_SUCCESS) {
		FUZZ_CHECK(inside(h.h_name, buf, buflen) && inside(h.h_aliases, buf, buflen) &&
			   inside(h.h_addr_list, buf, buflen), "the hostent is in the buffer");
		for (char **a = h.h_aliases; *a != NULL; a++)
			FUZZ_CHECK(inside(*a, buf, buflen), "an alias in the buffer");
		for (char **a = h.h_addr_list; *a != NULL; a++)
			FUZZ_CHECK(inside(*a, buf, buflen) &&
				   inside(*a + h.h_length - 1, buf, buflen), "an address in the buffer");
	} else {
		FUZZ_CHECK(st == NSS_STATUS_TRYAGAIN && err == ERANGE, "too small: ERANGE (%d)", err);
	}
	free(buf);
	return 0;
}
