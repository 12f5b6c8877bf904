/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The configuration file (config.h's config_load): every line checked and
 * numbered, then each key set through config_set_from, which config.c owns
 * with every key's meaning.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include <bsd/string.h>
#include <rte_cfgfile.h>
#include <rte_common.h>

/*
 * rte_cfgfile parses; it does not keep line numbers and it silently skips
 * lines it does not understand.  So first index the file: every line must be
 * blank, a comment, "[section]" or "key = value", and we remember the line of
 * each key so that a bad value can be reported where it is.
 */
struct key_line {
	char sec[CFG_NAME_LEN];
	char key[CFG_NAME_LEN];
	int line;
};

static char *
trim(char *s)
{
	char *e;

	while (*s == ' ' || *s == '\t')
		s++;
	e = s + strlen(s);
	while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\n' || e[-1] == '\r'))
		*--e = '\0';
	return s;
}

static int
index_file(const char *path, struct key_line *kl, int max, int *n,
	   char *err, size_t errlen)
{
	char buf[CFG_NAME_LEN + CFG_VALUE_LEN + 4], sec[CFG_NAME_LEN] = "";
	int opened[CONFIG_SECTIONS] = { 0 };     /* the line of each section */
	FILE *f = fopen(path, "r");
	struct stat st;
	int line = 0;

	if (f == NULL) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	if (fstat(fileno(f), &st) == 0 && !S_ISREG(st.st_mode) && !S_ISFIFO(st.st_mode) &&
	    !S_ISCHR(st.st_mode)) {
		snprintf(err, errlen, "%s: not a file (%s)", path,
			 S_ISDIR(st.st_mode) ? "a directory" : "not a regular file");
		fclose(f);
		return -1;
	}
	*n = 0;
	for (;;) {
		char *s, *eq, *hash;
		size_t got = 0;
		int ch = 0, si;

		/* a line, byte by byte: fgets would hide a NUL in it */
		while (got < sizeof(buf) - 1 && (ch = getc(f)) != EOF) {
			buf[got++] = (char)ch;
			if (ch == '\n')
				break;
		}
		if (got == 0 && ch == EOF)
			break;
		buf[got] = '\0';
		line++;
		if (memchr(buf, '\0', got) != NULL) {
			snprintf(err, errlen, "%s:%d: a NUL byte (the file is not text)", path, line);
			goto fail;
		}
		if (buf[got - 1] != '\n' && got == sizeof(buf) - 1 && (ch = getc(f)) != EOF) {
			snprintf(err, errlen, "%s:%d: line too long (max %zu characters)",
				 path, line, sizeof(buf) - 2);
			goto fail;
		}
		hash = strchr(buf, ';');
		if (hash != NULL)
			*hash = '\0';
		s = trim(buf);
		if (*s == '\0' || *s == '#')
			continue;
		if (*s == '[') {
			char *end = strchr(s, ']');

			if (end == NULL || end[1] != '\0' || end == s + 1) {
				snprintf(err, errlen, "%s:%d: expected [section]", path, line);
				goto fail;
			}
			*end = '\0';
			if (strlcpy(sec, trim(s + 1), sizeof(sec)) >= sizeof(sec)) {
				snprintf(err, errlen, "%s:%d: section name too long", path, line);
				goto fail;
			}
			si = config_section_index(sec);
			if (si < 0) {
				snprintf(err, errlen, "%s:%d: [%s]: unknown section (pollnet's "
					 "are " CONFIG_SECTIONS_LIST ")", path, line, sec);
				goto fail;
			}
			/* rte_cfgfile would keep a second block apart and
			 * never find its keys */
			if (opened[si] != 0) {
				snprintf(err, errlen, "%s:%d: [%s]: already opened at line %d "
					 "(one block per section)", path, line, sec, opened[si]);
				goto fail;
			}
			opened[si] = line;
			continue;
		}
		eq = strchr(s, '=');
		if (eq == NULL) {
			snprintf(err, errlen, "%s:%d: expected 'key = value', got '%s'",
				 path, line, s);
			goto fail;
		}
		*eq = '\0';
		if (sec[0] == '\0') {
			snprintf(err, errlen, "%s:%d: '%s' is outside any [section]",
				 path, line, trim(s));
			goto fail;
		}
		if (*trim(eq + 1) == '\0') {
			snprintf(err, errlen, "%s:%d: [%s] %s: no value", path, line, sec, trim(s));
			goto fail;
		}
		s = trim(s);
		for (int i = 0; i < *n; i++) {
			if (strcmp(kl[i].sec, sec) == 0 && strcmp(kl[i].key, s) == 0) {
				snprintf(err, errlen, "%s:%d: [%s] %s: already set at line %d",
					 path, line, sec, s, kl[i].line);
				goto fail;
			}
		}
		if (*n == max) {
			snprintf(err, errlen, "%s:%d: too many keys", path, line);
			goto fail;
		}
		if (strlcpy(kl[*n].key, s, sizeof(kl[*n].key)) >= sizeof(kl[*n].key)) {
			snprintf(err, errlen, "%s:%d: key name too long", path, line);
			goto fail;
		}
		strlcpy(kl[*n].sec, sec, sizeof(kl[*n].sec));
		kl[*n].line = line;
		(*n)++;
	}
	fclose(f);
	return 0;
fail:
	fclose(f);
	return -1;
}

int
config_load(struct pn_config *c, const char *path, char *err, size_t errlen)
{
	struct key_line kl[64];
	struct rte_cfgfile_parameters params = { .comment_character = ';' };
	struct rte_cfgfile *cf;
	int n, rc = 0;

	if (index_file(path, kl, RTE_DIM(kl), &n, err, errlen) < 0)
		return -1;
	cf = rte_cfgfile_load_with_params(path, 0, &params);
	if (cf == NULL) {
		snprintf(err, errlen, "%s: rte_cfgfile cannot parse it", path);
		return -1;
	}
	for (int i = 0; i < n && rc == 0; i++) {
		const char *v = rte_cfgfile_get_entry(cf, kl[i].sec, kl[i].key);
		char why[256];

		if (v == NULL) {
			snprintf(err, errlen, "%s:%d: rte_cfgfile lost '%s'",
				 path, kl[i].line, kl[i].key);
			rc = -1;
		} else {
			char from[sizeof(c->ip_from)];

			char name[2 * CFG_NAME_LEN + 1];

			snprintf(from, sizeof(from), "%s:%d: [%s] %s", path, kl[i].line,
				 kl[i].sec, kl[i].key);
			snprintf(name, sizeof(name), "%s.%s", kl[i].sec, kl[i].key);
			if (config_set_from(c, from, name, v, why, sizeof(why)) < 0) {
				snprintf(err, errlen, "%s: %s", from, why);
				rc = -1;
			}
		}
	}
	rte_cfgfile_close(cf);
	return rc;
}
