/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The packet summary, its one-line formatter and the filter parser, on
 * arbitrary bytes: byte 0 says how many of the rest are the frame (x 8),
 * byte 1 how big the line buffer is; what remains is a filter expression,
 * split at spaces.  Checks: the summary never reads past the frame (ASan:
 * the frame is copied to a buffer of its exact length), the line is
 * NUL-terminated within its buffer and has no control characters, a filter
 * either parses or says why, and matching never fails.
 */
#include <stdlib.h>
#include <string.h>

#include "fuzz_env.h"
#include "summary.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_in in = { data, size };
	size_t flen = (size_t)fuzz_u8(&in) * 8, bsize = fuzz_u8(&in), got;
	const uint8_t *f = fuzz_bytes(&in, flen, &got);
	uint8_t *frame = malloc(got ? got : 1);
	char *line = malloc(bsize ? bsize : 1), text[512], *argv[32], err[256], *save = NULL;
	struct pkt_summary ps;
	struct pkt_filter filt;
	int argc = 0, n;

	FUZZ_CHECK(frame != NULL && line != NULL, "out of memory");
	memcpy(frame, f, got);
	pkt_summarize(&ps, frame, (uint32_t)got, (data[0] & 1) ? PKT_TX : PKT_RX, 12345);
	n = pkt_summary_format(&ps, line, bsize);
	FUZZ_CHECK(n >= 0, "format failed");
	if (bsize > 0) {
		size_t l = strnlen(line, bsize);

		FUZZ_CHECK(l < bsize, "the line is NUL-terminated in its buffer");
		for (size_t i = 0; i < l; i++)
			FUZZ_CHECK((unsigned char)line[i] >= 0x20 && line[i] != 0x7f,
				   "a control character in the line");
	}
	/* the rest: a filter */
	const uint8_t *t = fuzz_bytes(&in, sizeof(text) - 1, &got);

	memcpy(text, t, got);
	text[got] = '\0';
	for (char *w = strtok_r(text, " ", &save); w != NULL && argc < 32;
	     w = strtok_r(NULL, " ", &save))
		argv[argc++] = w;
	err[0] = '\0';
	if (pkt_filter_parse(&filt, argc, argv, err, sizeof(err)) == 0)
		(void)pkt_filter_match(&filt, &ps);
	else
		FUZZ_CHECK(err[0] != '\0', "a refused filter says why");
	free(frame);
	free(line);
	return 0;
}
