/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The packet decoder and its two formats on arbitrary bytes, as a reader
 * gets them from the log: byte 0 says how many of the rest are the frame's
 * first bytes (x 2), bytes 1-2 its length on the wire (which may be more,
 * or nonsense), byte 3 how big the line buffer is.  Checks: the decoder
 * never reads past what is there (ASan: the bytes are copied to a block of
 * their exact size), lines and JSON are NUL-terminated within their
 * buffers and free of control characters, JSON's string values have no
 * quote or backslash in them.  And what the lcores keep of a frame
 * (pkt_headers_len(): the headers, no payload) decodes to the same line
 * and the same JSON as all the bytes there are, but for caplen.
 */
#include <stdlib.h>
#include <string.h>

#include "fuzz_env.h"
#include "summary.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check_text(const char *s, size_t size, const char *what)
{
	size_t l = strnlen(s, size);

	FUZZ_CHECK(size == 0 || l < size, "%s: NUL-terminated in its buffer", what);
	for (size_t i = 0; i < l; i++)
		FUZZ_CHECK((unsigned char)s[i] >= 0x20 && s[i] != 0x7f,
			   "%s: a control character at %zu", what, i);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_in in = { data, size };
	size_t caplen = (size_t)fuzz_u8(&in) * 2, got;
	uint32_t len = fuzz_u16(&in);
	size_t bsize = fuzz_u8(&in);
	const uint8_t *f = fuzz_bytes(&in, caplen, &got);
	uint8_t *frame = malloc(got ? got : 1);
	char *line = malloc(bsize ? bsize : 1), json[2048];
	struct pkt_summary ps;

	FUZZ_CHECK(frame != NULL && line != NULL, "out of memory");
	memcpy(frame, f, got);
	pkt_summarize(&ps, frame, (uint32_t)got, len, (data[0] & 1) ? PKT_TX : PKT_RX, 12345);
	FUZZ_CHECK(pkt_summary_format(&ps, line, bsize) >= 0, "format failed");
	check_text(line, bsize, "line");
	FUZZ_CHECK(pkt_summary_json(&ps, json, sizeof(json)) < (int)sizeof(json),
		   "the JSON fits 2048 bytes");
	check_text(json, sizeof(json), "json");
	/* every string value is one of ours: no quote or backslash inside */
	for (const char *p = strstr(json, ": \""); p != NULL; p = strstr(p, ": \"")) {
		const char *end = strchr(p + 3, '"');

		FUZZ_CHECK(end != NULL, "a JSON string is closed");
		FUZZ_CHECK(memchr(p + 3, '\\', (size_t)(end - p - 3)) == NULL, "no backslash");
		p = end + 1;
	}
	if (len >= got) {
		/* the log's copy: the headers of a frame of which got bytes are
		 * there (len >= got: these are its first bytes) */
		uint32_t h = pkt_headers_len(frame, (uint32_t)got);
		struct pkt_summary hs;
		char hline[1024], wline[1024], hjson[2048];

		FUZZ_CHECK(h <= got, "headers within the frame");
		pkt_summarize(&hs, frame, h, len, ps.dir, 12345);
		hs.caplen = ps.caplen;
		pkt_summary_format(&ps, wline, sizeof(wline));
		pkt_summary_format(&hs, hline, sizeof(hline));
		FUZZ_CHECK(strcmp(wline, hline) == 0, "headers decode as the frame: '%s' vs '%s'",
			   wline, hline);
		pkt_summary_json(&hs, hjson, sizeof(hjson));
		FUZZ_CHECK(strcmp(json, hjson) == 0, "headers' JSON as the frame's: '%s' vs '%s'",
			   json, hjson);
	}
	free(frame);
	free(line);
	return 0;
}
