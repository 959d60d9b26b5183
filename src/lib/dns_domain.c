/* dns_domain.c: which part of an MX host's name its owner registered, so the ISPDB can be asked
 * about the provider ("google.com" for "aspmx.l.google.com"); "the last two labels" is wrong for
 * co.uk and its like, so the Public Suffix List decides when libpsl is there. */
#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "dns_domain.h"

/* libpsl's API, declared here: Debian ships libpsl5 (curl depends on it) but its header only in
 * libpsl-dev, and these two calls are all outbox needs. */
typedef struct psl_ctx_st psl_ctx_t;

static struct {
	void *handle;
	const psl_ctx_t *ctx;
	const char *(*registrable)(const psl_ctx_t *, const char *);
} psl;
static pthread_once_t psl_once = PTHREAD_ONCE_INIT;

static void psl_load(void)
{
	void *handle = dlopen("libpsl.so.5", RTLD_NOW | RTLD_LOCAL);
	psl_ctx_t *(*latest)(const char *);

	if (handle == NULL)
		return;
	*(void **)&latest = dlsym(handle, "psl_latest");
	*(void **)&psl.registrable = dlsym(handle, "psl_registrable_domain");
	/* psl_latest(NULL): the newer of the distribution's list and the library's built-in one. It
	 * is kept for the process's life, as the list is needed again for every MX host. */
	if (latest != NULL && psl.registrable != NULL && (psl.ctx = latest(NULL)) != NULL) {
		psl.handle = handle;
		return;
	}
	dlclose(handle);
}

static int lowered(const char *host, char *out, size_t size)
{
	size_t len = strlen(host), i;

	if (len == 0 || len >= size)
		return -1;
	for (i = 0; i <= len; i++)
		out[i] = (char)((host[i] >= 'A' && host[i] <= 'Z') ? host[i] - 'A' + 'a' : host[i]);
	return 0;
}

static int is_generic_second_level(const char *label, size_t len)
{
	static const char *const generic[] = {"co", "com", "net", "org", "gov", "edu", "ac",
					       "ne", "or", "go", "ltd", "plc", NULL};
	size_t i;

	for (i = 0; generic[i]; i++)
		if (strlen(generic[i]) == len && strncmp(generic[i], label, len) == 0)
			return 1;
	return 0;
}

int dns_domain_rule(const char *host, char *out, size_t size)
{
	char name[256];
	const char *dot[3] = {NULL, NULL, NULL}; /* the last three dots, nearest the end first */
	const char *p, *start;
	size_t want;
	int dots = 0;

	if (size > 0)
		out[0] = '\0';
	if (lowered(host, name, sizeof name) != 0)
		return -1;
	for (p = name + strlen(name); p > name && dots < 3;)
		if (*--p == '.')
			dot[dots++] = p;
	if (dots == 0)
		return -1; /* one label: a top-level domain */
	want = 2;
	/* name = ... X . SLD . TLD: is TLD two letters and SLD generic? */
	if (strlen(dot[0] + 1) == 2) {
		const char *sld = dot[1] ? dot[1] + 1 : name;

		if (is_generic_second_level(sld, (size_t)(dot[0] - sld)))
			want = 3;
	}
	if ((size_t)dots + 1 < want)
		return -1; /* "co.uk" itself is a suffix */
	start = (size_t)dots + 1 == want ? name : dot[want - 1] + 1;
	if (strlen(start) >= size)
		return -1;
	memcpy(out, start, strlen(start) + 1);
	return 0;
}

int dns_domain_registered(const char *host, char *out, size_t size)
{
	char name[256];
	const char *reg;

	pthread_once(&psl_once, psl_load);
	if (psl.handle == NULL)
		return dns_domain_rule(host, out, size);
	if (size > 0)
		out[0] = '\0';
	if (lowered(host, name, sizeof name) != 0)
		return -1;
	if ((reg = psl.registrable(psl.ctx, name)) == NULL || strlen(reg) >= size)
		return -1;
	memcpy(out, reg, strlen(reg) + 1);
	return 0;
}
