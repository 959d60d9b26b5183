/* deliver_envelope.c: the envelope of `send` as sendmail's callers write it: recipients as RFC
 * 5322 address lists, a bare -f name completed with the account's domain, "<>" as the null sender. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "address_list.h"
#include "alias_internal.h"
#include "deliver_internal.h"
#include "handle_internal.h"
#include "record.h"
#include "validate.h"

/* A name without a domain ("root", as cron writes it): as a recipient, the name of an alias
 * (alias_expand says what fixes it when there is none; deliver_expand later puts the alias's
 * addresses in its place); anything else is refused in the words the address check uses. This is
 * the one place that decides what a local name means, for argv, headers and `sendmail -bs`. */
int deliver_local_name(outbox *h, const char *field, const char *name)
{
	char **found = NULL;
	size_t n = 0;
	int rc;

	if (strcmp(field, "recipient") != 0 || !alias_is_local_name(name))
		return validate_address(h, field, name);
	rc = alias_expand(h, name, &found, &n);
	strv_free(found);
	return rc;
}

/* Envelope values come from argv and headers; refuse what could inject commands (invariant 6). */
int deliver_check_envelope(outbox *h, const char *field, const char *address)
{
	if (address[0] == '-')
		return outbox_fail(h, OUTBOX_EINVALID, field, "\"%.60s\" starts with \"-\"; an address cannot",
				   address);
	if (strpbrk(address, "\r\n"))
		return outbox_fail(h, OUTBOX_EINVALID, field, "an address contains a line break");
	if (strchr(address, '@') == NULL)
		return deliver_local_name(h, field, address);
	return validate_address(h, field, address);
}

struct deliver_list_ctx {
	outbox *h;
	char ***out;
	size_t found;
};

static int deliver_take_address(void *vctx, const char *addr)
{
	struct deliver_list_ctx *c = vctx;
	int rc;

	if ((rc = deliver_check_envelope(c->h, "recipient", addr)) < 0)
		return rc;
	if (strv_push(c->out, addr) < 0)
		return OUTBOX_ENOMEM;
	c->found++;
	return 0;
}

int deliver_envelope_recipients(outbox *h, const char *const *args, char ***out)
{
	struct deliver_list_ctx c = {h, out, 0};
	size_t i;
	int rc;

	*out = NULL;
	for (i = 0; args && args[i]; i++) {
		/* Checked whole first: the list parser reads a line break as folding, which would let
		 * one argument smuggle in a second line of addresses. */
		if (strpbrk(args[i], "\r\n")) {
			rc = outbox_fail(h, OUTBOX_EINVALID, "recipient", "an address contains a line break");
			goto fail;
		}
		c.found = 0;
		rc = address_list_parse(args[i], strlen(args[i]), deliver_take_address, &c);
		if (rc == OUTBOX_ENOMEM) {
			rc = outbox_fail(h, OUTBOX_ENOMEM, NULL, "out of memory");
			goto fail;
		}
		if (rc < 0)
			goto fail;
		if (c.found == 0) {
			rc = outbox_fail(h, OUTBOX_EINVALID, "recipient", "\"%.60s\" holds no address", args[i]);
			goto fail;
		}
	}
	return 0;
fail:
	strv_free(*out);
	*out = NULL;
	return rc;
}

const char *deliver_sender_given(const char *from, char *buf, size_t size)
{
	size_t len;

	if (from == NULL)
		return NULL;
	len = strlen(from);
	/* "<a@example.com>" and "<>", as some callers quote the envelope sender. */
	if (len >= 2 && from[0] == '<' && from[len - 1] == '>') {
		snprintf(buf, size, "%.*s", (int)(len - 2), from + 1);
		return buf;
	}
	return from;
}

int deliver_envelope_sender(outbox *h, const char *given, const char *account_address, char **out)
{
	const char *at = strrchr(account_address, '@');
	int rc;

	*out = NULL;
	if (given == NULL)
		given = account_address;
	if (*given == '\0')
		*out = strdup(""); /* the null sender: MAIL FROM:<> */
	else if (strchr(given, '@') == NULL && at != NULL) {
		/* A bare name ("-f root", as cron passes it) is a user at the sending account's
		 * domain, as Postfix appends $myorigin. */
		size_t size = strlen(given) + strlen(at) + 1;
		if ((*out = malloc(size)) != NULL)
			snprintf(*out, size, "%s%s", given, at);
	} else
		*out = strdup(given);
	if (*out == NULL)
		return outbox_fail(h, OUTBOX_ENOMEM, NULL, "out of memory");
	if (**out && (rc = deliver_check_envelope(h, "from", *out)) < 0) {
		free(*out);
		*out = NULL;
		return rc;
	}
	return 0;
}
