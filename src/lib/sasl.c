/* sasl.c: SMTP AUTH without I/O: which mechanism to use, and each base64 line to send.
 * GNU SASL computes CRAM-MD5 and SCRAM(-PLUS); PLAIN, LOGIN, XOAUTH2, OAUTHBEARER and EXTERNAL
 * are one or two formatted messages each, built here. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "buf.h"
#include "handle_internal.h"
#include "sasl.h"
#include "sasl_lib.h"
#include "server_internal.h"

enum {
	M_IR = 1 << 0,    /* sends an initial response with AUTH */
	M_PLUS = 1 << 1,  /* SCRAM with channel binding: needs data from the TLS layer */
	M_GSASL = 1 << 2, /* computed by GNU SASL */
	M_AUTO = 1 << 3,  /* a password mechanism that "auto" may pick */
	M_OAUTH = 1 << 4  /* the password is an OAuth 2.0 bearer token */
};

struct mech {
	const char *name; /* as the server lists it after AUTH */
	const char *cli;  /* as --auth names it */
	unsigned flags;
};

/* "auto" and a configured SCRAM method both take the first usable entry, so this order is the
 * order of preference: channel binding first, then the strongest hash, then the rest. */
static const struct mech mechs[] = {
	{"SCRAM-SHA-256-PLUS", "scram-sha-256", M_IR | M_PLUS | M_GSASL | M_AUTO},
	{"SCRAM-SHA-1-PLUS", "scram-sha-1", M_IR | M_PLUS | M_GSASL | M_AUTO},
	{"SCRAM-SHA-256", "scram-sha-256", M_IR | M_GSASL | M_AUTO},
	{"SCRAM-SHA-1", "scram-sha-1", M_IR | M_GSASL | M_AUTO},
	{"CRAM-MD5", "cram-md5", M_GSASL | M_AUTO},
	/* Built here, not by GNU SASL: the most used mechanisms then do not load it (nor libidn,
	 * libntlm and libgssglue behind it), and what they send is the same bytes: PLAIN is RFC
	 * 4616's authzid NUL authcid NUL passwd with no authzid, LOGIN the user, then the password. */
	{"PLAIN", "plain", M_IR | M_AUTO},
	{"LOGIN", "login", M_AUTO},
	{"XOAUTH2", "xoauth2", M_IR | M_OAUTH},
	{"OAUTHBEARER", "oauthbearer", M_IR | M_OAUTH},
	{"EXTERNAL", "external", M_IR},
};
#define MECH_COUNT (sizeof mechs / sizeof mechs[0])

struct sasl_session {
	const struct mech *mech;
	Gsasl_session *gs;  /* GNU SASL's half; NULL for the mechanisms built here */
	/* The message of a mechanism built here, holding the password or the token; LOGIN's is its
	 * two, the user and the password, with a NUL between. */
	struct buf message;
	int steps;          /* calls to sasl_step that produced a response */
	int done;
	int answered_error; /* XOAUTH2/OAUTHBEARER: the reply to the server's error challenge went */
};

static const struct mech *mech_find(const char *name)
{
	size_t i;

	for (i = 0; name != NULL && i < MECH_COUNT; i++)
		if (strcasecmp(mechs[i].name, name) == 0)
			return &mechs[i];
	return NULL;
}

/* Whether the space-separated list `offered` holds `name` (any case). */
static int offers(const char *offered, const char *name)
{
	size_t n = strlen(name), len;
	const char *p = offered;

	while (*p) {
		p += strspn(p, " \t");
		len = strcspn(p, " \t");
		if (len == n && strncasecmp(p, name, n) == 0)
			return 1;
		p += len;
	}
	return 0;
}

enum refusal { USABLE, NEEDS_CB, IN_CLEAR };

static enum refusal refusal(const struct mech *m, int tls, int allow_insecure, int have_cb)
{
	if ((m->flags & M_PLUS) && !(tls && have_cb))
		return NEEDS_CB;
	if (!tls && !allow_insecure && server_auth_reveals_password(m->cli))
		return IN_CLEAR;
	return USABLE;
}

static const char in_clear_fix[] = "use --security starttls or tls, or --allow-insecure-auth if "
				   "this network is trusted";

/* Append to `b` what the user can do about `offered`: ": use --auth plain, --auth login or
 * --auth auto" from the methods that would work on this connection (auto only when it would
 * find one); with none and `explain`, why none of the offered ones can be used. */
static void advise(struct buf *b, const char *offered, int tls, int allow_insecure, int have_cb,
		   int explain)
{
	const char *use[MECH_COUNT + 1];
	size_t n = 0, i, j;
	int supported = 0, in_clear = 0, auto_ok = 0;

	for (i = 0; i < MECH_COUNT; i++) {
		const struct mech *m = &mechs[i];
		enum refusal why;

		if (!offers(offered, m->name))
			continue;
		supported = 1;
		why = refusal(m, tls, allow_insecure, have_cb);
		if (why == IN_CLEAR)
			in_clear = 1;
		if (why != USABLE)
			continue;
		if (m->flags & M_AUTO)
			auto_ok = 1;
		/* SCRAM with and without -PLUS is one --auth choice. */
		for (j = 0; j < n && strcmp(use[j], m->cli) != 0; j++)
			;
		if (j == n)
			use[n++] = m->cli;
	}
	if (auto_ok)
		use[n++] = "auto";
	for (i = 0; i < n; i++)
		buf_printf(b, "%s--auth %s", i == 0 ? ": use " : i + 1 == n ? " or " : ", ", use[i]);
	if (n > 0 || !explain)
		return;
	if (!supported)
		buf_puts(b, ", none of which outbox supports");
	else if (in_clear)
		buf_printf(b, ", which would send the password in clear without TLS: %s", in_clear_fix);
	else if (!tls)
		buf_puts(b, ", which needs channel binding and so TLS: use --security starttls or tls");
	else
		buf_puts(b, ", which needs channel binding data that this TLS connection does not give");
}

static int choose_fail(outbox *h, const char *offered, const struct mech *want,
		       const struct mech *refused, enum refusal why, int tls, int allow_insecure,
		       int have_cb)
{
	struct buf b = BUF_INIT;
	int rc;

	if (offered[strspn(offered, " \t")] == '\0') {
		buf_puts(&b, "the server offers no authentication (no AUTH in its reply to EHLO)");
		buf_puts(&b, tls ? ": use --auth none if it needs no login"
				 : ": many servers offer it only over TLS: use --security starttls or "
				   "tls, or --auth none if it needs no login");
	} else if (refused != NULL && why == IN_CLEAR) {
		buf_printf(&b, "%s would send the password in clear without TLS: %s", refused->cli,
			   in_clear_fix);
	} else if (refused != NULL && want != NULL) {
		/* Only the -PLUS variant of the configured SCRAM is offered. */
		buf_printf(&b, "the server offers %s only with channel binding (%s)", want->name,
			   refused->name);
		if (!tls)
			buf_puts(&b, ", which needs TLS: use --security starttls or tls");
		else
			buf_puts(&b, ", and this TLS connection gives no channel binding data");
		advise(&b, offered, tls, allow_insecure, have_cb, 0);
	} else {
		if (want != NULL)
			buf_printf(&b, "the server does not offer %s; it offers %s", want->name, offered);
		else
			buf_printf(&b, "the server offers only %s", offered);
		advise(&b, offered, tls, allow_insecure, have_cb, 1);
	}
	/* A failed append leaves what fit; the message is still worth showing. */
	rc = outbox_fail(h, OUTBOX_ECONFIG, "auth", "%s", b.data ? b.data : "no usable mechanism");
	buf_free(&b);
	return rc;
}

int sasl_choose(outbox *h, const char *offered, const char *configured, int tls, int allow_insecure,
		int have_channel_binding, const char **mech)
{
	const struct mech *want = NULL, *refused = NULL;
	enum refusal first_why = USABLE;
	int is_auto = configured == NULL || strcasecmp(configured, "auto") == 0;
	size_t i;

	*mech = NULL;
	if (offered == NULL)
		offered = "";
	if (!is_auto && strcasecmp(configured, "none") == 0)
		return 0;
	/* A configured method is named after its variant without -PLUS. */
	for (i = 0; !is_auto && i < MECH_COUNT && want == NULL; i++)
		if (strcasecmp(mechs[i].cli, configured) == 0 && !(mechs[i].flags & M_PLUS))
			want = &mechs[i];
	if (!is_auto && want == NULL)
		return outbox_fail(h, OUTBOX_EINVALID, "auth",
				   "unknown method \"%s\": use auto, none, plain, login, cram-md5, "
				   "scram-sha-1, scram-sha-256, xoauth2, oauthbearer or external",
				   configured);
	for (i = 0; i < MECH_COUNT; i++) {
		const struct mech *m = &mechs[i];
		enum refusal why;

		if (is_auto ? !(m->flags & M_AUTO) : strcmp(m->cli, want->cli) != 0)
			continue;
		if (!offers(offered, m->name))
			continue;
		why = refusal(m, tls, allow_insecure, have_channel_binding);
		if (why == USABLE) {
			*mech = m->name;
			return 0;
		}
		if (refused == NULL) {
			refused = m;
			first_why = why;
		}
	}
	/* With "auto" a refusal is explained from the whole offer; a configured method that the
	 * server offers but that cannot be used here gets its own reason. */
	return choose_fail(h, offered, want, is_auto ? NULL : refused, first_why, tls,
			   allow_insecure, have_channel_binding);
}

const char *sasl_method_of(const char *mech)
{
	const struct mech *m = mech_find(mech);

	return m ? m->cli : "auto";
}

int sasl_has_initial_response(const char *name)
{
	const struct mech *m = mech_find(name);

	return m != NULL && (m->flags & M_IR);
}

/* Base64 into a fresh malloc'd string, so the caller's free() matches and no hidden copy of a
 * password is left in a buffer we did not wipe. */
static char *b64_encode(const unsigned char *in, size_t n)
{
	static const char digits[] =
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	char *out, *o;
	size_t i;

	if (n > (SIZE_MAX - 1) / 4 * 3 - 3)
		return NULL;
	out = o = malloc((n + 2) / 3 * 4 + 1);
	if (out == NULL)
		return NULL;
	for (i = 0; i + 2 < n; i += 3) {
		unsigned long v = (unsigned long)in[i] << 16 | (unsigned long)in[i + 1] << 8 | in[i + 2];
		*o++ = digits[v >> 18];
		*o++ = digits[(v >> 12) & 63];
		*o++ = digits[(v >> 6) & 63];
		*o++ = digits[v & 63];
	}
	if (i < n) {
		unsigned long v = (unsigned long)in[i] << 16;

		if (i + 1 < n)
			v |= (unsigned long)in[i + 1] << 8;
		*o++ = digits[v >> 18];
		*o++ = digits[(v >> 12) & 63];
		*o++ = i + 1 < n ? digits[(v >> 6) & 63] : '=';
		*o++ = '=';
	}
	*o = '\0';
	return out;
}

/* GNU SASL copies each property and later frees it without clearing it; overwrite the copy
 * first. The pointer is to gsasl's own heap string, so writing to it is safe just before the
 * free even though the API hands it out as const. */
static void forget(Gsasl_session *gs, Gsasl_property prop)
{
	char *p = (char *)(uintptr_t)sasl_lib_get()->property_fast(gs, prop);

	if (p != NULL)
		explicit_bzero(p, strlen(p));
	sasl_lib_get()->property_free(gs, prop);
}

static void forget_all(Gsasl_session *gs)
{
	/* The salted password is what SCRAM derives its keys from: as good as the password for
	 * this server's salt. */
	static const Gsasl_property secret[] = {
		GSASL_PASSWORD,      GSASL_SCRAM_SALTED_PASSWORD, GSASL_SCRAM_SERVERKEY,
		GSASL_SCRAM_STOREDKEY, GSASL_AUTHID,              GSASL_CB_TLS_UNIQUE,
		GSASL_CB_TLS_EXPORTER,
	};
	size_t i;

	for (i = 0; i < sizeof secret / sizeof secret[0]; i++)
		forget(gs, secret[i]);
}

static int fail_gsasl(outbox *h, const struct mech *m, int rc)
{
	switch (rc) {
	case GSASL_MALLOC_ERROR:
		return outbox_fail(h, OUTBOX_ENOMEM, NULL, "out of memory in %s", m->name);
	case GSASL_SASLPREP_ERROR:
		return outbox_fail(h, OUTBOX_EINVALID, "user",
				   "%s cannot use this user name or password: it holds characters "
				   "that SASLprep (RFC 4013) forbids", m->name);
	case GSASL_NO_CB_TLS_UNIQUE:
	case GSASL_NO_CB_TLS_EXPORTER:
		return outbox_fail(h, OUTBOX_ECONFIG, "auth",
				   "%s needs channel binding data from the TLS connection, and there is none",
				   m->name);
	case GSASL_AUTHENTICATION_ERROR:
		/* The SCRAM client says this when the server's nonce or signature does not match:
		 * the other end did not prove it knows the password. */
		return outbox_fail(h, OUTBOX_EAUTH, "auth",
				   "the server failed %s's check of its reply: it may not be the server "
				   "it claims to be", m->name);
	case GSASL_MECHANISM_PARSE_ERROR:
	case GSASL_BASE64_ERROR:
		return outbox_fail(h, OUTBOX_EPROTOCOL, "auth", "the server's %s challenge is malformed",
				   m->name);
	case GSASL_MECHANISM_CALLED_TOO_MANY_TIMES:
		return outbox_fail(h, OUTBOX_EPROTOCOL, "auth",
				   "the server asked for more after the %s exchange was complete", m->name);
	case GSASL_UNKNOWN_MECHANISM:
		return outbox_fail(h, OUTBOX_ECONFIG, "auth",
				   "this GNU SASL library was built without %s: choose another --auth",
				   m->name);
	default:
		return outbox_fail(h, OUTBOX_EPROTOCOL, "auth", "%s failed: %s", m->name,
				   sasl_lib_get()->strerror(rc));
	}
}

static int set_property(outbox *h, struct sasl_session *s, Gsasl_property prop, const char *value)
{
	int rc = sasl_lib_get()->property_set(s->gs, prop, value);

	return rc == GSASL_OK ? 0 : fail_gsasl(h, s->mech, rc);
}

static int start_gsasl(outbox *h, struct sasl_session *s, const struct sasl_params *p)
{
	const struct mech *m = s->mech;
	const struct sasl_lib *gs = sasl_lib_get();
	int rc;

	if (gs == NULL)
		return outbox_fail(h, OUTBOX_ECONFIG, "auth", "%s: " SASL_LIB_MISSING, m->name);
	if (gs->init_rc != GSASL_OK)
		return outbox_fail(h, gs->init_rc == GSASL_MALLOC_ERROR ? OUTBOX_ENOMEM : OUTBOX_ECONFIG,
				   NULL, "GNU SASL did not start: %s", gs->strerror(gs->init_rc));
	if ((rc = gs->client_start(gs->ctx, m->name, &s->gs)) != GSASL_OK) {
		s->gs = NULL;
		return fail_gsasl(h, m, rc);
	}
	if ((rc = set_property(h, s, GSASL_AUTHID, p->user)) < 0 ||
	    (rc = set_property(h, s, GSASL_PASSWORD, p->password)) < 0)
		return rc;
	/* Channel binding data goes only to -PLUS. Given to plain SCRAM, GNU SASL 2.2 would send
	 * the "y" flag and instead fails the first message; and -PLUS is chosen whenever both
	 * sides can bind, which is what the "y" flag would have guarded. */
	if (m->flags & M_PLUS) {
		char *b64 = b64_encode(p->cb_data, p->cb_len);

		if (b64 == NULL)
			return outbox_fail(h, OUTBOX_ENOMEM, NULL, "out of memory in %s", m->name);
		rc = set_property(h, s, strcmp(p->cb_type, "tls-exporter") == 0 ? GSASL_CB_TLS_EXPORTER
										  : GSASL_CB_TLS_UNIQUE,
				  b64);
		free(b64);
		if (rc < 0)
			return rc;
	}
	return 0;
}

/* An OAUTHBEARER GS2 header names the user as a saslname (RFC 5801): "," and "=" escaped. */
static void put_saslname(struct buf *b, const char *s)
{
	for (; *s; s++) {
		if (*s == ',')
			buf_puts(b, "=2C");
		else if (*s == '=')
			buf_puts(b, "=3D");
		else
			buf_append(b, s, 1);
	}
}

static int start_built(outbox *h, struct sasl_session *s, const struct sasl_params *p)
{
	struct buf *b = &s->message;

	if (strcmp(s->mech->name, "EXTERNAL") == 0)
		return 0; /* empty: the identity is the client certificate's, no authzid asked */
	if (strcmp(s->mech->name, "PLAIN") == 0 || strcmp(s->mech->name, "LOGIN") == 0) {
		size_t lead = strcmp(s->mech->name, "PLAIN") == 0; /* no authzid: the user's own */

		buf_append(b, "", lead);
		buf_append(b, p->user, strlen(p->user) + 1);
		buf_append(b, p->password, strlen(p->password));
		if (b->len != lead + strlen(p->user) + 1 + strlen(p->password))
			return outbox_fail(h, OUTBOX_ENOMEM, NULL, "out of memory in %s", s->mech->name);
		return 0;
	}
	/* 0x01 separates the key=value pairs; inside a value it would forge another pair. */
	if (strchr(p->user, '\x01'))
		return outbox_fail(h, OUTBOX_EINVALID, "user", "must not hold a control character");
	if (strchr(p->password, '\x01'))
		return outbox_fail(h, OUTBOX_EINVALID, "password",
				   "the access token must not hold a control character");
	if (strcmp(s->mech->name, "XOAUTH2") == 0) {
		buf_printf(b, "user=%s\x01" "auth=Bearer %s\x01\x01", p->user, p->password);
	} else {
		/* RFC 7628 section 3.1; host and port are optional there, so left out when unknown. */
		buf_puts(b, "n,a=");
		put_saslname(b, p->user);
		buf_puts(b, ",\x01");
		if (p->host != NULL && *p->host != '\0' && strchr(p->host, '\x01') == NULL)
			buf_printf(b, "host=%s\x01", p->host);
		if (p->port > 0)
			buf_printf(b, "port=%d\x01", p->port);
		buf_printf(b, "auth=Bearer %s\x01\x01", p->password);
	}
	/* Any failed append above left a gap; the final "\x01\x01" then is missing too. */
	if (b->len < 2 || memcmp(b->data + b->len - 2, "\x01\x01", 2) != 0)
		return outbox_fail(h, OUTBOX_ENOMEM, NULL, "out of memory in %s", s->mech->name);
	return 0;
}

int sasl_start(outbox *h, const char *name, const struct sasl_params *p, struct sasl_session **out)
{
	const struct mech *m = mech_find(name);
	struct sasl_session *s;
	int rc;

	*out = NULL;
	if (m == NULL)
		return outbox_fail(h, OUTBOX_EINVALID, "auth", "outbox does not support the %s mechanism",
				   name ? name : "(none)");
	if (strcmp(m->name, "EXTERNAL") != 0) {
		if (p->user == NULL || *p->user == '\0')
			return outbox_fail(h, OUTBOX_ECONFIG, "user",
					   "%s needs a user name: add --user", m->name);
		if (p->password == NULL || *p->password == '\0')
			return outbox_fail(h, OUTBOX_ECONFIG, "password", "%s needs %s", m->name,
					   (m->flags & M_OAUTH) ? "an OAuth access token" : "a password");
	}
	/* Refuse here rather than hope the library does: -PLUS without binding data must never
	 * turn into an exchange that is not bound to this TLS session. */
	if ((m->flags & M_PLUS) &&
	    (p->cb_data == NULL || p->cb_len == 0 || p->cb_type == NULL ||
	     (strcmp(p->cb_type, "tls-exporter") != 0 && strcmp(p->cb_type, "tls-unique") != 0)))
		return outbox_fail(h, OUTBOX_ECONFIG, "auth",
				   "%s needs tls-exporter or tls-unique channel binding data from the "
				   "TLS connection, and there is none: use --auth auto to pick another",
				   m->name);
	s = calloc(1, sizeof *s);
	if (s == NULL)
		return outbox_fail(h, OUTBOX_ENOMEM, NULL, "out of memory in %s", m->name);
	s->mech = m;
	buf_init(&s->message, 0);
	rc = (m->flags & M_GSASL) ? start_gsasl(h, s, p) : start_built(h, s, p);
	if (rc < 0) {
		sasl_end(s);
		return rc;
	}
	*out = s;
	return 0;
}

/* Hand `raw` to the caller as base64; an empty message is "=" as AUTH's initial response
 * (RFC 4954 section 4) and "" as a reply to 334. */
static int respond(outbox *h, const struct sasl_session *s, const char *raw, size_t len,
		   int initial, char **response)
{
	*response = len ? b64_encode((const unsigned char *)raw, len) : strdup(initial ? "=" : "");
	if (*response == NULL)
		return outbox_fail(h, OUTBOX_ENOMEM, NULL, "out of memory in %s", s->mech->name);
	return 0;
}

/* The server's reason when it ends SCRAM with "e=..." (RFC 5802 section 7), kept to the
 * characters the RFC's values use, so nothing odd reaches a terminal. */
static int scram_server_error(outbox *h, const struct mech *m, const char *in, size_t len)
{
	size_t n = 0;

	if (strncmp(m->name, "SCRAM-", 6) != 0 || len < 2 || memcmp(in, "e=", 2) != 0)
		return 0;
	while (n < 64 && 2 + n < len && in[2 + n] != '\0' &&
	       strchr("abcdefghijklmnopqrstuvwxyz-", in[2 + n]) != NULL)
		n++;
	return outbox_fail(h, OUTBOX_EAUTH, "auth", "the server refused %s: %.*s", m->name, (int)n,
			   in + 2);
}

/* The server's SCRAM message sets how often the client hashes the password (RFC 5802 "i="),
 * and the hashing runs between reads, beyond any timeout: i=4294967295 would keep outbox busy
 * for hours. RFC 7677 asks for at least 4096; a million is about a second of work. */
#define SASL_SCRAM_MAX_ITERATIONS 1000000

static int scram_check_iterations(outbox *h, const struct mech *m, const char *in, size_t len)
{
	unsigned long long n = 0;
	size_t i;

	if (strncmp(m->name, "SCRAM-", 6) != 0)
		return 0;
	for (i = 0; i + 1 < len && !((i == 0 || in[i - 1] == ',') && in[i] == 'i' && in[i + 1] == '='); i++)
		;
	for (i += 2; i < len && in[i] >= '0' && in[i] <= '9' && n <= SASL_SCRAM_MAX_ITERATIONS; i++)
		n = n * 10 + (unsigned)(in[i] - '0');
	if (n <= SASL_SCRAM_MAX_ITERATIONS)
		return 0;
	return outbox_fail(h, OUTBOX_EPROTOCOL, "auth",
			   "the server asks %s to hash the password more than %d times: refused, as "
			   "that would keep outbox busy for a very long time", m->name,
			   SASL_SCRAM_MAX_ITERATIONS);
}

static int step_gsasl(outbox *h, struct sasl_session *s, const char *challenge, char **response)
{
	char *in = NULL, *out = NULL;
	size_t in_len = 0, out_len = 0;
	int rc, ret;

	if (challenge != NULL && *challenge != '\0' &&
	    sasl_lib_get()->base64_from(challenge, strlen(challenge), &in, &in_len) != GSASL_OK)
		return outbox_fail(h, OUTBOX_EPROTOCOL, "auth",
				   "the server's %s challenge is not valid base64", s->mech->name);
	if ((ret = scram_check_iterations(h, s->mech, in, in_len)) < 0)
		goto wipe;
	rc = sasl_lib_get()->step(s->gs, in, in_len, &out, &out_len);
	if (rc == GSASL_OK || rc == GSASL_NEEDS_MORE) {
		s->done = rc == GSASL_OK;
		ret = respond(h, s, out, out_len, challenge == NULL, response);
	} else {
		ret = scram_server_error(h, s->mech, in, in_len);
		if (ret == 0)
			ret = fail_gsasl(h, s->mech, rc);
	}
wipe:
	/* PLAIN's and LOGIN's raw output is the password itself. */
	if (out != NULL) {
		explicit_bzero(out, out_len);
		sasl_lib_get()->free(out);
	}
	if (in != NULL) {
		explicit_bzero(in, in_len);
		sasl_lib_get()->free(in);
	}
	return ret;
}

/* Whether `s` is base64 as RFC 4648 writes it: whole groups of four, "=" only to pad the last. */
static int b64_valid(const char *s)
{
	size_t n = strlen(s), pad = 0;

	while (pad < 2 && pad < n && s[n - 1 - pad] == '=')
		pad++;
	if (n % 4 != 0 || strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/") != n - pad)
		return 0;
	return 1;
}

/* LOGIN answers two prompts, whatever their words ("Username:", "User Name"): the user, then the
 * password. */
static int step_login(outbox *h, struct sasl_session *s, const char *challenge, char **response)
{
	size_t user_len = strlen(s->message.data);

	if (challenge != NULL && !b64_valid(challenge))
		return outbox_fail(h, OUTBOX_EPROTOCOL, "auth", "the server's LOGIN challenge is not valid base64");
	if (s->steps > 1)
		return outbox_fail(h, OUTBOX_EPROTOCOL, "auth",
				   "the server asked for more after the LOGIN exchange was complete");
	s->done = s->steps == 1;
	if (s->steps == 0)
		return respond(h, s, s->message.data, user_len, 0, response);
	return respond(h, s, s->message.data + user_len + 1, s->message.len - user_len - 1, 0, response);
}

static int step_built(outbox *h, struct sasl_session *s, const char *challenge, char **response)
{
	if (strcmp(s->mech->name, "LOGIN") == 0)
		return step_login(h, s, challenge, response);
	if (s->steps == 0) {
		/* A server that takes no initial response prompts with an empty 334 instead. */
		if (challenge != NULL && *challenge != '\0')
			return outbox_fail(h, OUTBOX_EPROTOCOL, "auth",
					   "the server sent a challenge before the %s message", s->mech->name);
		s->done = 1;
		return respond(h, s, s->message.data, s->message.len, challenge == NULL, response);
	}
	/* A refused token comes back as a 334 with the error in JSON; one more line lets the
	 * server end with its 5xx. RFC 7628 section 3.2.3 asks OAUTHBEARER for a single 0x01;
	 * XOAUTH2 (Google's) takes an empty line. */
	if ((s->mech->flags & M_OAUTH) && !s->answered_error) {
		s->answered_error = 1;
		return respond(h, s, "\x01", strcmp(s->mech->name, "OAUTHBEARER") == 0, 0, response);
	}
	return outbox_fail(h, OUTBOX_EPROTOCOL, "auth",
			   "the server asked for more after the %s exchange was complete", s->mech->name);
}

int sasl_step(outbox *h, struct sasl_session *s, const char *challenge, char **response, int *done)
{
	int rc;

	*response = NULL;
	*done = s->done;
	if (challenge == NULL && (s->steps > 0 || !(s->mech->flags & M_IR)))
		return outbox_fail(h, OUTBOX_EINVALID, "auth",
				   "%s sends no initial response here: wait for the server's 334",
				   s->mech->name);
	if (s->done && s->gs != NULL)
		return outbox_fail(h, OUTBOX_EPROTOCOL, "auth",
				   "the server asked for more after the %s exchange was complete",
				   s->mech->name);
	rc = s->gs != NULL ? step_gsasl(h, s, challenge, response)
			   : step_built(h, s, challenge, response);
	if (rc < 0)
		return rc;
	s->steps++;
	*done = s->done;
	return 0;
}

void sasl_end(struct sasl_session *s)
{
	if (s == NULL)
		return;
	if (s->gs != NULL) {
		forget_all(s->gs);
		sasl_lib_get()->finish(s->gs);
	}
	buf_free(&s->message);
	free(s);
}
