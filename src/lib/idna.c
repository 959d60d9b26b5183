/* idna.c: international host names to ASCII through libidn2, loaded with dlopen on the first name
 * that is not plain ASCII (as GMime and libcurl are), so an ordinary send does not pay for it. */
#include <dlfcn.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>

#include "idna.h"

/* Resolved once for the whole process; the library is never closed. */
static struct {
	void *handle;
	int (*lookup_u8)(const uint8_t *, uint8_t **, int);
	const char *(*strerror)(int);
	void (*free)(void *);
} lib;
static pthread_once_t lib_once = PTHREAD_ONCE_INIT;

#define IDNA_SYM(field, name) (*(void **)&lib.field = dlsym(handle, name)) != NULL

static void idna_load(void)
{
	void *handle = dlopen("libidn2.so.0", RTLD_NOW | RTLD_LOCAL);

	if (handle == NULL)
		return;
	if (IDNA_SYM(lookup_u8, "idn2_lookup_u8") && IDNA_SYM(strerror, "idn2_strerror") &&
	    IDNA_SYM(free, "idn2_free"))
		lib.handle = handle;
}

int idna_to_ascii(const char *name, char **ascii)
{
	*ascii = NULL;
	pthread_once(&lib_once, idna_load);
	if (lib.handle == NULL)
		return IDNA_UNAVAILABLE;
	return lib.lookup_u8((const uint8_t *)name, (uint8_t **)ascii, IDN2_NONTRANSITIONAL | IDN2_NFC_INPUT);
}

const char *idna_strerror(int rc)
{
	if (rc == IDNA_UNAVAILABLE || lib.handle == NULL)
		return "international domain names need libidn2: install libidn2-0 (Debian); libidn2.so.0 "
		       "could not be loaded";
	return lib.strerror(rc);
}

void idna_free(void *p)
{
	/* Only libidn2 hands out what is freed here, so it is loaded whenever p is not NULL. */
	if (p != NULL && lib.handle != NULL)
		lib.free(p);
}
