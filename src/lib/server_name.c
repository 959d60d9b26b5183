/* server_name.c: the short names servers get when the user types none: setup's from the address's
 * domain, the UI's from the host being typed, both made unique the same way (NAME-2, NAME-3, ...). */
#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "handle_internal.h"
#include "server_internal.h"

/* The longest start of a base a server name keeps, so that "-99" still fits in a name's 64. */
#define NAME_BASE_MAX 60

/* `base`, or BASE-2, BASE-3, ... when a server has that name already. A base too long for a name
 * (DNS allows 253) is cut to its first NAME_BASE_MAX characters, without a '.' or '-' left at the
 * end: the start tells one's servers apart better than the common end. */
int server_free_name(outbox *h, const char *base, char *out, size_t size)
{
	outbox_server *taken = NULL;
	char cut[NAME_BASE_MAX + 1];
	size_t len;
	int i, rc;

	snprintf(cut, sizeof cut, "%.*s", NAME_BASE_MAX, base);
	for (len = strlen(cut); len > 1 && (cut[len - 1] == '.' || cut[len - 1] == '-'); len--)
		cut[len - 1] = '\0';
	for (i = 1; i < 100; i++) {
		if (i == 1)
			snprintf(out, size, "%s", cut);
		else
			snprintf(out, size, "%s-%d", cut, i);
		rc = outbox_server_load(h, out, &taken);
		outbox_server_free(taken);
		taken = NULL;
		if (rc == OUTBOX_ENOTFOUND) {
			outbox_clear_error(h);
			return 0;
		}
		if (rc < 0)
			return rc;
	}
	return outbox_fail(h, OUTBOX_EEXISTS, "name", "servers %s to %s-99 exist already", cut, cut);
}

/* A first label that names a mail service rather than the provider ("smtp", "mail2"). */
static int server_name_label_is_generic(const char *label, size_t len)
{
	static const char *const generic[] = {"smtp", "smtps", "mail", "email", "mx", "out", "outgoing",
					      "relay", "send", "submission", "submit", "mailout", "smtpout",
					      "asmtp", "auth", "secure", "ssl", "tls", NULL};

	while (len > 0 && isdigit((unsigned char)label[len - 1]))
		len--; /* smtp2, mail01 */
	for (size_t i = 0; generic[i]; i++)
		if (strlen(generic[i]) == len && strncmp(generic[i], label, len) == 0)
			return 1;
	return 0;
}

int outbox_server_name_for_host(outbox *h, const char *host, char *out, size_t size)
{
	char low[256], base[256];
	const char *p, *dot;
	size_t n = 0, dots = 0;

	for (n = 0; host[n] && n + 1 < sizeof low; n++)
		low[n] = (char)tolower((unsigned char)host[n]);
	low[n] = '\0';
	n = 0;
	for (p = low; *p == ' ' || *p == '['; p++)
		;
	for (const char *q = p; *q; q++)
		dots += *q == '.';
	/* Drop service labels while the provider's domain (two labels at least) stays. */
	while (dots >= 2 && (dot = strchr(p, '.')) != NULL && server_name_label_is_generic(p, (size_t)(dot - p))) {
		p = dot + 1;
		dots--;
	}
	/* What the host has that a name may not ("::1", a half-typed "a b") becomes '-'. */
	for (; *p && n + 1 < sizeof base; p++) {
		unsigned char c = (unsigned char)*p;
		if (c == ']')
			continue;
		base[n++] = isalnum(c) || c == '.' || c == '_' || c == '-' ? (char)c : '-';
	}
	base[n] = '\0';
	/* A name must not start with '-' or '.' (an option, a hidden file). */
	p = base + strspn(base, "-.");
	if (*p == '\0') {
		if (size)
			out[0] = '\0';
		return 0;
	}
	return server_free_name(h, p, out, size);
}
