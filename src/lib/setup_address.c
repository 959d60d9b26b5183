/* setup_address.c: the one split of an address into its local part and its domain for `outbox
 * setup`: the domain in ASCII (A-labels), as DNS, URLs, certificates and server names need it. */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "handle_internal.h"
#include "idna.h"
#include "setup_address.h"
#include "validate.h"

int setup_address_ascii(const char *name, char *out, size_t size, char *why, size_t why_size)
{
	char tmp[1024];
	char *ace = NULL;
	size_t len = strlen(name), i;
	int ascii = 1, rc;

	if (len > 0 && name[len - 1] == '.')
		len--;
	if (len == 0 || len >= sizeof tmp) {
		snprintf(why, why_size, len == 0 ? "it is empty" : "it is too long");
		return OUTBOX_EINVALID;
	}
	memcpy(tmp, name, len);
	tmp[len] = '\0';
	for (i = 0; i < len; i++)
		ascii &= (unsigned char)tmp[i] < 0x80;
	/* Plain ASCII stays as DNS serves it (IDNA refuses some names DNS has, validate.c says which);
	 * an international name goes through the same IDNA2008 mapping validate_host checks with. */
	if (!ascii) {
		rc = idna_to_ascii(tmp, &ace);
		if (rc != IDN2_OK) {
			snprintf(why, why_size, "%s", idna_strerror(rc));
			idna_free(ace);
			return rc == IDN2_MALLOC ? OUTBOX_ENOMEM : OUTBOX_EINVALID;
		}
		len = strlen((const char *)ace);
		if (len < sizeof tmp)
			memcpy(tmp, ace, len + 1);
		idna_free(ace);
	}
	if (len >= size || len >= sizeof tmp) {
		snprintf(why, why_size, "it is longer than %zu bytes in ASCII", size - 1);
		return OUTBOX_EINVALID;
	}
	for (i = 0; i <= len; i++)
		out[i] = (char)(tmp[i] >= 'A' && tmp[i] <= 'Z' ? tmp[i] - 'A' + 'a' : tmp[i]);
	return 0;
}

int setup_address_domain(outbox *h, const char *field, const char *address, char *out, size_t size,
			 size_t *local_len)
{
	const char *at = address ? strrchr(address, '@') : NULL;
	char why[160];
	int rc;

	if (at == NULL || at == address || at[1] == '\0')
		return outbox_fail(h, OUTBOX_EINVALID, field,
				   "\"%.300s\" is not an address: it needs a local part, \"@\" and a domain",
				   address ? address : "");
	if (local_len)
		*local_len = (size_t)(at - address);
	rc = setup_address_ascii(at + 1, out, size, why, sizeof why);
	if (rc == OUTBOX_ENOMEM)
		return outbox_fail(h, rc, NULL, "out of memory");
	if (rc < 0)
		return outbox_fail(h, rc, field, "the domain of %.300s is no host name: %s", address, why);
	/* The ASCII form is checked as a host name too: "a_b.test" has no A-label to hide behind. */
	if ((rc = validate_host(h, field, out)) < 0) {
		snprintf(why, sizeof why, "%s", outbox_errdetail(h));
		return outbox_fail(h, rc, field, "the domain of %.300s is no host name: %s", address, why);
	}
	return 0;
}
