/* setup_result.c: the public face of a discovery run (outbox/setup.h): the options read and checked,
 * the run, and its reports, candidates, probes and verdicts shown as plain words for front ends. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "deliver_internal.h"
#include "handle_internal.h"
#include "outbox/server.h"
#include "outbox/setup.h"
#include "secret.h"
#include "setup_discover.h"
#include "setup_result.h"

static const char *result_probe_word(enum setup_probe_state s)
{
	static const char *const words[] = {"ok", "failed", "no answer", "skipped"};

	return words[s];
}

/* The public view points into the run's own arrays; built once, after the run. */
static int result_view(outbox *h, struct setup_result *r, const char *address)
{
	struct setup_discovery *d = &r->run;
	outbox_setup_result *v = &r->pub;
	size_t i, k;

	r->lookups = calloc(d->nreports ? d->nreports : 1, sizeof *r->lookups);
	r->candidates = calloc(d->candidates.n ? d->candidates.n : 1, sizeof *r->candidates);
	if (r->lookups == NULL || r->candidates == NULL)
		return outbox_fail(h, OUTBOX_ENOMEM, NULL, "out of memory");
	snprintf(r->address, sizeof r->address, "%s", address);
	v->address = r->address;
	v->domain = d->domain;
	for (i = 0; i < d->nreports; i++) {
		const struct setup_report *rep = &d->reports[i];

		r->lookups[i] = (outbox_setup_lookup){setup_choose_source_word(rep->source), rep->what,
						     setup_discover_outcome_word(rep->outcome), rep->ms, rep->detail,
						     rep->redirected_to, rep->done_at - d->started_at};
	}
	v->lookups = r->lookups;
	v->nlookups = d->nreports;
	v->chosen = -1;
	/* By preference: the choice's order puts the usable ones first, the winner at their head. */
	for (k = 0; k < d->choice.n; k++) {
		size_t c = d->choice.order[k];
		const struct setup_candidate *cand = &d->candidates.v[c];
		const struct setup_probe *p = setup_probe_of(&d->probes, c);
		const struct setup_verdict *verdict = &d->choice.v[c];
		outbox_setup_candidate *out = &r->candidates[k];

		out->host = cand->host;
		out->port = cand->port;
		out->security = setup_probe_security_word(cand->security);
		out->source = setup_choose_source_word(cand->source);
		out->origin = cand->origin;
		out->display_name = cand->display_name;
		out->probe = result_probe_word(p->state);
		out->probe_error = p->error;
		out->tls = p->tls;
		out->offered_auth = p->caps.auth;
		out->usable = verdict->usable;
		out->chosen = (long)c == d->choice.winner;
		out->auth = verdict->auth;
		out->why = verdict->why;
		out->probe_began_ms = p->began_at < 0 ? -1 : p->began_at - d->started_at;
		out->probe_done_ms = p->began_at < 0 ? -1 : p->done_at - d->started_at;
		out->oauth = cand->oauth;
		if (out->chosen)
			v->chosen = (long)k;
	}
	v->candidates = r->candidates;
	v->ncandidates = d->choice.n;
	v->login_checked = d->login_checked;
	v->login_user = d->login.candidate >= 0 ? d->login.user : "";
	v->login_form = d->login.form ? d->login.form : "";
	for (i = 0; i < d->login.ntried; i++)
		snprintf(r->tried + strlen(r->tried), sizeof r->tried - strlen(r->tried), "%s%s", i ? ", " : "",
			 d->login.tried[i]);
	v->login_tried = r->tried;
	v->lookups_ms = d->lookups_ms;
	v->probes_ms = d->probes_ms;
	v->login_ms = d->login_ms;
	return 0;
}

/* The password to check: given, or the password command's output (run once, as a send would). */
static int result_password(outbox *h, const outbox_setup_options *o, char **out)
{
	outbox_server *s;
	int rc;

	*out = NULL;
	if (o->password || o->password_command == NULL)
		return 0;
	if ((s = outbox_server_new()) == NULL)
		return outbox_fail(h, OUTBOX_ENOMEM, NULL, "out of memory");
	if ((rc = outbox_server_set(h, s, OUTBOX_SERVER_PASSWORD_COMMAND, o->password_command)) == 0)
		rc = deliver_password_command(h, s, out);
	outbox_server_free(s);
	return rc;
}

int outbox_setup_discover(outbox *h, const char *address, const outbox_setup_options *o,
			  int (*progress)(void *ctx, const char *what), void *ctx, outbox_setup_result **out)
{
	static const outbox_setup_options none;
	struct setup_discover_options d = {0};
	struct dns_resolver resolver = {0};
	struct setup_result *r;
	char *command_password = NULL;
	int rc, run_rc;

	*out = NULL;
	if (o == NULL)
		o = &none;
	if (o->resolver && (rc = dns_resolver_parse(h, o->resolver, &resolver)) < 0)
		return rc;
	/* The CLI's own bound; a library caller's value must not overflow a deadline either. */
	if (o->timeout_ms < 0 || o->timeout_ms > 300000)
		return outbox_fail(h, OUTBOX_EINVALID, "timeout", "%lld ms is out of range: 0 for the default, else up to 300 s", o->timeout_ms);
	if (o->oauth_client_id && !*o->oauth_client_id)
		return outbox_fail(h, OUTBOX_EINVALID, "oauth-client-id", "is empty; give your app's client ID");
	if (o->oauth_client_id && (o->password || o->password_command))
		return outbox_fail(h, OUTBOX_EINVALID, "oauth-client-id",
				   "an OAuth sign-in takes no password: give one or the other");
	if ((rc = result_password(h, o, &command_password)) < 0)
		return rc;
	if ((r = calloc(1, sizeof *r)) == NULL) {
		secret_wipe(command_password);
		return outbox_fail(h, OUTBOX_ENOMEM, NULL, "out of memory");
	}
	d.address = address;
	d.ispdb = o->ispdb;
	d.tls_ca = o->tls_ca;
	d.resolver = &resolver;
	d.timeout_ms = o->timeout_ms;
	d.password = o->password ? o->password : command_password;
	d.username = o->username;
	d.login = o->oauth_client_id ? SETUP_LOGIN_OAUTH : d.password ? SETUP_LOGIN_PASSWORD : SETUP_LOGIN_NONE;
	d.progress = progress;
	d.ctx = ctx;
	run_rc = setup_discover_run(h, &d, &r->run);
	secret_wipe(command_password);
	if (run_rc < 0 && r->run.nreports == 0) { /* refused before anything was asked */
		outbox_setup_result_free(&r->pub);
		return run_rc;
	}
	if ((rc = result_view(h, r, address ? address : "")) < 0) {
		outbox_setup_result_free(&r->pub);
		return rc;
	}
	*out = &r->pub;
	return run_rc;
}

void outbox_setup_result_free(outbox_setup_result *pub)
{
	struct setup_result *r = (struct setup_result *)pub;

	if (r == NULL)
		return;
	setup_discovery_free(&r->run);
	free(r->lookups);
	free(r->candidates);
	free(r);
}

const struct setup_discovery *setup_result_run(const outbox_setup_result *pub)
{
	return &((const struct setup_result *)pub)->run;
}
