/* setup_verify.c: the login check of `outbox setup` (AUTH then QUIT on the chosen server, each
 * user-name form in turn) and the one rule for which hosts may receive the password. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "handle_internal.h"
#include "net.h"
#include "session.h"
#include "setup_address.h"
#include "setup_verify.h"

/* The domain of an address as setup_address.c gives it (the form candidates' hosts have), and the
 * length of its local part; NULL when it has no local part or no usable domain. */
static const char *verify_domain(const char *address, char *out, size_t size, size_t *local_len)
{
	outbox scratch = {0}; /* the callers say what a missing domain means */

	return setup_address_domain(&scratch, "address", address, out, size, local_len) == 0 ? out : NULL;
}

/* The length of a DNS name without its final dot. */
static size_t verify_name_length(const char *name)
{
	size_t n = strlen(name);

	return n > 0 && name[n - 1] == '.' ? n - 1 : n;
}

/* Whether host is domain or a name under it, ignoring case and a final dot. */
static int verify_host_in(const char *host, const char *domain)
{
	size_t hl = verify_name_length(host), dl = verify_name_length(domain);

	if (dl == 0 || hl < dl || strncasecmp(host + hl - dl, domain, dl) != 0)
		return 0;
	return hl == dl || host[hl - dl - 1] == '.';
}

/* Whether two names are one host, ignoring case and a final dot. */
static int verify_same_host(const char *a, const char *b)
{
	size_t al = verify_name_length(a);

	return al > 0 && al == verify_name_length(b) && strncasecmp(a, b, al) == 0;
}

/* Whether the source fetched its settings over verified HTTPS from the domain itself or the ISPDB's
 * curated entries: a forged DNS answer can at most lead to a provider such an entry names. */
static int verify_source_named_over_https(enum setup_source source)
{
	switch (source) {
	case SETUP_SOURCE_AUTOCONFIG:
	case SETUP_SOURCE_WELL_KNOWN:
	case SETUP_SOURCE_ISPDB:
	case SETUP_SOURCE_MX:
		/* A redirect the domain's own HTTPS server sent (https:// only, every hop verified)
		 * is its word too: it could have served any document itself (DESIGN.md, Redirects). */
		return 1;
	case SETUP_SOURCE_SRV:
	case SETUP_SOURCE_GUESS:
		break;
	}
	return 0;
}

int setup_verify_may_receive_password(const struct setup_candidates *list, size_t i, const char *address,
				      char *why, size_t size)
{
	char ascii[256];
	const char *domain = verify_domain(address, ascii, sizeof ascii, NULL);
	const char *host = list->v[i].host;
	size_t j;

	if (domain && verify_host_in(host, domain))
		return 1;
	/* The trust is in the host's name, which TLS checks on every port: a host an HTTPS source
	 * names may get the password on a port only SRV or a guess proposed. */
	for (j = 0; j < list->n; j++)
		if (verify_source_named_over_https(list->v[j].source) && verify_same_host(host, list->v[j].host))
			return 1;
	snprintf(why, size, "the password may not go to %s: it is not in %s, and no provider's autoconfig or "
		 "ISPDB entry names it (only DNS does, which can be forged)", host, domain ? domain : "the "
		 "address's domain");
	return 0;
}

size_t setup_verify_forms(const struct setup_candidate *c, const char *address, const char *given,
			  char out[SETUP_VERIFY_FORMS][320], const char *form[SETUP_VERIFY_FORMS])
{
	char ascii[256];
	size_t local_len = 0;
	const char *domain = verify_domain(address, ascii, sizeof ascii, &local_len);
	const char *wanted[SETUP_VERIFY_FORMS] = {given ? given : "", c->username, address, ""};
	static const char *const words[SETUP_VERIFY_FORMS] = {"the user name given", "the source's user name",
							       "the full address", "the local part"};
	char local[320] = "";
	size_t i, j, n = 0;

	if (domain && local_len < sizeof local)
		snprintf(local, sizeof local, "%.*s", (int)local_len, address);
	wanted[3] = local;
	for (i = 0; i < SETUP_VERIFY_FORMS; i++) {
		int seen = !*wanted[i] || strlen(wanted[i]) >= sizeof out[0];

		for (j = 0; j < n && !seen; j++)
			seen = strcmp(out[j], wanted[i]) == 0;
		if (seen)
			continue;
		snprintf(out[n], sizeof out[n], "%s", wanted[i]);
		form[n++] = words[i];
	}
	return n;
}

/* What one login attempt saw, from the session's step reports. */
struct verify_attempt {
	int auth_reached; /* the AUTH step ended, well or not: the password may have gone out */
	char mech[24];
	char reply[600];  /* the server's reply to a failed AUTH, one line, or "" */
};

static void verify_on_step(void *ctx, const struct session_event *ev)
{
	struct verify_attempt *a = ctx;

	if (ev->step != SESSION_STEP_AUTH)
		return;
	a->auth_reached = 1;
	if (ev->mech)
		snprintf(a->mech, sizeof a->mech, "%s", ev->mech);
	if (ev->rc < 0 && ev->reply)
		smtp_reply_line(ev->reply, a->reply, sizeof a->reply);
}

enum verify_end { VERIFY_LOGGED_IN, VERIFY_UNREACHED, VERIFY_STOPPED };

/* Try each user-name form on candidate i; the handle says why when it did not log in. */
static enum verify_end verify_candidate(outbox *h, size_t i, const char *address, const char *username,
					const char *password, const struct setup_candidates *list,
					const struct setup_choice *choice,
					const struct setup_probe_options *o, struct setup_login_check *out, int *rc)
{
	const struct setup_candidate *c = &list->v[i];
	const char *form[SETUP_VERIFY_FORMS];
	char tried[SETUP_VERIFY_FORMS * 322] = "", last_reply[600] = "";
	size_t k;

	out->ntried = setup_verify_forms(c, address, username, out->tried, form);
	for (k = 0; k < out->ntried; k++) {
		struct verify_attempt a;
		struct session *sess = NULL;
		outbox_server *srv = setup_probe_server(h, c->host, c->port, c->security, choice->v[i].auth,
							out->tried[k], o->tls_ca, o->deadline_ms);

		if (srv == NULL) {
			*rc = OUTBOX_EINVALID;
			return VERIFY_STOPPED;
		}
		memset(&a, 0, sizeof a);
		*rc = setup_probe_open(h, srv, password, o->resolver, o->deadline_ms, verify_on_step, &a, &sess);
		session_close(h, sess); /* QUIT: no mail */
		outbox_server_free(srv);
		if (*rc == 0) {
			out->candidate = (long)i;
			out->ntried = k + 1;
			snprintf(out->user, sizeof out->user, "%s", out->tried[k]);
			snprintf(out->mech, sizeof out->mech, "%s", a.mech);
			out->form = form[k];
			return VERIFY_LOGGED_IN;
		}
		if (!a.auth_reached)
			return k == 0 ? VERIFY_UNREACHED : VERIFY_STOPPED;
		if (*rc != OUTBOX_EAUTH)
			return VERIFY_STOPPED;
		snprintf(tried + strlen(tried), sizeof tried - strlen(tried), "%s%s", k ? ", " : "", out->tried[k]);
		snprintf(last_reply, sizeof last_reply, "%s", a.reply[0] ? a.reply : outbox_errdetail(h));
	}
	*rc = outbox_fail(h, OUTBOX_EAUTH, "password",
			  "%s port %d refused the login as each user name tried (%s): %s; check the password", c->host,
			  c->port, tried, last_reply);
	return VERIFY_STOPPED;
}

int setup_verify_choice(outbox *h, const char *address, const char *username, const char *password,
			const struct setup_candidates *list, const struct setup_probes *probes, struct setup_choice *choice,
			const struct setup_probe_options *o, struct setup_login_check *out)
{
	long long started = net_now_ms();
	char why[400];
	int rc = 0;

	memset(out, 0, sizeof *out);
	out->candidate = -1;
	out->form = "";
	if ((rc = setup_address_domain(h, "address", address, why, sizeof why, NULL)) < 0)
		return rc;
	while (choice->winner >= 0) {
		size_t i = (size_t)choice->winner;
		enum verify_end end;

		/* The chooser applies the rule; checked again where the password leaves. */
		if (!setup_verify_may_receive_password(list, i, address, why, sizeof why)) {
			setup_choose_next(choice, list, probes, i, why);
			continue;
		}
		end = verify_candidate(h, i, address, username, password, list, choice, o, out, &rc);
		out->ms = net_now_ms() - started;
		if (end == VERIFY_LOGGED_IN) {
			outbox_clear_error(h);
			return 0;
		}
		if (end == VERIFY_STOPPED) {
			/* The password may have reached this server: it goes to no other host. */
			choice->v[i].usable = 0;
			snprintf(choice->v[i].why, sizeof choice->v[i].why, "chosen, but the login failed: %s",
				 outbox_errmsg(h));
			choice->winner = -1;
			return rc;
		}
		snprintf(why, sizeof why, "could not be reached again to log in: %s", outbox_errmsg(h));
		setup_choose_next(choice, list, probes, i, why);
	}
	return rc < 0 ? rc : outbox_fail(h, OUTBOX_EUNAVAILABLE, NULL, "no server could be used to check the login");
}
