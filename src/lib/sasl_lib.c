/* sasl_lib.c: loads GNU SASL with dlopen the first time a session computes PLAIN, LOGIN, CRAM-MD5
 * or SCRAM (as libcurl and GMime are loaded), and starts its one context for the whole process. */
#include <dlfcn.h>
#include <pthread.h>

#include "sasl_lib.h"

static struct sasl_lib lib;
static int lib_loaded;
static pthread_once_t lib_once = PTHREAD_ONCE_INIT;

#define SASL_LIB_SYM(field, name) (*(void **)&lib.field = dlsym(handle, name)) != NULL

/* No callback is installed on the context: each session gets its properties set directly, so no
 * global state carries one session's password into another. The context only holds the table of
 * mechanisms, which every session reads without writing; it is never freed. */
static void sasl_lib_load(void)
{
	void *handle = dlopen("libgsasl.so.18", RTLD_NOW | RTLD_LOCAL);
	int (*init)(Gsasl **);

	if (handle == NULL)
		return;
	if (!((*(void **)&init = dlsym(handle, "gsasl_init")) != NULL &&
	      SASL_LIB_SYM(client_start, "gsasl_client_start") &&
	      SASL_LIB_SYM(property_set, "gsasl_property_set") &&
	      SASL_LIB_SYM(property_fast, "gsasl_property_fast") &&
	      SASL_LIB_SYM(property_free, "gsasl_property_free") && SASL_LIB_SYM(step, "gsasl_step") &&
	      SASL_LIB_SYM(base64_from, "gsasl_base64_from") && SASL_LIB_SYM(finish, "gsasl_finish") &&
	      SASL_LIB_SYM(free, "gsasl_free") && SASL_LIB_SYM(strerror, "gsasl_strerror")))
		return;
	lib.init_rc = init(&lib.ctx);
	lib_loaded = 1;
}

const struct sasl_lib *sasl_lib_get(void)
{
	pthread_once(&lib_once, sasl_lib_load);
	return lib_loaded ? &lib : NULL;
}
