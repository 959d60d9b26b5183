/* setup_outcome.c: what Add Account's second page says once the discovery is done: the candidate
 * it starts from, the OAuth provider it offers, the outcome's lines and their wrapping. */
#include <stdio.h>
#include <string.h>

#include "outbox/setup.h"
#include "setup_view.h"

/* The candidate "Edit manually" starts from and whose OAuth provider is offered: the chosen
 * one, else the first usable, else the first; its index, or -1 when nothing was probed. */
long setup_outcome_best(const outbox_setup_result *r)
{
	size_t i;

	if (r == NULL || r->ncandidates == 0)
		return -1;
	if (r->chosen >= 0)
		return r->chosen;
	for (i = 0; i < r->ncandidates; i++)
		if (r->candidates[i].usable)
			return (long)i;
	return 0;
}

int setup_outcome_is_oauth(const outbox_setup_candidate *c)
{
	return c->auth && (strcmp(c->auth, "xoauth2") == 0 || strcmp(c->auth, "oauthbearer") == 0);
}

/* The provider the user is offered to sign in with: the best candidate's source names an OAuth
 * provider and no Client ID was typed (a password, or nothing). As a user knows it
 * ("Microsoft"), or NULL. */
const char *setup_outcome_oauth_offer(const struct setup_input *in, const outbox_setup_result *r)
{
	static const char *const names[][2] = {{"microsoft", "Microsoft"}, {"google", "Google"}};
	long best = setup_outcome_best(r);
	const char *preset;
	size_t i;

	if (best < 0 || *in->client_id || (preset = r->candidates[best].oauth) == NULL || !*preset)
		return NULL;
	for (i = 0; i < sizeof names / sizeof names[0]; i++)
		if (strcmp(preset, names[i][0]) == 0)
			return names[i][1];
	return preset;
}

/* What the outcome page says, line by line, into `out` (rows of SETUP_ROW). `oauth` is the
 * provider offered to sign in with, or NULL. */
int setup_outcome_lines(const struct setup_shown *s, const outbox_setup_result *r, const char *oauth,
			       char out[][SETUP_ROW], int max)
{
	int n = 0;
	size_t i;
	char offer[SETUP_ROW] = "";

	if (oauth)
		snprintf(offer, sizeof offer, "%s signs in with %s (OAuth 2.0): \"Sign in with %s...\" asks for your "
			 "app's Client ID.", r->domain, oauth, oauth);
	if (s->rc == 0 && r && r->chosen >= 0) {
		const outbox_setup_candidate *c = &r->candidates[r->chosen];
		snprintf(out[n++], SETUP_ROW, "Found: %s port %d %s, login %s", c->host, c->port, c->security,
			 c->auth && *c->auth ? c->auth : "none");
		snprintf(out[n++], SETUP_ROW, "From: %s%s%s%s, %s", c->source, *c->display_name ? " (" : "",
			 c->display_name, *c->display_name ? ")" : "", c->origin);
		if (c->why && *c->why && n < max)
			snprintf(out[n++], SETUP_ROW, "Why: %s", c->why);
		if (r->login_checked && n < max)
			snprintf(out[n++], SETUP_ROW, "Logged in as %s (%s); no mail was sent.", r->login_user, r->login_form);
		else if (n < max && oauth)
			snprintf(out[n++], SETUP_ROW, "%s", offer);
		else if (n < max && setup_outcome_is_oauth(c))
			snprintf(out[n++], SETUP_ROW, "An OAuth 2.0 sign-in: you sign in after Save.");
		else if (n < max)
			snprintf(out[n++], SETUP_ROW, "No password given: the login was not checked.");
		return n;
	}
	snprintf(out[n++], SETUP_ROW, "Failed: %s", s->errmsg);
	if (oauth && n < max)
		snprintf(out[n++], SETUP_ROW, "%s", offer);
	if (r == NULL)
		return n;
	if (r->login_checked && n < max)
		snprintf(out[n++], SETUP_ROW, "Login refused for %s; nothing is saved.", r->login_tried);
	for (i = 0; i < r->nlookups && n < max; i++)
		snprintf(out[n++], SETUP_ROW, "  %s %s: %s%s%s", r->lookups[i].source, r->lookups[i].what, r->lookups[i].outcome,
			 *r->lookups[i].detail ? ", " : "", r->lookups[i].detail);
	for (i = 0; i < r->ncandidates && n < max; i++)
		snprintf(out[n++], SETUP_ROW, "  probed %s port %d %s: %s%s%s", r->candidates[i].host, r->candidates[i].port,
			 r->candidates[i].security, r->candidates[i].probe, *r->candidates[i].probe_error ? ", " : "",
			 r->candidates[i].probe_error);
	return n;
}

/* The outcome's long lines wrap; the input page's refusals and notes too. */
int setup_outcome_wrapped(int row, int x, int width, int rows, const char *text, int draw)
{
	const char *p = text, *cut;
	char part[SETUP_ROW];
	int used = 0, indent;

	if (rows < 1)
		rows = 1;
	do {
		indent = used ? 2 : 0;
		cut = used + 1 == rows ? p + strlen(p) : widget_skip(p, (size_t)(width - indent));
		if (*cut) { /* break at a space where there is one; a URL has none and is cut */
			const char *q = cut;
			while (q > p && *q != ' ')
				q--;
			if (q > p)
				cut = q;
		}
		snprintf(part, sizeof part, "%.*s", (int)(cut - p), p);
		if (draw)
			widget_text(row + used, x + indent, width - indent, part);
		used++;
		for (p = cut; *p == ' '; p++)
			;
	} while (*p && used < rows);
	return used;
}
