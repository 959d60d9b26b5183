/* setup_choose.c: the one rule for which probed candidate `outbox setup` takes: usable ones only
 * (probed fine, a login that works, the password allowed there), then by source and rank with TLS
 * from the first byte before STARTTLS on one host; every other one is told why it lost. Pure. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "handle_internal.h"
#include "sasl.h"
#include "server_internal.h"
#include "setup_choose.h"
#include "setup_verify.h"

const char *setup_choose_source_word(enum setup_source s)
{
	static const char *const words[] = {"autoconfig", "well-known", "ISPDB", "SRV", "MX", "guess"};

	return (unsigned)s < sizeof words / sizeof words[0] ? words[s] : "?";
}

static const char *const security_words[] = {"TLS from the first byte", "STARTTLS", "plain text"};

const char *setup_choose_oauth_preset(const struct setup_candidate *c, char *why, size_t size)
{
	if (c->oauth[0])
		return c->oauth;
	snprintf(why, size, "%s, from %s, names no OAuth provider outbox knows (only a provider's autoconfig or "
		 "ISPDB entry with an OAuth2 sign-in does); add the server with `outbox server add --oauth custom` "
		 "instead", c->host, setup_choose_source_word(c->source));
	return NULL;
}

/* The login method for an OAuth sign-in: XOAUTH2, which every OAuth provider's SMTP takes, else
 * the standard OAUTHBEARER. */
static int choose_oauth_method(const struct setup_probe *p, struct setup_verdict *v)
{
	if (smtp_caps_has_auth(&p->caps, "XOAUTH2")) {
		snprintf(v->auth, sizeof v->auth, "xoauth2");
		snprintf(v->mech, sizeof v->mech, "XOAUTH2");
		return 1;
	}
	if (smtp_caps_has_auth(&p->caps, "OAUTHBEARER")) {
		snprintf(v->auth, sizeof v->auth, "oauthbearer");
		snprintf(v->mech, sizeof v->mech, "OAUTHBEARER");
		return 1;
	}
	snprintf(v->why, sizeof v->why, "offers no OAuth login (XOAUTH2 or OAUTHBEARER); its AUTH offers: %s",
		 p->caps.auth[0] ? p->caps.auth : "nothing");
	return 0;
}

/* The method from what the server offers, or why none fits the login. */
static int choose_method(const struct setup_candidate *c, const struct setup_probe *p, enum setup_login login,
			 struct setup_verdict *v)
{
	struct outbox scratch; /* sasl_choose's words, kept only for the verdict */
	const char *mech = NULL;
	int source_oauth = strcmp(c->auth, "xoauth2") == 0;

	/* The sign-in is saved as the provider's preset: a server without one could not be saved. */
	if (login == SETUP_LOGIN_OAUTH && setup_choose_oauth_preset(c, v->why, sizeof v->why) == NULL)
		return 0;
	if (login == SETUP_LOGIN_OAUTH || (login == SETUP_LOGIN_NONE && source_oauth))
		return choose_oauth_method(p, v);
	if (login == SETUP_LOGIN_PASSWORD && source_oauth) {
		snprintf(v->why, sizeof v->why, "its %s entry says this server takes an OAuth2 sign-in, not a "
			 "password", setup_choose_source_word(c->source));
		return 0;
	}
	if (!p->caps.auth[0]) {
		if (login == SETUP_LOGIN_PASSWORD) {
			snprintf(v->why, sizeof v->why, "offers no login (no AUTH in its EHLO reply): the password "
				 "could be neither used nor checked");
			return 0;
		}
		snprintf(v->auth, sizeof v->auth, "none");
		return 1;
	}
	/* As --auth auto picks on this connection: TLS is up, and channel binding comes with it. */
	memset(&scratch, 0, sizeof scratch);
	if (sasl_choose(&scratch, p->caps.auth, "auto", 1, 0, 1, &mech) < 0 || mech == NULL) {
		snprintf(v->why, sizeof v->why, "offers no login outbox can do: %s", outbox_errdetail(&scratch));
		return 0;
	}
	snprintf(v->auth, sizeof v->auth, "%s", sasl_method_of(mech));
	snprintf(v->mech, sizeof v->mech, "%s", mech);
	return 1;
}

/* Whether candidate i can be used at all; else its verdict says why not. */
static int choose_usable(size_t i, const char *address, enum setup_login login, const struct setup_candidates *list,
			 const struct setup_probes *probes, struct setup_verdict *v)
{
	const struct setup_candidate *c = &list->v[i];
	const struct setup_probe *p = setup_probe_of(probes, i);
	char why[400];

	switch (p->state) {
	case SETUP_PROBE_SKIPPED:
		snprintf(v->why, sizeof v->why, "plain text: never chosen, since anyone on the path could read "
			 "the mail and the password");
		return 0;
	case SETUP_PROBE_NO_ANSWER:
		snprintf(v->why, sizeof v->why, "%s", p->error);
		return 0;
	case SETUP_PROBE_FAILED:
		snprintf(v->why, sizeof v->why, "failed at %s: %s", setup_probe_step_word(p->step), p->error);
		return 0;
	case SETUP_PROBE_OK:
		break;
	}
	if (!choose_method(c, p, login, v))
		return 0;
	/* Whether a password is given now or later, a server saved with a password login sends it
	 * there on its first connection: the rule holds for the login, not for this run. */
	if (strcmp(v->auth, "none") != 0 && !server_auth_is_oauth(v->auth) &&
	    !setup_verify_may_receive_password(list, i, address, why, sizeof why)) {
		snprintf(v->why, sizeof v->why, "logging in takes a password (%s), and %s", v->mech, why);
		v->auth[0] = v->mech[0] = '\0';
		return 0;
	}
	return 1;
}

/* Where a candidate stands by its source: the lower the better. */
static long long choose_position(const struct setup_candidate *c)
{
	return (long long)c->source * 1000000 + (c->rank < 0 ? 0 : c->rank);
}

struct choose_sort {
	const struct setup_candidates *list;
	long long *host_position; /* per candidate: the best position of a usable one on its host */
};

static int choose_before(const struct choose_sort *s, size_t a, size_t b)
{
	const struct setup_candidate *x = &s->list->v[a], *y = &s->list->v[b];

	if (s->host_position[a] != s->host_position[b])
		return s->host_position[a] < s->host_position[b];
	if (x->security != y->security)
		return x->security < y->security; /* TLS, then STARTTLS */
	if (choose_position(x) != choose_position(y))
		return choose_position(x) < choose_position(y);
	if (x->port != y->port)
		return x->port < y->port;
	return a < b;
}

/* The best usable candidate on candidate i's host: what places the host in the order. */
static size_t choose_host_best(const struct setup_choice *c, const struct setup_candidates *list, size_t i)
{
	size_t j, best = i;

	for (j = 0; j < list->n; j++)
		if (c->v[j].usable && strcasecmp(list->v[j].host, list->v[i].host) == 0 &&
		    choose_position(&list->v[j]) < choose_position(&list->v[best]))
			best = j;
	return best;
}

/* Why `loser`, usable, comes after the winner: the first rule that tells them apart. */
static void choose_lost_words(const struct setup_choice *c, const struct setup_candidates *list,
			      const struct setup_probes *probes, size_t loser, struct setup_verdict *lv)
{
	size_t winner = (size_t)c->winner;
	const struct setup_candidate *w = &list->v[winner], *l = &list->v[loser];
	const struct setup_candidate *wb = &list->v[choose_host_best(c, list, winner)];
	const struct setup_candidate *lb = &list->v[choose_host_best(c, list, loser)];
	char rule[300];

	if (setup_probe_of(probes, winner) == setup_probe_of(probes, loser))
		snprintf(rule, sizeof rule, "the same server, proposed first by %s", setup_choose_source_word(w->source));
	else if (strcasecmp(w->host, l->host) == 0 && w->security != l->security)
		snprintf(rule, sizeof rule, "on the same host, TLS from the first byte is preferred to STARTTLS");
	else if (strcasecmp(w->host, l->host) == 0)
		snprintf(rule, sizeof rule, "on the same host, %s comes first by source, rank and port",
			 setup_choose_source_word(w->source));
	else if (wb->source != lb->source)
		snprintf(rule, sizeof rule, "%s comes before %s (%s was proposed by %s)", setup_choose_source_word(wb->source),
			 setup_choose_source_word(lb->source), w->host, setup_choose_source_word(wb->source));
	else if (wb->rank != lb->rank)
		snprintf(rule, sizeof rule, "%s ranks %s %d, before this host's %d", setup_choose_source_word(wb->source),
			 w->host, wb->rank, lb->rank);
	else
		snprintf(rule, sizeof rule, "it comes first in the order");
	snprintf(lv->why, sizeof lv->why, "usable (%s%s%s), but %s port %d (%s) won: %s",
		 security_words[l->security], lv->mech[0] ? ", logs in with " : "", lv->mech, w->host, w->port,
		 security_words[w->security], rule);
}

static void choose_winner_words(const struct setup_choice *ch, const struct setup_candidates *list,
				const struct setup_probes *probes, size_t i, struct setup_verdict *v, size_t passed_over)
{
	const struct setup_candidate *c = &list->v[i], *best = &list->v[choose_host_best(ch, list, i)];
	const struct setup_probe *p = setup_probe_of(probes, i);
	char how[120], reason[400];

	if (v->mech[0])
		snprintf(how, sizeof how, "logs in with %s", v->mech);
	else
		snprintf(how, sizeof how, "no login");
	if (best != c && best->security != c->security)
		snprintf(reason, sizeof reason, "%s proposed %.255s first (%s), and on one host TLS from the first byte "
			 "is preferred", setup_choose_source_word(best->source), c->host, security_words[best->security]);
	else
		snprintf(reason, sizeof reason, "the first by source order among the servers that answered");
	snprintf(v->why, sizeof v->why, "chosen: %s (%s, certificate verified), %s; from %s (%.200s, rank %d): %s%s",
		 security_words[c->security], p->tls[0] ? p->tls : "TLS", how, setup_choose_source_word(c->source),
		 c->origin, c->rank, reason, passed_over ? "; candidates before it could not be used" : "");
}

/* Words for every usable verdict, from the current winner. */
static void choose_explain(struct setup_choice *c, const struct setup_candidates *list,
			   const struct setup_probes *probes)
{
	size_t k;

	if (c->winner < 0)
		return;
	for (k = 0; k < c->nusable; k++) {
		size_t i = c->order[k];

		if (!c->v[i].usable)
			continue;
		if ((long)i == c->winner)
			choose_winner_words(c, list, probes, i, &c->v[i], k);
		else
			choose_lost_words(c, list, probes, i, &c->v[i]);
	}
}

int setup_choose(outbox *h, const char *address, enum setup_login login, const struct setup_candidates *list,
		 const struct setup_probes *probes, struct setup_choice *out)
{
	struct choose_sort s = {list, NULL};
	size_t i, j, k, rest;

	memset(out, 0, sizeof *out);
	out->winner = -1;
	out->n = list->n;
	if (list->n == 0)
		return 0;
	out->v = calloc(list->n, sizeof *out->v);
	out->order = calloc(list->n, sizeof *out->order);
	s.host_position = calloc(list->n, sizeof *s.host_position);
	if (out->v == NULL || out->order == NULL || s.host_position == NULL) {
		free(s.host_position);
		setup_choice_free(out);
		return outbox_fail(h, OUTBOX_ENOMEM, NULL, "out of memory");
	}
	for (i = 0; i < list->n; i++)
		out->v[i].usable = choose_usable(i, address, login, list, probes, &out->v[i]);
	/* A host is as good as its best usable candidate. */
	for (i = 0; i < list->n; i++) {
		s.host_position[i] = choose_position(&list->v[i]);
		for (j = 0; j < list->n; j++)
			if (out->v[j].usable && strcasecmp(list->v[i].host, list->v[j].host) == 0 &&
			    choose_position(&list->v[j]) < s.host_position[i])
				s.host_position[i] = choose_position(&list->v[j]);
	}
	/* Usable ones by preference (an insertion sort: a few dozen candidates at most), then the rest
	 * in the order the sources gave them. */
	for (i = 0; i < list->n; i++) {
		if (!out->v[i].usable)
			continue;
		for (k = out->nusable; k > 0 && choose_before(&s, i, out->order[k - 1]); k--)
			out->order[k] = out->order[k - 1];
		out->order[k] = i;
		out->nusable++;
	}
	rest = out->nusable;
	for (i = 0; i < list->n; i++)
		if (!out->v[i].usable)
			out->order[rest++] = i;
	free(s.host_position);
	if (out->nusable > 0)
		out->winner = (long)out->order[0];
	choose_explain(out, list, probes);
	return 0;
}

void setup_choose_next(struct setup_choice *c, const struct setup_candidates *list,
		       const struct setup_probes *probes, size_t loser, const char *why)
{
	size_t k;

	if (loser >= c->n)
		return;
	c->v[loser].usable = 0;
	snprintf(c->v[loser].why, sizeof c->v[loser].why, "%s", why);
	c->winner = -1;
	for (k = 0; k < c->nusable && c->winner < 0; k++)
		if (c->v[c->order[k]].usable)
			c->winner = (long)c->order[k];
	choose_explain(c, list, probes);
}

void setup_choice_free(struct setup_choice *c)
{
	free(c->v);
	free(c->order);
	memset(c, 0, sizeof *c);
}
