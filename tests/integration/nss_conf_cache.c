/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * libnss_pollnet's copy of resolv.conf, on a file of the test's own (no
 * lookup, no network): read once, read again when the file is rewritten
 * in place, replaced, removed or created, never half of one version and
 * half of another under threads (the gcc build runs this under
 * ThreadSanitizer), and a child forked while another thread holds the
 * lock can still look names up.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdatomic.h>
#include <string.h>

static char conf_path[256];
static atomic_int conf_opens;

/* every open of the file, whoever asks */
static FILE *
counting_fopen(const char *path, const char *mode)
{
	if (strcmp(path, conf_path) == 0)
		atomic_fetch_add(&conf_opens, 1);
	return fopen(path, mode);
}

#define fopen counting_fopen
#define RESOLV_CONF conf_path
#include "../../client/nss_pollnet.c"
#undef fopen

#include <setjmp.h>
#include <signal.h>
#include <stddef.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include <cmocka.h>

/* The same size, so that only the inode or the times tell them apart. */
static const char conf_a[] = "nameserver 198.18.0.1\nsearch a.pollnet.test\n";
static const char conf_b[] = "nameserver 198.18.0.3\nsearch b.pollnet.test\n";
static char dir[64];

/* Rewritten in place, as an editor that keeps the inode does. */
static void
write_conf(const char *text)
{
	FILE *f;

	/* past the granularity of the file system's timestamps (a jiffy at
	 * most), so that the rewrite shows in the mtime */
	usleep(20 * 1000);
	f = fopen(conf_path, "w");
	assert_non_null(f);
	assert_true(fputs(text, f) >= 0);
	assert_int_equal(fclose(f), 0);
}

/* Replaced: a new inode under the name, as a DHCP client writes it. */
static void
replace_conf(const char *text)
{
	char tmp[300];
	FILE *f;

	snprintf(tmp, sizeof(tmp), "%s.new", conf_path);
	f = fopen(tmp, "w");
	assert_non_null(f);
	assert_true(fputs(text, f) >= 0);
	assert_int_equal(fclose(f), 0);
	assert_int_equal(rename(tmp, conf_path), 0);
}

/* 'a' or 'b' for a whole version of the file, 'd' for the defaults, '?'
 * for anything else (a mix of two). */
static char
which(const struct conf *c)
{
	uint32_t ns = ntohl(c->ns[0].sin_addr.s_addr);

	if (c->nns == 1 && ns == 0xc6120001 && c->nsearch == 1 &&
	    strcmp(c->search[0], "a.pollnet.test") == 0)
		return 'a';
	if (c->nns == 1 && ns == 0xc6120003 && c->nsearch == 1 &&
	    strcmp(c->search[0], "b.pollnet.test") == 0)
		return 'b';
	if (c->nns == 1 && ns == INADDR_LOOPBACK && c->nsearch == 0)
		return 'd';
	return '?';
}

static char
get(void)
{
	struct conf c;

	conf_get(&c);
	return which(&c);
}

static int
setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/pn-nss-conf.XXXXXX");
	if (mkdtemp(dir) == NULL)
		return -1;
	snprintf(conf_path, sizeof(conf_path), "%s/resolv.conf", dir);
	return 0;
}

static int
teardown(void **state)
{
	char tmp[300];

	(void)state;
	unlink(conf_path);
	snprintf(tmp, sizeof(tmp), "%s.new", conf_path);
	unlink(tmp);
	rmdir(dir);
	return 0;
}

static void
test_read_once(void **state)
{
	(void)state;
	write_conf(conf_a);
	assert_int_equal(atomic_load(&conf_opens), 0);
	for (int i = 0; i < 1000; i++)
		assert_int_equal(get(), 'a');
	assert_int_equal(atomic_load(&conf_opens), 1);
}

static void
test_rewritten_in_place(void **state)
{
	struct stat before, after;
	int opens;

	(void)state;
	write_conf(conf_a);
	assert_int_equal(get(), 'a');
	opens = atomic_load(&conf_opens);
	assert_int_equal(stat(conf_path, &before), 0);
	write_conf(conf_b);
	assert_int_equal(stat(conf_path, &after), 0);
	assert_true(before.st_ino == after.st_ino && before.st_size == after.st_size);
	if (before.st_mtim.tv_sec == after.st_mtim.tv_sec)
		print_message("(the two versions' mtimes differ in nanoseconds only)\n");
	assert_int_equal(get(), 'b');
	for (int i = 0; i < 1000; i++)
		assert_int_equal(get(), 'b');
	assert_int_equal(atomic_load(&conf_opens), opens + 1);
}

static void
test_replaced(void **state)
{
	int opens;

	(void)state;
	write_conf(conf_a);
	assert_int_equal(get(), 'a');
	opens = atomic_load(&conf_opens);
	replace_conf(conf_b);
	assert_int_equal(get(), 'b');
	assert_int_equal(get(), 'b');
	assert_int_equal(atomic_load(&conf_opens), opens + 1);
}

static void
test_missing_then_created(void **state)
{
	int opens;

	(void)state;
	write_conf(conf_a);
	assert_int_equal(get(), 'a');
	assert_int_equal(unlink(conf_path), 0);
	assert_int_equal(get(), 'd');          /* glibc's defaults */
	opens = atomic_load(&conf_opens);
	for (int i = 0; i < 100; i++)
		assert_int_equal(get(), 'd');
	assert_int_equal(atomic_load(&conf_opens), opens);  /* no file, no try */
	write_conf(conf_b);
	assert_int_equal(get(), 'b');
	assert_int_equal(atomic_load(&conf_opens), opens + 1);
}

#define THREADS 4
#define VERSIONS 40

static atomic_int stop, mixed, gets;

static void *
getter(void *arg)
{
	(void)arg;
	while (!atomic_load(&stop)) {
		char w = get();

		if (w != 'a' && w != 'b')
			atomic_fetch_add(&mixed, 1);
		atomic_fetch_add(&gets, 1);
	}
	return NULL;
}

static void
test_threads(void **state)
{
	pthread_t t[THREADS];
	int opens;

	(void)state;
	replace_conf(conf_a);
	assert_int_equal(get(), 'a');
	opens = atomic_load(&conf_opens);
	atomic_store(&stop, 0);
	for (int i = 0; i < THREADS; i++)
		assert_int_equal(pthread_create(&t[i], NULL, getter, NULL), 0);
	for (int v = 1; v <= VERSIONS; v++) {
		usleep(2000);
		replace_conf(v % 2 ? conf_b : conf_a);
	}
	usleep(2000);
	atomic_store(&stop, 1);
	for (int i = 0; i < THREADS; i++)
		assert_int_equal(pthread_join(t[i], NULL), 0);
	print_message("%d lookups' configurations from %d threads, %d readings of %d versions\n",
		      atomic_load(&gets), THREADS, atomic_load(&conf_opens) - opens, VERSIONS);
	assert_int_equal(atomic_load(&mixed), 0);
	assert_int_equal(get(), VERSIONS % 2 ? 'b' : 'a');
	/* a thread whose stat came before another's reading reads once more,
	 * at worst */
	assert_true(atomic_load(&conf_opens) - opens <= VERSIONS * (THREADS + 1));
}

static pthread_mutex_t held_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t held_cv = PTHREAD_COND_INITIALIZER;
static int held;

static void *
holder(void *arg)
{
	(void)arg;
	conf_lock();
	pthread_mutex_lock(&held_mu);
	held = 1;
	pthread_cond_signal(&held_cv);
	pthread_mutex_unlock(&held_mu);
	usleep(200 * 1000);
	conf_unlock();
	return NULL;
}

static void
test_fork_while_held(void **state)
{
	pthread_t t;
	pid_t pid;
	int status;

	(void)state;
	write_conf(conf_a);
	assert_int_equal(get(), 'a');
	assert_int_equal(pthread_create(&t, NULL, holder, NULL), 0);
	pthread_mutex_lock(&held_mu);
	while (!held)
		pthread_cond_wait(&held_cv, &held_mu);
	pthread_mutex_unlock(&held_mu);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		alarm(5);       /* a lock the child inherited taken: SIGALRM */
		/* not _exit(): ThreadSanitizer's would report the holder,
		 * which the child never had, as a thread it did not join */
		syscall(SYS_exit_group, get() == 'a' ? 0 : 1);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_int_equal(pthread_join(t, NULL), 0);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_read_once),
		cmocka_unit_test(test_rewritten_in_place),
		cmocka_unit_test(test_replaced),
		cmocka_unit_test(test_missing_then_created),
		cmocka_unit_test(test_threads),
		cmocka_unit_test(test_fork_while_held),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
