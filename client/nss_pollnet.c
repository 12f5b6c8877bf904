/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * libnss_pollnet: host lookups over DNS for programs under pollnet-run.
 *
 * glibc's own DNS module opens and drives its socket through libc's
 * internal entry points, which no LD_PRELOAD library can stand in for: a
 * program's name lookups would go through the kernel (and in a guest whose
 * NIC pollnet drives, the kernel has no network at all).  This module asks
 * the nameservers of /etc/resolv.conf with the ordinary socket calls, which
 * pollnet-run's library turns into a pollnet socket.  That library loads it
 * and puts it where "dns" was on the hosts line of nsswitch.conf (with
 * __nss_configure_lookup), so everything glibc builds on top of it
 * (getaddrinfo, gethostbyname*, gethostbyaddr, getnameinfo) goes through
 * pollnet.
 *
 * What it does: A, AAAA and PTR questions over UDP, CNAME chains, the search
 * list with ndots, timeout and attempts, up to three IPv4 nameservers (pollnet
 * has no IPv6), resolv.conf read once and again when it changes.  Not: TCP
 * for a truncated answer (the lookup fails with TRY_AGAIN: pollnet carries
 * UDP only), EDNS0, rotate, RES_OPTIONS and LOCALDOMAIN.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <arpa/nameser.h>
#include <ctype.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <nss.h>
#include <poll.h>
#include <pthread.h>
#include <resolv.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define MAX_NS 3
#define MAX_SEARCH 6
#define MAX_ADDRS 32
#define MAX_NAMES 8
#define ANS_MAX 1472            /* a whole datagram: pollnet's largest */
#ifndef RESOLV_CONF                     /* a test reads a file of its own */
#define RESOLV_CONF "/etc/resolv.conf"
#endif

struct conf {
	struct sockaddr_in ns[MAX_NS];
	int nns;
	char search[MAX_SEARCH][NS_MAXDNAME];
	int nsearch;
	int ndots, timeout_s, attempts;
};

/* What an answer gave for one question. */
struct result {
	char canon[NS_MAXDNAME];        /* the name the records are for */
	char names[MAX_NAMES][NS_MAXDNAME]; /* CNAMEs followed, or PTR targets */
	int nnames;
	uint8_t addr[MAX_ADDRS][16];
	int naddr;
	int32_t ttl;
};

enum outcome { O_FOUND, O_NODATA, O_NXDOMAIN, O_FAILED, O_TRUNCATED, O_NOSOCKET };

static void
debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static void
debug(const char *fmt, ...)
{
	const char *d = getenv("POLLNET_PRELOAD_DEBUG");
	va_list ap;

	if (d == NULL || *d == '\0' || strcmp(d, "0") == 0)
		return;
	fprintf(stderr, "pollnet-run[%d]: dns: ", (int)getpid());
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

/* Which version of resolv.conf a configuration was read from, told apart
 * as glibc's resolver tells them (file_change_detection): rewritten in
 * place, the size or the modification time changes (the time to the
 * nanosecond, where the file system keeps it); replaced, the inode; the
 * change time catches a rewrite that set the mtime back. */
struct conf_stamp {
	int exists;
	dev_t dev;
	ino_t ino;
	off_t size;
	struct timespec mtime, ctime;
};

static void
stamp_of(struct conf_stamp *s, const struct stat *st)
{
	memset(s, 0, sizeof(*s));
	if (st == NULL)
		return;
	s->exists = 1;
	s->dev = st->st_dev;
	s->ino = st->st_ino;
	s->size = st->st_size;
	s->mtime = st->st_mtim;
	s->ctime = st->st_ctim;
}

static int
same_stamp(const struct conf_stamp *a, const struct conf_stamp *b)
{
	return a->exists == b->exists && a->dev == b->dev && a->ino == b->ino &&
	       a->size == b->size && a->mtime.tv_sec == b->mtime.tv_sec &&
	       a->mtime.tv_nsec == b->mtime.tv_nsec && a->ctime.tv_sec == b->ctime.tv_sec &&
	       a->ctime.tv_nsec == b->ctime.tv_nsec;
}

/* resolv.conf's configuration into c, and the version it was read from
 * into s: the file's as it was opened, before it was parsed, so that a
 * write racing the parse shows as a change at the next lookup.  A file
 * that cannot be opened gives glibc's defaults, stamped with what stat
 * says (st: NULL when there is no file), until that changes. */
static void
read_conf(struct conf *c, struct conf_stamp *s, const struct stat *st)
{
	char line[1024];
	/* c: neither the open nor the reads are cancellation points, so that a
	 * thread cancelled in a lookup never leaves the lock below taken */
	FILE *f = fopen(RESOLV_CONF, "rce");
	struct stat fst;

	memset(c, 0, sizeof(*c));
	c->ndots = 1;
	c->timeout_s = 5;
	c->attempts = 2;
	stamp_of(s, f != NULL && fstat(fileno(f), &fst) == 0 ? &fst : st);
	while (f != NULL && fgets(line, sizeof(line), f) != NULL) {
		char *save = NULL, *key = strtok_r(line, " \t\r\n", &save), *v;

		if (key == NULL || key[0] == '#' || key[0] == ';')
			continue;
		if (strcmp(key, "nameserver") == 0) {
			v = strtok_r(NULL, " \t\r\n", &save);
			if (v != NULL && c->nns < MAX_NS &&
			    inet_pton(AF_INET, v, &c->ns[c->nns].sin_addr) == 1) {
				c->ns[c->nns].sin_family = AF_INET;
				c->ns[c->nns++].sin_port = htons(NS_DEFAULTPORT);
			}
		} else if (strcmp(key, "search") == 0 || strcmp(key, "domain") == 0) {
			c->nsearch = 0;         /* the last of them wins, as in glibc */
			while ((v = strtok_r(NULL, " \t\r\n", &save)) != NULL &&
			       c->nsearch < (key[0] == 'd' ? 1 : MAX_SEARCH))
				if (strlen(v) < NS_MAXDNAME - 1)
					strcpy(c->search[c->nsearch++], v);
		} else if (strcmp(key, "options") == 0) {
			while ((v = strtok_r(NULL, " \t\r\n", &save)) != NULL) {
				int n;

				if (sscanf(v, "ndots:%d", &n) == 1)
					c->ndots = n < 0 ? 0 : n > 15 ? 15 : n;
				else if (sscanf(v, "timeout:%d", &n) == 1)
					c->timeout_s = n < 1 ? 1 : n > 30 ? 30 : n;
				else if (sscanf(v, "attempts:%d", &n) == 1)
					c->attempts = n < 1 ? 1 : n > 5 ? 5 : n;
			}
		}
	}
	if (f != NULL)
		fclose(f);
	if (c->nns == 0) {              /* glibc's default: this host */
		c->ns[0].sin_family = AF_INET;
		c->ns[0].sin_port = htons(NS_DEFAULTPORT);
		c->ns[0].sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		c->nns = 1;
	}
}

/* The configuration, read at the first lookup and again only when
 * resolv.conf changed (a stat per lookup, as glibc's resolver does).
 * Lookups come from any thread: the lock covers the reading and the copy
 * each lookup takes; fork holds it (conf_atfork) so that a child never
 * starts with it taken by a thread it does not have. */
static struct {
	pthread_mutex_t lock;
	int loaded;
	struct conf_stamp stamp;
	struct conf conf;
} conf_cache = { .lock = PTHREAD_MUTEX_INITIALIZER };
static pthread_once_t conf_atfork_once = PTHREAD_ONCE_INIT;

static void
conf_lock(void)
{
	pthread_mutex_lock(&conf_cache.lock);
}

static void
conf_unlock(void)
{
	pthread_mutex_unlock(&conf_cache.lock);
}

static void
conf_atfork(void)
{
	pthread_atfork(conf_lock, conf_unlock, conf_unlock);
}

static void
conf_get(struct conf *c)
{
	struct conf_stamp now;
	struct stat st;
	int exists, fresh = 0;

	pthread_once(&conf_atfork_once, conf_atfork);
	/* outside the lock: a stale stat costs at most one more reading */
	exists = stat(RESOLV_CONF, &st) == 0;
	stamp_of(&now, exists ? &st : NULL);
	conf_lock();
	if (!conf_cache.loaded || !same_stamp(&now, &conf_cache.stamp)) {
		read_conf(&conf_cache.conf, &conf_cache.stamp, exists ? &st : NULL);
		conf_cache.loaded = 1;
		fresh = 1;
	}
	*c = conf_cache.conf;
	conf_unlock();
	if (fresh)
		debug("%s read: %d nameserver(s), %d search domain(s)", RESOLV_CONF, c->nns,
		      c->nsearch);
}

/* A question for name (absolute or not: the same), -1 if it is no name. */
static int
make_query(uint8_t *q, size_t size, uint16_t id, const char *name, int type)
{
	size_t n = 12, len = strlen(name);
	const char *p = name;

	if (len > 0 && name[len - 1] == '.')
		len--;
	if (len == 0 || len > 253 || size < 12 + len + 2 + 4)
		return -1;
	memset(q, 0, 12);
	q[0] = (uint8_t)(id >> 8);
	q[1] = (uint8_t)id;
	q[2] = 0x01;                    /* RD */
	q[5] = 1;                       /* one question */
	while (p < name + len) {
		const char *dot = memchr(p, '.', (size_t)(name + len - p));
		size_t l = (size_t)((dot != NULL ? dot : name + len) - p);

		if (l == 0 || l > 63)
			return -1;
		q[n++] = (uint8_t)l;
		memcpy(q + n, p, l);
		n += l;
		p += l + 1;
	}
	q[n++] = 0;
	q[n++] = (uint8_t)(type >> 8);
	q[n++] = (uint8_t)type;
	q[n++] = 0;
	q[n++] = ns_c_in;
	return (int)n;
}

static int
same_name(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);

	if (la > 0 && a[la - 1] == '.')
		la--;
	if (lb > 0 && b[lb - 1] == '.')
		lb--;
	return la == lb && strncasecmp(a, b, la) == 0;
}

static uint16_t
get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

/* The records of answer a (n bytes) for question name, type. */
static enum outcome
parse(const uint8_t *a, int n, const char *name, int type, struct result *r)
{
	const uint8_t *p = a + 12, *end = a + n;
	char owner[NS_MAXDNAME];
	int qd = get16(a + 4), an = get16(a + 6), k;

	memset(r, 0, sizeof(*r));
	snprintf(r->canon, sizeof(r->canon), "%s", name);
	r->ttl = INT32_MAX;
	for (int i = 0; i < qd; i++) {
		if ((k = dn_skipname(p, end)) < 0 || end - p < k + 4)
			return O_FAILED;
		p += k + 4;
	}
	for (int i = 0; i < an; i++) {
		uint16_t t, rdlen;
		int32_t ttl;

		if ((k = dn_expand(a, end, p, owner, sizeof(owner))) < 0 || end - p < k + 10)
			return O_FAILED;
		p += k;
		t = get16(p);
		ttl = (int32_t)((uint32_t)get16(p + 4) << 16 | get16(p + 6));
		rdlen = get16(p + 8);
		p += 10;
		if (end - p < rdlen)
			return O_FAILED;
		if (get16(p - 8) == ns_c_in && same_name(owner, r->canon)) {
			if (t == ns_t_cname && type != ns_t_cname) {
				/* the chain goes on from its target (the names
				 * it went through are a host's aliases) */
				if (type != ns_t_ptr && r->nnames < MAX_NAMES)
					strcpy(r->names[r->nnames++], r->canon);
				if (dn_expand(a, end, p, r->canon, sizeof(r->canon)) < 0)
					return O_FAILED;
			} else if (t == type && type == ns_t_a && rdlen == 4 && r->naddr < MAX_ADDRS) {
				memcpy(r->addr[r->naddr++], p, 4);
			} else if (t == type && type == ns_t_aaaa && rdlen == 16 &&
				   r->naddr < MAX_ADDRS) {
				memcpy(r->addr[r->naddr++], p, 16);
			} else if (t == type && type == ns_t_ptr && r->nnames < MAX_NAMES) {
				if (dn_expand(a, end, p, r->names[r->nnames], NS_MAXDNAME) < 0)
					return O_FAILED;
				r->nnames++;
				r->naddr++;     /* counts as found */
			} else {
				ttl = INT32_MAX;
			}
			if (ttl >= 0 && ttl < r->ttl)
				r->ttl = ttl;
		}
		p += rdlen;
	}
	if (r->ttl == INT32_MAX)
		r->ttl = 0;
	return r->naddr > 0 ? O_FOUND : O_NODATA;
}

/* Ask the nameservers about exactly this name. */
static enum outcome
ask(const struct conf *c, const char *name, int type, struct result *r)
{
	uint8_t q[NS_MAXDNAME + 32], a[ANS_MAX];
	enum outcome worst = O_FAILED;
	uint16_t id;
	int qlen, fd;

	if (getrandom(&id, sizeof(id), GRND_NONBLOCK) != sizeof(id))
		id = (uint16_t)(getpid() ^ time(NULL));
	qlen = make_query(q, sizeof(q), id, name, type);
	if (qlen < 0)
		return O_NXDOMAIN;        /* no such name can exist */
	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		debug("socket: %s", strerror(errno));
		return O_NOSOCKET;
	}
	for (int t = 0; t < c->attempts; t++) {
		for (int i = 0; i < c->nns; i++) {
			const struct sockaddr_in *ns = &c->ns[i];
			struct timespec t0, now;
			int left = c->timeout_s * 1000;

			if (sendto(fd, q, (size_t)qlen, 0, (const struct sockaddr *)ns,
				   sizeof(*ns)) < 0) {
				debug("sendto %s: %s", inet_ntoa(ns->sin_addr), strerror(errno));
				continue;
			}
			clock_gettime(CLOCK_MONOTONIC, &t0);
			while (left > 0) {
				struct pollfd pfd = { .fd = fd, .events = POLLIN };
				struct sockaddr_in from;
				socklen_t fl = sizeof(from);
				ssize_t n;
				int rcode;

				if (poll(&pfd, 1, left) <= 0 && errno != EINTR)
					break;
				clock_gettime(CLOCK_MONOTONIC, &now);
				left = c->timeout_s * 1000 - (int)((now.tv_sec - t0.tv_sec) * 1000 +
								  (now.tv_nsec - t0.tv_nsec) / 1000000);
				n = recvfrom(fd, a, sizeof(a), MSG_DONTWAIT, (struct sockaddr *)&from,
					     &fl);
				/* only this server's answer to this question */
				if (n < 12 || from.sin_addr.s_addr != ns->sin_addr.s_addr ||
				    from.sin_port != ns->sin_port || get16(a) != id ||
				    !(a[2] & 0x80) || get16(a + 4) != 1 ||
				    n < qlen || memcmp(a + 12, q + 12, (size_t)qlen - 12) != 0)
					continue;
				rcode = a[3] & 0x0f;
				if (a[2] & 0x02) {      /* TC: the rest needs TCP */
					debug("%s: the answer was truncated (no TCP on pollnet)", name);
					worst = O_TRUNCATED;
					break;
				}
				if (rcode == ns_r_nxdomain) {
					close(fd);
					return O_NXDOMAIN;
				}
				if (rcode != ns_r_noerror) {
					debug("%s: %s says rcode %d", name, inet_ntoa(ns->sin_addr), rcode);
					break;          /* the next server */
				}
				close(fd);
				return parse(a, (int)n, name, type, r);
			}
		}
	}
	close(fd);
	debug("%s: no answer", name);
	return worst;
}

/* The name through the search list, as glibc's resolver walks it. */
static enum outcome
lookup(const char *name, int type, struct result *r)
{
	struct conf c;
	enum outcome o, seen = O_NXDOMAIN;
	char full[NS_MAXDNAME];
	int dots = 0;
	size_t len = strlen(name);

	conf_get(&c);
	for (const char *p = name; *p; p++)
		dots += *p == '.';
	if (len > 0 && name[len - 1] == '.')
		return ask(&c, name, type, r);
	if (dots >= c.ndots) {
		o = ask(&c, name, type, r);
		if (o != O_NXDOMAIN && o != O_NODATA)
			return o;
		seen = o;
	}
	for (int i = 0; i < c.nsearch; i++) {
		if (snprintf(full, sizeof(full), "%s.%s", name, c.search[i]) >= (int)sizeof(full))
			continue;
		o = ask(&c, full, type, r);
		if (o != O_NXDOMAIN && o != O_NODATA)
			return o;
		if (o == O_NODATA)
			seen = O_NODATA;
	}
	if (dots < c.ndots) {
		o = ask(&c, name, type, r);
		if (o != O_NXDOMAIN && o != O_NODATA)
			return o;
		if (o == O_NODATA)
			seen = O_NODATA;
	}
	return seen;
}

static enum nss_status
failed(enum outcome o, int *errnop, int *herrnop)
{
	switch (o) {
	case O_NXDOMAIN:
		*errnop = ENOENT;
		*herrnop = HOST_NOT_FOUND;
		return NSS_STATUS_NOTFOUND;
	case O_NODATA:
		*errnop = ENOENT;
		*herrnop = NO_DATA;
		return NSS_STATUS_NOTFOUND;
	case O_NOSOCKET:
		*errnop = errno;
		*herrnop = NO_RECOVERY;
		return NSS_STATUS_UNAVAIL;
	default:
		*errnop = EAGAIN;
		*herrnop = TRY_AGAIN;
		return NSS_STATUS_TRYAGAIN;
	}
}

/* Room in the caller's buffer. */
struct room {
	char *p;
	size_t left;
};

static void *
take(struct room *b, size_t size, size_t align)
{
	size_t pad = (align - (uintptr_t)b->p % align) % align;
	void *v;

	if (b->left < pad + size)
		return NULL;
	v = b->p + pad;
	b->p += pad + size;
	b->left -= pad + size;
	return v;
}

static char *
take_str(struct room *b, const char *s)
{
	char *d = take(b, strlen(s) + 1, 1);

	if (d != NULL)
		strcpy(d, s);
	return d;
}

static enum nss_status
erange(int *errnop, int *herrnop)
{
	*errnop = ERANGE;
	*herrnop = NETDB_INTERNAL;
	return NSS_STATUS_TRYAGAIN;
}

/* hostent from r: the addresses (len bytes each), or for a PTR answer the
 * one address asked about (addr). */
static enum nss_status
fill_hostent(const struct result *r, int af, const void *addr, struct hostent *h, char *buf,
	     size_t buflen, int *errnop, int *herrnop)
{
	struct room b = { buf, buflen };
	int len = af == AF_INET6 ? 16 : 4, naddr = addr != NULL ? 1 : r->naddr;
	int ptr = addr != NULL, nalias = ptr ? r->nnames - 1 : r->nnames;
	char **aliases = take(&b, sizeof(char *) * (size_t)(nalias + 1), sizeof(char *));
	char **list = take(&b, sizeof(char *) * (size_t)(naddr + 1), sizeof(char *));

	if (aliases == NULL || list == NULL)
		return erange(errnop, herrnop);
	h->h_name = take_str(&b, ptr ? r->names[0] : r->canon);
	for (int i = 0; i < nalias; i++)
		if ((aliases[i] = take_str(&b, r->names[ptr ? i + 1 : i])) == NULL)
			return erange(errnop, herrnop);
	aliases[nalias] = NULL;
	for (int i = 0; i < naddr; i++) {
		if ((list[i] = take(&b, (size_t)len, 1)) == NULL)
			return erange(errnop, herrnop);
		memcpy(list[i], ptr ? addr : r->addr[i], (size_t)len);
	}
	list[naddr] = NULL;
	if (h->h_name == NULL)
		return erange(errnop, herrnop);
	h->h_aliases = aliases;
	h->h_addrtype = af;
	h->h_length = len;
	h->h_addr_list = list;
	return NSS_STATUS_SUCCESS;
}

enum nss_status _nss_pollnet_gethostbyname3_r(const char *name, int af, struct hostent *h,
					      char *buf, size_t buflen, int *errnop,
					      int *herrnop, int32_t *ttlp, char **canonp);
enum nss_status _nss_pollnet_gethostbyname2_r(const char *name, int af, struct hostent *h,
					      char *buf, size_t buflen, int *errnop,
					      int *herrnop);
enum nss_status _nss_pollnet_gethostbyname_r(const char *name, struct hostent *h, char *buf,
					     size_t buflen, int *errnop, int *herrnop);
enum nss_status _nss_pollnet_gethostbyname4_r(const char *name, struct gaih_addrtuple **pat,
					      char *buf, size_t buflen, int *errnop,
					      int *herrnop, int32_t *ttlp);
enum nss_status _nss_pollnet_gethostbyaddr2_r(const void *addr, socklen_t len, int af,
					      struct hostent *h, char *buf, size_t buflen,
					      int *errnop, int *herrnop, int32_t *ttlp);
enum nss_status _nss_pollnet_gethostbyaddr_r(const void *addr, socklen_t len, int af,
					     struct hostent *h, char *buf, size_t buflen,
					     int *errnop, int *herrnop);

enum nss_status
_nss_pollnet_gethostbyname3_r(const char *name, int af, struct hostent *h, char *buf,
			      size_t buflen, int *errnop, int *herrnop, int32_t *ttlp,
			      char **canonp)
{
	struct result r;
	enum outcome o;
	enum nss_status st;

	if (af != AF_INET && af != AF_INET6) {
		*errnop = EAFNOSUPPORT;
		*herrnop = NO_DATA;
		return NSS_STATUS_UNAVAIL;
	}
	o = lookup(name, af == AF_INET ? ns_t_a : ns_t_aaaa, &r);
	if (o != O_FOUND)
		return failed(o, errnop, herrnop);
	st = fill_hostent(&r, af, NULL, h, buf, buflen, errnop, herrnop);
	if (st == NSS_STATUS_SUCCESS) {
		if (ttlp != NULL)
			*ttlp = r.ttl;
		if (canonp != NULL)
			*canonp = h->h_name;
	}
	return st;
}

enum nss_status
_nss_pollnet_gethostbyname2_r(const char *name, int af, struct hostent *h, char *buf,
			      size_t buflen, int *errnop, int *herrnop)
{
	return _nss_pollnet_gethostbyname3_r(name, af, h, buf, buflen, errnop, herrnop, NULL, NULL);
}

enum nss_status
_nss_pollnet_gethostbyname_r(const char *name, struct hostent *h, char *buf, size_t buflen,
			     int *errnop, int *herrnop)
{
	return _nss_pollnet_gethostbyname3_r(name, AF_INET, h, buf, buflen, errnop, herrnop,
					     NULL, NULL);
}

/* getaddrinfo's: both families, as one list. */
enum nss_status
_nss_pollnet_gethostbyname4_r(const char *name, struct gaih_addrtuple **pat, char *buf,
			      size_t buflen, int *errnop, int *herrnop, int32_t *ttlp)
{
	static const int types[2] = { ns_t_a, ns_t_aaaa };
	struct room b = { buf, buflen };
	struct result r[2];
	enum outcome o[2];
	char *canon = NULL;
	int32_t ttl = INT32_MAX;

	for (int t = 0; t < 2; t++) {
		o[t] = lookup(name, types[t], &r[t]);
		if (o[t] == O_NOSOCKET || o[t] == O_TRUNCATED || (o[t] == O_FAILED && t == 0))
			return failed(o[t], errnop, herrnop);
	}
	if (o[0] != O_FOUND && o[1] != O_FOUND)
		return failed(o[0] == O_NODATA || o[1] == O_NODATA ? O_NODATA : o[0], errnop, herrnop);
	for (int t = 0; t < 2; t++) {
		if (o[t] != O_FOUND)
			continue;
		if (canon == NULL && (canon = take_str(&b, r[t].canon)) == NULL)
			return erange(errnop, herrnop);
		if (r[t].ttl < ttl)
			ttl = r[t].ttl;
		for (int i = 0; i < r[t].naddr; i++) {
			struct gaih_addrtuple *at = *pat;

			if (at == NULL) {
				at = take(&b, sizeof(*at), _Alignof(struct gaih_addrtuple));
				if (at == NULL)
					return erange(errnop, herrnop);
				*pat = at;
			}
			at->next = NULL;
			at->name = i == 0 && t == (o[0] == O_FOUND ? 0 : 1) ? canon : NULL;
			at->family = t == 0 ? AF_INET : AF_INET6;
			memset(at->addr, 0, sizeof(at->addr));
			memcpy(at->addr, r[t].addr[i], t == 0 ? 4 : 16);
			at->scopeid = 0;
			pat = &at->next;
		}
	}
	if (ttlp != NULL)
		*ttlp = ttl;
	return NSS_STATUS_SUCCESS;
}

enum nss_status
_nss_pollnet_gethostbyaddr2_r(const void *addr, socklen_t len, int af, struct hostent *h,
			      char *buf, size_t buflen, int *errnop, int *herrnop, int32_t *ttlp)
{
	const uint8_t *a = addr;
	char name[80], *p = name;
	struct result r;
	enum outcome o;
	enum nss_status st;
	struct conf c;

	if ((af == AF_INET && len == 4) || (af == AF_INET6 && len == 16 &&
	    IN6_IS_ADDR_V4MAPPED((const struct in6_addr *)addr))) {
		const uint8_t *v4 = a + (len == 16 ? 12 : 0);

		snprintf(name, sizeof(name), "%u.%u.%u.%u.in-addr.arpa", v4[3], v4[2], v4[1], v4[0]);
	} else if (af == AF_INET6 && len == 16) {
		for (int i = 15; i >= 0; i--)
			p += sprintf(p, "%x.%x.", a[i] & 0xf, a[i] >> 4);
		strcpy(p, "ip6.arpa");
	} else {
		*errnop = EAFNOSUPPORT;
		*herrnop = NO_RECOVERY;
		return NSS_STATUS_UNAVAIL;
	}
	conf_get(&c);
	o = ask(&c, name, ns_t_ptr, &r);
	if (o != O_FOUND)
		return failed(o, errnop, herrnop);
	st = fill_hostent(&r, af, addr, h, buf, buflen, errnop, herrnop);
	if (st == NSS_STATUS_SUCCESS && ttlp != NULL)
		*ttlp = r.ttl;
	return st;
}

enum nss_status
_nss_pollnet_gethostbyaddr_r(const void *addr, socklen_t len, int af, struct hostent *h,
			     char *buf, size_t buflen, int *errnop, int *herrnop)
{
	return _nss_pollnet_gethostbyaddr2_r(addr, len, af, h, buf, buflen, errnop, herrnop, NULL);
}
