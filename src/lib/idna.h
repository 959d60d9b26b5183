/* idna.h: a host name in Unicode to its ASCII (IDNA2008, A-label) form, with libidn2 loaded only
 * when a name needs it: a send to a plain-ASCII host never maps libidn2 or libunistring. */
#ifndef OUTBOX_IDNA_H
#define OUTBOX_IDNA_H

#include <idn2.h>

/* Returned by idna_to_ascii when libidn2.so.0 cannot be loaded; idna_strerror says so. */
#define IDNA_UNAVAILABLE (-10000)

/* idn2_lookup_u8(name, ascii, IDN2_NONTRANSITIONAL | IDN2_NFC_INPUT), the one mapping every caller
 * uses: IDN2_OK with *ascii set (free it with idna_free), an IDN2_* code, or IDNA_UNAVAILABLE. */
int idna_to_ascii(const char *name, char **ascii);
/* libidn2's words for an IDN2_* code, or what to install for IDNA_UNAVAILABLE. */
const char *idna_strerror(int rc);
/* Frees what idna_to_ascii returned; NULL is fine. */
void idna_free(void *p);

#endif
