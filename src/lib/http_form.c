/* http_form.c: a form POST's body as sent, and as the transcript shows it with secret values
 * hidden: which fields are secret is decided here, once. */
#include <string.h>
#include <strings.h>

#include "buf.h"
#include "handle_internal.h"
#include "http.h"

int http_field_is_secret(const char *name)
{
	return strcasestr(name, "token") != NULL || strcasestr(name, "secret") != NULL ||
	       strcmp(name, "code") == 0 || strcmp(name, "device_code") == 0 ||
	       strcmp(name, "code_verifier") == 0 || strcmp(name, "password") == 0;
}

/* The form as sent, and the same form as the transcript shows it, secret values hidden. */
int http_form_build(outbox *h, const char *const *form, struct buf *body, struct buf *shown)
{
	size_t i;
	int rc;

	for (i = 0; form[i] != NULL && form[i + 1] != NULL; i += 2) {
		const char *sep = i ? "&" : "";

		if (buf_puts(body, sep) < 0 || buf_puts(shown, sep) < 0)
			return outbox_fail(h, OUTBOX_ENOMEM, NULL, "out of memory");
		if ((rc = http_escape(h, body, form[i])) < 0 || buf_puts(body, "=") < 0 ||
		    (rc = http_escape(h, body, form[i + 1])) < 0 ||
		    (rc = http_escape(h, shown, form[i])) < 0 || buf_puts(shown, "=") < 0)
			return rc < 0 ? rc : outbox_fail(h, OUTBOX_ENOMEM, NULL, "out of memory");
		if (http_field_is_secret(form[i]))
			rc = buf_puts(shown, "(hidden)");
		else
			rc = http_escape(h, shown, form[i + 1]);
		if (rc < 0)
			return rc == -1 ? outbox_fail(h, OUTBOX_ENOMEM, NULL, "out of memory") : rc;
	}
	return 0;
}
