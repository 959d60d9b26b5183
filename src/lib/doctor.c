/* doctor.c: checking a server without sending mail: resolve its name, then open one session with
 * step reports (connect, TLS, EHLO, AUTH) and QUIT, telling the caller how each step went. */
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "deliver_internal.h"
#include "doctor_advice.h"
#include "handle_internal.h"
#include "net.h"
#include "oauth_token.h"
#include "policy.h"
#include "secret.h"
#include "transcript.h"
#include "validate.h"
#include "server_internal.h"
#include "session.h"

/* More addresses than this are summed up as "and N more". */
#define DOCTOR_MAX_ADDRS 4
/* A server greets within a second or two; after 3 s of silence the doctor asks whether the port
 * speaks TLS (on a second connection) rather than wait out the whole timeout. */
#define DOCTOR_GREETING_PROBE_MS 3000

static const char *const doctor_names[OUTBOX_STEP_COUNT] = {"signin", "resolve", "connect", "tls", "ehlo",
								"auth"};

struct doctor {
	outbox *h;
	const outbox_server *s;
	outbox_doctor_callback cb;
	void *ctx;
	const char *host, *security, *auth, *user, *name;
	int port;
	int need_tls, need_auth, oauth;
	const outbox_signin *signin; /* told with the signin step's end */
	/* As sending does: a refused cached token is refreshed and the login tried once more, on a
	 * second session whose steps before the login were reported already. */
	int refreshed;   /* the access token came from the provider for this check */
	struct transcript verbose; /* -v: where a refresh's HTTP exchange is shown too */
	int login_again; /* the server refused the cached token: refresh, then log in once more */
	int replaying;   /* that second session: only its login, or a failure, is news */
	int step;           /* the step under way, or -1 */
	int failed;         /* a step was reported failed: the check is over */
	int auth_reported;
	long long started;
	/* A password that could not be fetched fails AUTH, as it fails sending, but only once the
	 * earlier steps have had their say. */
	int password_rc;
	struct outbox_error_copy password_err;
	char title[320];
	char detail[1400];
	char advice[900];
	char form_advice[900]; /* the advice in the form's words */
	char form_detail[1400]; /* the detail in them */
	struct doctor_fix fix; /* the fields the failed step's advice sets, if any */
	char helo[256], local[80]; /* the name given in EHLO, and the local address's literal */
};

static const char *doctor_val(const struct doctor *d, outbox_server_field_id id)
{
	return d->s->rec.val[id];
}

static void doctor_tell(struct doctor *d, outbox_step_status status, long long elapsed)
{
	outbox_doctor_report r;

	if (d->cb == NULL)
		return;
	memset(&r, 0, sizeof r);
	r.step = (outbox_doctor_step)d->step;
	r.status = status;
	r.name = doctor_names[d->step];
	r.title = d->title;
	r.detail = status == OUTBOX_STEP_RUNNING ? "" : d->detail;
	r.advice = status == OUTBOX_STEP_FAILED ? d->advice : "";
	r.elapsed_ms = elapsed;
	r.signin = d->step == OUTBOX_STEP_SIGNIN && status != OUTBOX_STEP_RUNNING ? d->signin : NULL;
	d->form_advice[0] = d->form_detail[0] = '\0';
	if (status == OUTBOX_STEP_FAILED)
		doctor_form_words(d->advice, d->form_advice, sizeof d->form_advice);
	if (status != OUTBOX_STEP_RUNNING)
		doctor_form_words(d->detail, d->form_detail, sizeof d->form_detail);
	r.form_advice = d->form_advice;
	r.form_detail = d->form_detail;
	if (status == OUTBOX_STEP_FAILED && d->fix.n) {
		r.fix = d->fix.set;
		r.nfix = d->fix.n;
	}
	d->cb(d->ctx, &r);
}

static void doctor_title(struct doctor *d, outbox_doctor_step step)
{
	switch (step) {
	case OUTBOX_STEP_SIGNIN:
		snprintf(d->title, sizeof d->title, "Sign-in with OAuth (%s)", doctor_val(d, OUTBOX_SERVER_OAUTH));
		break;
	case OUTBOX_STEP_RESOLVE:
		snprintf(d->title, sizeof d->title, "Resolve %s", d->host);
		break;
	case OUTBOX_STEP_CONNECT:
		snprintf(d->title, sizeof d->title, "Connect to %s port %d", d->host, d->port);
		break;
	case OUTBOX_STEP_TLS:
		snprintf(d->title, sizeof d->title, "%s and the certificate",
			 !d->need_tls ? "TLS" : strcmp(d->security, "tls") == 0 ? "TLS from the first byte"
										  : "STARTTLS");
		break;
	case OUTBOX_STEP_EHLO:
		snprintf(d->title, sizeof d->title, "Greeting and capabilities (EHLO)");
		break;
	default:
		if (strcmp(d->auth, "external") == 0)
			snprintf(d->title, sizeof d->title, "Log in with the client certificate (EXTERNAL)");
		else if (d->need_auth)
			snprintf(d->title, sizeof d->title, "Log in as %s", d->user);
		else
			snprintf(d->title, sizeof d->title, "Log in");
		break;
	}
}

static void doctor_begin(struct doctor *d, outbox_doctor_step step)
{
	d->step = (int)step;
	d->started = net_now_ms();
	d->detail[0] = d->advice[0] = '\0';
	d->fix.n = 0;
	doctor_title(d, step);
	doctor_tell(d, OUTBOX_STEP_RUNNING, 0);
}

static void doctor_ok(struct doctor *d)
{
	doctor_tell(d, OUTBOX_STEP_OK, net_now_ms() - d->started);
	d->step = -1;
}

static void doctor_skip(struct doctor *d, outbox_doctor_step step, const char *why)
{
	d->step = (int)step;
	doctor_title(d, step);
	snprintf(d->detail, sizeof d->detail, "%s", why);
	d->advice[0] = '\0';
	doctor_tell(d, OUTBOX_STEP_SKIPPED, 0);
	d->step = -1;
}

/* Report the step under way as failed, in the words of the handle's message and the last reply. */
static void doctor_fail(struct doctor *d, int rc, const struct smtp_reply *reply, const char *mech)
{
	struct doctor_failure f;
	char words[SMTP_REPLY_MAX_TEXT + 32];
	const char *field = outbox_errfield(d->h);

	words[0] = '\0';
	if (reply)
		smtp_reply_line(reply, words, sizeof words);
	memset(&f, 0, sizeof f);
	f.step = (outbox_doctor_step)d->step;
	f.code = rc;
	f.message = outbox_errmsg(d->h);
	f.field = field ? field : "";
	f.reply = words;
	f.name = d->name;
	f.host = d->host;
	f.port = d->port;
	f.security = d->security;
	f.auth = d->auth;
	f.user = d->user;
	f.mech = mech ? mech : "";
	f.server_reply = reply;
	f.oauth = d->oauth;
	f.helo = d->helo;
	f.local = d->local;
	doctor_advise(&f, d->detail, sizeof d->detail, d->advice, sizeof d->advice, &d->fix);
	doctor_tell(d, OUTBOX_STEP_FAILED, net_now_ms() - d->started);
	d->failed = rc;
	d->step = -1;
}

/* AUTH could not be judged without the password: the reason it was missing is the finding. */
static void doctor_fail_password(struct doctor *d)
{
	outbox_error_restore(d->h, &d->password_err);
	doctor_fail(d, d->password_rc, NULL, NULL);
}

static void doctor_tls_detail(struct doctor *d, const char *tls)
{
	int verify = strcmp(doctor_val(d, OUTBOX_SERVER_TLS_VERIFY), "true") == 0;
	const char *ca = doctor_val(d, OUTBOX_SERVER_TLS_CA);

	snprintf(d->detail, sizeof d->detail, "%s, certificate %s %s%s%s%s", tls,
		 verify ? "verified for" : "not verified (--no-tls-verify) for", d->host,
		 verify && *ca ? " by " : "", verify && *ca ? ca : "",
		 *doctor_val(d, OUTBOX_SERVER_TLS_PIN) ? ", pin matches" : "");
}

static void doctor_ehlo_detail(struct doctor *d, const struct session_event *ev)
{
	char caps[900], greeting[400];

	doctor_caps_words(ev->caps, caps, sizeof caps);
	validate_display(greeting, sizeof greeting, ev->greeting, strlen(ev->greeting));
	/* The name given goes with the answer: a server may judge it, and --helo changes it. */
	if (ev->greeting[0])
		snprintf(d->detail, sizeof d->detail, "%s; greeting \"%s\"; EHLO as %s", caps, greeting, ev->helo);
	else
		snprintf(d->detail, sizeof d->detail, "%s; EHLO as %s", caps, ev->helo);
}

static outbox_doctor_step doctor_step_of(enum session_step step)
{
	switch (step) {
	case SESSION_STEP_CONNECT: return OUTBOX_STEP_CONNECT;
	case SESSION_STEP_TLS: return OUTBOX_STEP_TLS;
	case SESSION_STEP_EHLO: return OUTBOX_STEP_EHLO;
	default: return OUTBOX_STEP_AUTH;
	}
}

/* The session's step reports, turned into the doctor's: each end starts the next step. */
static void doctor_on_step(void *ctx, const struct session_event *ev)
{
	struct doctor *d = ctx;

	if (d->failed || (d->replaying && ev->step != SESSION_STEP_AUTH && ev->rc == 0))
		return;
	snprintf(d->helo, sizeof d->helo, "%s", ev->helo ? ev->helo : "");
	snprintf(d->local, sizeof d->local, "%s", ev->local ? ev->local : "");
	if (d->step != (int)doctor_step_of(ev->step))
		doctor_begin(d, doctor_step_of(ev->step)); /* not expected: the same rules decide both */
	if (ev->step == SESSION_STEP_AUTH)
		d->auth_reported = 1;
	if (ev->rc < 0) {
		if (ev->step == SESSION_STEP_AUTH && d->password_rc == 0 && !d->replaying &&
		    oauth_token_retry_refused(d->s, ev->rc, d->refreshed)) {
			d->login_again = 1; /* the step goes on: judged after the refresh */
			return;
		}
		if (ev->step == SESSION_STEP_AUTH && d->password_rc < 0)
			doctor_fail_password(d);
		else
			doctor_fail(d, ev->rc, ev->reply, ev->mech);
		return;
	}
	switch (ev->step) {
	case SESSION_STEP_CONNECT:
		snprintf(d->detail, sizeof d->detail, "connected to %s port %d", ev->peer[0] ? ev->peer : d->host,
			 d->port);
		doctor_ok(d);
		if (d->need_tls) {
			doctor_begin(d, OUTBOX_STEP_TLS);
		} else {
			doctor_skip(d, OUTBOX_STEP_TLS, "not used (--security none): anyone on the path can read "
				    "the mail");
			doctor_begin(d, OUTBOX_STEP_EHLO);
		}
		break;
	case SESSION_STEP_TLS:
		doctor_tls_detail(d, ev->tls);
		doctor_ok(d);
		doctor_begin(d, OUTBOX_STEP_EHLO);
		break;
	case SESSION_STEP_EHLO:
		doctor_ehlo_detail(d, ev);
		doctor_ok(d);
		if (d->need_auth)
			doctor_begin(d, OUTBOX_STEP_AUTH);
		break;
	case SESSION_STEP_AUTH:
		if (d->password_rc < 0) {
			doctor_fail_password(d);
			return;
		}
		snprintf(d->detail, sizeof d->detail, "logged in with %s%s", ev->mech ? ev->mech : "?",
			 d->replaying ? " (the server refused the stored access token; refreshed, as sending does)" : "");
		doctor_ok(d);
		break;
	}
}

/* The password as sending gets it, except that a draft's new one (or its new password command)
 * is what is being checked. NULL without one. */
static int doctor_password(outbox *h, const outbox_server *s, struct transcript verbose, char **out,
			   int *refreshed)
{
	*out = NULL;
	*refreshed = 0;
	if (s->password_change == PASSWORD_SET) {
		if ((*out = strdup(s->new_password)) == NULL)
			return outbox_fail(h, OUTBOX_ENOMEM, NULL, "out of memory");
		return 0;
	}
	if (*s->rec.val[OUTBOX_SERVER_PASSWORD_COMMAND])
		return deliver_password_command(h, s, out);
	if (s->password_change == PASSWORD_FORGET)
		return 0; /* the draft drops the password: AUTH will say one is needed */
	return deliver_password(h, s, verbose, out, refreshed);
}

/* The sign-in of an OAuth server, before the network: who, until when, renewable. One that cannot
 * log in is the finding, and no login is tried without it (it would only be refused). */
static int doctor_signin(struct doctor *d)
{
	outbox_signin in;
	int rc;

	doctor_begin(d, OUTBOX_STEP_SIGNIN);
	if ((rc = outbox_server_signin(d->h, d->s, &in)) < 0) {
		doctor_fail(d, rc, NULL, NULL);
		return rc;
	}
	d->signin = &in;
	outbox_signin_words(&in, d->detail, sizeof d->detail);
	if (in.usable) {
		doctor_ok(d);
		d->signin = NULL;
		return 0;
	}
	outbox_signin_advice(&in, d->name, d->advice, sizeof d->advice);
	rc = outbox_fail(d->h, OUTBOX_EAUTH, "oauth", "server \"%s\" %s: %s", d->name,
			 !in.signed_in ? "is not signed in" : in.user_changed ? "is signed in for another user"
							: "has an expired access token and no refresh token", d->advice);
	/* What sending does meanwhile, as for any refused login. */
	snprintf(d->advice + strlen(d->advice), sizeof d->advice - strlen(d->advice), ". %s",
		 policy_meanwhile(rc));
	doctor_tell(d, OUTBOX_STEP_FAILED, net_now_ms() - d->started);
	d->signin = NULL;
	d->failed = rc;
	d->step = -1;
	return rc;
}

/* The server refused the cached access token (the first session has ended): refresh it and log
 * in once more on a new session, as sending does. */
static int doctor_login_again(struct doctor *d, struct session_params *sp, struct session **sess,
			      char **password)
{
	char *fresh = NULL;
	int rc;

	if ((rc = oauth_token_access(d->h, d->s, 1, d->verbose, &fresh, NULL)) < 0) {
		doctor_fail(d, rc, NULL, NULL);
		return rc;
	}
	secret_wipe(*password);
	*password = fresh;
	sp->password = fresh;
	d->replaying = 1;
	return session_open(d->h, sp, sess);
}

/* "smtp.example.org → 192.0.2.1, 2001:db8::1": the addresses in the resolver's order. */
static int doctor_resolve(struct doctor *d)
{
	struct addrinfo *list = NULL, *ai;
	char seen[DOCTOR_MAX_ADDRS][64];
	int shown = 0, more = 0, rc, i;

	if (!d->host[0])
		return outbox_fail(d->h, OUTBOX_EINVALID, "host", "no host name is set");
	/* The same time the connection step gets: the server's timeout. */
	if ((rc = net_resolve(d->h, d->host, d->port,
			      net_now_ms() + strtoll(doctor_val(d, OUTBOX_SERVER_TIMEOUT), NULL, 10) * 1000, &list)) < 0)
		return rc;
	snprintf(d->detail, sizeof d->detail, "%s →", d->host);
	for (ai = list; ai; ai = ai->ai_next) {
		char addr[64];
		int dup = 0;
		if ((ai->ai_family != AF_INET && ai->ai_family != AF_INET6) ||
		    getnameinfo(ai->ai_addr, ai->ai_addrlen, addr, sizeof addr, NULL, 0, NI_NUMERICHOST) != 0)
			continue;
		for (i = 0; i < shown; i++)
			dup |= strcmp(seen[i], addr) == 0;
		if (dup)
			continue;
		if (shown == DOCTOR_MAX_ADDRS) {
			more++;
			continue;
		}
		snprintf(seen[shown], sizeof seen[shown], "%s", addr);
		size_t len = strlen(d->detail);
		snprintf(d->detail + len, sizeof d->detail - len, "%s %s", shown ? "," : "", addr);
		shown++;
	}
	freeaddrinfo(list);
	if (shown == 0)
		return outbox_fail(d->h, OUTBOX_EUNAVAILABLE, NULL, "cannot resolve %s: no IPv4 or IPv6 address",
				   d->host);
	if (shown == 1 && strcmp(seen[0], d->host) == 0)
		snprintf(d->detail, sizeof d->detail, "%s is an address: nothing to look up", d->host);
	if (more) {
		size_t len = strlen(d->detail);
		snprintf(d->detail + len, sizeof d->detail - len, " and %d more", more);
	}
	return 0;
}

int outbox_doctor_check_transcript(outbox *h, const outbox_server *s, outbox_doctor_callback cb,
				   void (*transcript)(void *ctx, char direction, const char *line, size_t len),
				   void *ctx)
{
	struct doctor d;
	struct session_params sp;
	struct session *sess = NULL;
	char *password = NULL;
	struct transcript shown = {transcript, ctx};
	int rc;

	memset(&d, 0, sizeof d);
	d.h = h;
	d.s = s;
	d.cb = cb;
	d.ctx = ctx;
	d.step = -1;
	d.host = doctor_val(&d, OUTBOX_SERVER_HOST);
	d.port = (int)strtol(doctor_val(&d, OUTBOX_SERVER_PORT), NULL, 10);
	d.security = doctor_val(&d, OUTBOX_SERVER_SECURITY);
	d.auth = doctor_val(&d, OUTBOX_SERVER_AUTH);
	d.user = doctor_val(&d, OUTBOX_SERVER_USER);
	d.name = doctor_val(&d, OUTBOX_SERVER_NAME);
	d.need_tls = strcmp(d.security, "none") != 0;
	/* As the engine decides: "none" never logs in, EXTERNAL needs no user, the rest need one. */
	d.need_auth = strcmp(d.auth, "none") != 0 && (strcmp(d.auth, "external") == 0 || *d.user);
	d.oauth = *doctor_val(&d, OUTBOX_SERVER_OAUTH) && strcmp(doctor_val(&d, OUTBOX_SERVER_OAUTH), "none") != 0;

	outbox_clear_error(h);
	if (d.oauth && doctor_signin(&d) < 0)
		goto out;
	d.verbose = shown;
	if ((d.password_rc = doctor_password(h, s, shown, &password, &d.refreshed)) < 0) {
		outbox_error_save(h, &d.password_err);
		outbox_clear_error(h);
	}

	doctor_begin(&d, OUTBOX_STEP_RESOLVE);
	if ((rc = doctor_resolve(&d)) < 0) {
		doctor_fail(&d, rc, NULL, NULL);
		goto out;
	}
	doctor_ok(&d);

	memset(&sp, 0, sizeof sp);
	sp.server = s;
	sp.password = password;
	sp.transcript = transcript ? transcript_forward : NULL;
	sp.transcript_ctx = &shown;
	sp.step = doctor_on_step;
	sp.step_ctx = &d;
	/* Silence where the greeting should be: ask soon whether the port speaks TLS. */
	sp.greeting_probe_ms = DOCTOR_GREETING_PROBE_MS;
	doctor_begin(&d, OUTBOX_STEP_CONNECT);
	rc = session_open(h, &sp, &sess);
	if (rc < 0 && d.login_again)
		rc = doctor_login_again(&d, &sp, &sess, &password);
	if (rc < 0) {
		if (!d.failed) /* every failure is reported as a step's end; this is a safety net */
			doctor_fail(&d, rc, NULL, NULL);
		goto out;
	}
	if (!d.auth_reported && d.password_rc < 0) {
		doctor_begin(&d, OUTBOX_STEP_AUTH);
		doctor_fail_password(&d);
	} else if (!d.auth_reported) {
		doctor_skip(&d, OUTBOX_STEP_AUTH, strcmp(d.auth, "none") == 0 ? "not used (--auth none)"
									      : "not needed: no user name is set");
	}
out:
	/* QUIT (no mail was sent); closing keeps the failure's message on the handle. */
	session_close(h, sess);
	secret_wipe(password);
	if (d.failed == 0)
		outbox_clear_error(h);
	return d.failed;
}

int outbox_doctor_check(outbox *h, const outbox_server *s, outbox_doctor_callback cb, void *ctx)
{
	return outbox_doctor_check_transcript(h, s, cb, NULL, ctx);
}
