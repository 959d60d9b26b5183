/* sasl_lib.h: GNU SASL's functions as sasl.c uses them, resolved from libgsasl loaded with dlopen
 * on the first AUTH it computes, so a send without AUTH never maps libgsasl and its libraries. */
#ifndef OUTBOX_SASL_LIB_H
#define OUTBOX_SASL_LIB_H

#include <gsasl.h>
#include <stddef.h>

struct sasl_lib {
	Gsasl *ctx;  /* the process's one context, made with gsasl_init on load */
	int init_rc; /* what gsasl_init returned: ctx is usable only when GSASL_OK */
	int (*client_start)(Gsasl *, const char *, Gsasl_session **);
	int (*property_set)(Gsasl_session *, Gsasl_property, const char *);
	const char *(*property_fast)(Gsasl_session *, Gsasl_property);
	void (*property_free)(Gsasl_session *, Gsasl_property);
	int (*step)(Gsasl_session *, const char *, size_t, char **, size_t *);
	int (*base64_from)(const char *, size_t, char **, size_t *);
	void (*finish)(Gsasl_session *);
	void (*free)(void *);
	const char *(*strerror)(int);
};

/* GNU SASL, loaded and started once for the process (safe from any thread); NULL when
 * libgsasl.so.18 or one of its symbols cannot be loaded (SASL_LIB_MISSING says what to do). */
const struct sasl_lib *sasl_lib_get(void);

#define SASL_LIB_MISSING                                                                              \
	"this AUTH method needs GNU SASL: install libgsasl18 (Debian); libgsasl.so.18 could not be loaded"

#endif
