/* doctor_advice.c: what the doctor says about a step, in plain words: the capabilities in one line,
 * and for a failure what happened and which setting to change, with the command that changes it. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "auth_advice.h"
#include "doctor_advice.h"
#include "policy.h"
#include "outbox/server.h"

/* The extensions worth showing, in the order a person scans for them. */
static const struct {
	unsigned bit;
	const char *name;
} doctor_exts[] = {
	{SMTP_EXT_PIPELINING, "PIPELINING"},
	{SMTP_EXT_CHUNKING, "CHUNKING"},
	{SMTP_EXT_8BITMIME, "8BITMIME"},
	{SMTP_EXT_SMTPUTF8, "SMTPUTF8"},
	{SMTP_EXT_BINARYMIME, "BINARYMIME"},
	{SMTP_EXT_DSN, "DSN"},
	{SMTP_EXT_ENHANCEDSTATUSCODES, "ENHANCEDSTATUSCODES"},
	{SMTP_EXT_REQUIRETLS, "REQUIRETLS"},
	{SMTP_EXT_STARTTLS, "STARTTLS"},
};

/* Append to out[0..size) as snprintf would, keeping it terminated when it is full. */
static void doctor_add(char *out, size_t size, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void doctor_add(char *out, size_t size, const char *fmt, ...)
{
	size_t len = strnlen(out, size);
	va_list ap;

	if (len + 1 >= size)
		return;
	va_start(ap, fmt);
	vsnprintf(out + len, size - len, fmt, ap);
	va_end(ap);
}

void doctor_caps_words(const struct smtp_caps *caps, char *out, size_t size)
{
	size_t i;
	int any = 0;

	if (size == 0)
		return;
	out[0] = '\0';
	for (i = 0; i < sizeof doctor_exts / sizeof doctor_exts[0]; i++)
		if (caps->ext & doctor_exts[i].bit) {
			doctor_add(out, size, "%s%s", any ? ", " : "", doctor_exts[i].name);
			any = 1;
		}
	if ((caps->ext & SMTP_EXT_AUTH) && caps->auth[0]) {
		doctor_add(out, size, "%sAUTH %s", any ? ", " : "", caps->auth);
		any = 1;
	}
	if (caps->ext & SMTP_EXT_SIZE) {
		if (caps->size)
			doctor_add(out, size, "%sSIZE %llu", any ? ", " : "", caps->size);
		else
			doctor_add(out, size, "%sSIZE (no limit)", any ? ", " : "");
		any = 1;
	}
	if (!any)
		snprintf(out, size, "no extensions");
}

static int has(const char *text, const char *part)
{
	return strstr(text, part) != NULL;
}

/* Whether the step ended on the server's refusal: a 4xx or 5xx reply the message quotes. */
static int doctor_refused(const struct doctor_failure *f)
{
	char start[16];

	if ((f->reply[0] != '4' && f->reply[0] != '5') || strlen(f->reply) < 3)
		return 0;
	snprintf(start, sizeof start, "%s", f->reply);
	return has(f->message, start);
}

/* The 64 hex digits after `label` in the message, or "SHA256" as a placeholder. */
static void doctor_hex_after(const char *message, const char *label, char out[65])
{
	const char *p = strstr(message, label);
	size_t n = 0;

	if (p) {
		p += strlen(label);
		while (n < 64 && ((p[n] >= '0' && p[n] <= '9') || (p[n] >= 'a' && p[n] <= 'f')))
			n++;
	}
	if (n == 64)
		snprintf(out, 65, "%.64s", p);
	else
		snprintf(out, 65, "SHA256");
}

/* Whether the server is already set to `value` for `option` ("security", "auth"): advice never
 * tells anyone to set what is set, so every line that names a value asks here first. */
static int doctor_is_set(const struct doctor_failure *f, const char *option, const char *value)
{
	const char *now = strcmp(option, "security") == 0 ? f->security : strcmp(option, "auth") == 0 ? f->auth : NULL;

	return now && strcmp(now, value) == 0;
}

/* "port 465 expects TLS from the first byte: ..." when port and security do not go together. */
static void doctor_port_hint(const struct doctor_failure *f, const char *n, char *out, size_t size)
{
	if (doctor_is_set(f, "security", "tls") && (f->port == 587 || f->port == 25))
		doctor_add(out, size, "; port %d is for STARTTLS: outbox server edit %s --security starttls, "
			   "or --port 465 for TLS from the first byte", f->port, n);
	else if (!doctor_is_set(f, "security", "tls") && f->port == 465)
		doctor_add(out, size, "; port 465 expects TLS from the first byte: outbox server edit %s "
			   "--security tls", n);
}

static void doctor_advise_resolve(const struct doctor_failure *f, const char *n, char *out, size_t size)
{
	if (strcmp(f->field, "host") == 0 || !f->host[0])
		snprintf(out, size, "set the server's host name: outbox server edit %s --host HOST", n);
	else if (f->code == OUTBOX_ETEMPFAIL)
		snprintf(out, size, "the name server did not answer: check this computer's network connection "
			 "and DNS settings, then try again");
	else
		snprintf(out, size, "check the host name \"%s\" for typos (your provider's help pages name the "
			 "right one): outbox server edit %s --host HOST", f->host, n);
}

static void doctor_advise_connect(const struct doctor_failure *f, const char *n, char *out, size_t size)
{
	if (has(f->message, "refused")) {
		snprintf(out, size, "nothing accepts connections on %s port %d: check the port and that the "
			 "server runs; mail submission uses 587 with --security starttls or 465 with --security "
			 "tls (outbox server edit %s --port N --security MODE)", f->host, f->port, n);
		doctor_port_hint(f, n, out, size);
	} else if (has(f->message, "timed out")) {
		snprintf(out, size, "nothing answered on %s port %d: a firewall may drop the connection (many "
			 "networks block outgoing mail ports), or the host or port is wrong; submission uses 587 "
			 "(--security starttls) or 465 (--security tls)", f->host, f->port);
	} else if (has(f->message, "unreachable") || has(f->message, "no route")) {
		snprintf(out, size, "this computer has no route to %s: check its network connection", f->host);
	} else {
		snprintf(out, size, "check the host and port (outbox server edit %s --host HOST --port N) and "
			 "this computer's network connection", n);
	}
}

/* A certificate that is not trusted: tls_verify says what is wrong; the way out depends on it. */
static void doctor_advise_certificate(const struct doctor_failure *f, const char *n, char *out, size_t size)
{
	char fp[65];
	const char *names = strstr(f->message, "the certificate is for ");

	if (has(f->message, "pin mismatch")) {
		doctor_hex_after(f->message, "the server's SHA-256 is ", fp);
		snprintf(out, size, "the server's certificate is not the pinned one; if it has a new "
			 "certificate you trust, pin that: outbox server edit %s --tls-pin %s", n, fp);
		return;
	}
	doctor_hex_after(f->message, "--tls-pin ", fp);
	if (names) {
		const char *end = NULL, *p;
		names += strlen("the certificate is for ");
		for (p = names; (p = strstr(p, ", not ")) != NULL; p++)
			end = p;
		snprintf(out, size, "the certificate is valid for %.*s: use one of those as the host (outbox "
			 "server edit %s --host NAME), or, if you trust this server, pin its certificate: outbox "
			 "server edit %s --no-tls-verify --tls-pin %s", end ? (int)(end - names) : 0, names, n, n,
			 fp);
	} else if (has(f->message, "expired") || has(f->message, "not valid until")) {
		snprintf(out, size, "check this computer's clock; if it is right, the server's certificate is "
			 "out of date and its administrator must renew it; to trust it anyway, pin it: outbox "
			 "server edit %s --no-tls-verify --tls-pin %s", n, fp);
	} else {
		snprintf(out, size, "if you trust this server, name the certificate authority that signed its "
			 "certificate (outbox server edit %s --tls-ca FILE) or pin the certificate (outbox server "
			 "edit %s --no-tls-verify --tls-pin %s)", n, n, fp);
	}
}

/* Connected, but no greeting came, and the port did not answer a TLS handshake either. */
static void doctor_advise_silent(const struct doctor_failure *f, char *out, size_t size)
{
	snprintf(out, size, "the server accepted the connection but never greeted, and port %d does not "
		 "answer TLS either: the server may be overloaded (try again later), or the port is not one "
		 "for sending mail (587 for --security starttls, 465 for --security tls)", f->port);
}

/* A 5xx to EHLO or HELO refuses the name given ("need fully-qualified hostname"), in whichever
 * step it came (with STARTTLS the first EHLO belongs to the TLS step). */
static int doctor_helo_refused(const struct doctor_failure *f, const char *n, char *out, size_t size)
{
	if (!doctor_refused(f) || f->reply[0] != '5' ||
	    (!has(f->message, "refused EHLO") && !has(f->message, "refused HELO")))
		return 0;
	snprintf(out, size, "the server refuses the name this computer gives in EHLO: set one it accepts, "
		 "this host's name in DNS or its address as [192.0.2.1] (outbox server edit %s --helo NAME)", n);
	return 1;
}

static void doctor_advise_tls(const struct doctor_failure *f, const char *n, char *out, size_t size)
{
	if (doctor_helo_refused(f, n, out, size))
		return;
	if (strncmp(f->field, "tls-", 4) == 0)
		snprintf(out, size, "fix --%s: outbox server edit %s --%s %s", f->field, n, f->field,
			 strcmp(f->field, "tls-pin") == 0 ? "SHA256" : "FILE");
	else if (has(f->message, "cannot trust the certificate"))
		doctor_advise_certificate(f, n, out, size);
	else if (has(f->message, "no greeting"))
		doctor_advise_silent(f, out, size);
	else if (has(f->message, "does not offer STARTTLS"))
		snprintf(out, size, "the server does not offer STARTTLS on port %d: if the port expects TLS from "
			 "the first byte, use outbox server edit %s --security tls (usually port 465); do not "
			 "send a password without TLS", f->port, n);
	else if (has(f->message, "after its STARTTLS reply"))
		snprintf(out, size, "something between this computer and the server tampers with the "
			 "connection: use TLS from the first byte (outbox server edit %s --security tls --port "
			 "465) or another network", n);
	else if (has(f->message, "client certificate"))
		snprintf(out, size, "give a client certificate the server accepts: outbox server edit %s "
			 "--tls-cert FILE --tls-key FILE", n);
	else if (has(f->message, "TLS 1.2"))
		snprintf(out, size, "the server offers only outdated TLS versions: its administrator must "
			 "enable TLS 1.2 or newer");
	else if (doctor_refused(f) && f->reply[0] == '5')
		snprintf(out, size, "the server refuses STARTTLS on port %d: try TLS from the first byte "
			 "(outbox server edit %s --security tls --port 465)", f->port, n);
	else if (f->code == OUTBOX_ETEMPFAIL)
		snprintf(out, size, "the connection broke during TLS: try again; if it keeps happening, check "
			 "the port and --security (465 tls, 587 starttls)");
	else
		snprintf(out, size, "check --security and the port: 465 for tls, 587 for starttls (outbox "
			 "server edit %s --security MODE --port N)", n);
}

static void doctor_advise_ehlo(const struct doctor_failure *f, const char *n, char *out, size_t size)
{
	if (doctor_helo_refused(f, n, out, size))
		return;
	if (has(f->message, "no greeting"))
		doctor_advise_silent(f, out, size);
	else if (f->code == OUTBOX_EPROTOCOL)
		snprintf(out, size, "port %d does not speak SMTP as expected: check the port (587 for "
			 "--security starttls, 465 for --security tls)", f->port);
	else if (doctor_refused(f) && f->reply[0] == '4')
		snprintf(out, size, "the server is busy or turning connections away for now: try again later");
	else if (doctor_refused(f))
		snprintf(out, size, "the server refuses this computer (see its words): check that %s port %d "
			 "is the server for sending mail, or ask its administrator", f->host, f->port);
	else if (has(f->message, "closed the connection")) {
		snprintf(out, size, "the server hung up before it was ready: it may limit connections or refuse "
			 "this address; try again later or ask its administrator");
		doctor_port_hint(f, n, out, size);
	} else if (f->code == OUTBOX_ETEMPFAIL)
		snprintf(out, size, "the server did not answer in time: try again later, or raise the timeout "
			 "(outbox server edit %s --timeout N)", n);
	else
		snprintf(out, size, "check that %s port %d is the server for sending mail", f->host, f->port);
}

static void doctor_advise_auth(const struct doctor_failure *f, const char *n, char *out, size_t size)
{
	if (strcmp(f->field, "password-command") == 0)
		snprintf(out, size, "run the password command yourself and check that it prints the password: "
			 "outbox server edit %s --password-command CMD", n);
	else if (strcmp(f->field, "password") == 0)
		snprintf(out, size, "give the password: outbox server edit %s --password-prompt", n);
	else if (strcmp(f->field, "user") == 0)
		snprintf(out, size, "give the user name: outbox server edit %s --user NAME", n);
	else if (strcmp(f->field, "auth") == 0)
		snprintf(out, size, "outbox can use none of the methods the server offers here: many servers "
			 "offer more after TLS, so check the port and --security, or ask the server's "
			 "administrator which method to use");
	else if (has(f->message, "without proving"))
		snprintf(out, size, "the server could not prove it knows the password: check that %s is "
			 "really your provider's server", f->host);
	else if (has(f->message, "does not offer authentication"))
		snprintf(out, size, "if this server needs no login, remove the user name (outbox server edit %s "
			 "--user \"\"); otherwise check the port and --security, since many servers offer AUTH "
			 "only after TLS", n);
	else if (doctor_refused(f) && f->server_reply &&
		 auth_advice_words(f->server_reply, f->oauth ? AUTH_ADVICE_OAUTH : AUTH_ADVICE_PASSWORD, n, out,
				   size))
		return; /* a reply the table knows, in the words sending uses too */
	else if (doctor_refused(f) && f->reply[0] == '4')
		snprintf(out, size, "the server could not check the login just now: try again later");
	else if (f->code == OUTBOX_EAUTH && f->oauth)
		/* The provider refused the sign-in (a refresh), or there is none: no password helps. */
		snprintf(out, size, "the sign-in is refused or missing: " AUTH_ADVICE_SIGN_IN_AGAIN "%s", n);
	else if (f->code == OUTBOX_EAUTH)
		snprintf(out, size, "check the user name (\"%s\") and the password: outbox server edit %s "
			 "--user NAME --password-prompt", f->user, n);
	else if (has(f->message, "keyring") || has(f->message, "password file"))
		snprintf(out, size, "the stored password cannot be read: store it again with outbox server "
			 "edit %s --password-prompt", n);
	else if (f->code == OUTBOX_ETEMPFAIL)
		snprintf(out, size, "the connection broke during the login: try again later");
	else
		snprintf(out, size, "check the user name, password and method: outbox server edit %s --user "
			 "NAME --password-prompt%s", n, doctor_is_set(f, "auth", "auto") ? "" : " --auth auto");
}

/* Add `value` for field `id` to the fix. */
static void doctor_fix_add(struct doctor_fix *fx, outbox_server_field_id id, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void doctor_fix_add(struct doctor_fix *fx, outbox_server_field_id id, const char *fmt, ...)
{
	va_list ap;

	if (fx->n >= DOCTOR_FIX_MAX)
		return;
	va_start(ap, fmt);
	vsnprintf(fx->value[fx->n], sizeof fx->value[fx->n], fmt, ap);
	va_end(ap);
	fx->set[fx->n].field = id;
	fx->set[fx->n].value = fx->value[fx->n];
	fx->n++;
}

/* The one host name a certificate is for, when the message names exactly one and it is not a
 * wildcard: then the right host is known. */
static int doctor_cert_host(const struct doctor_failure *f, char *out, size_t size)
{
	const char *names = strstr(f->message, "the certificate is for "), *end;
	size_t len;

	if (!names || has(f->message, "pin mismatch"))
		return 0;
	names += strlen("the certificate is for ");
	if ((end = strstr(names, ", not ")) == NULL)
		return 0;
	len = (size_t)(end - names);
	if (len == 0 || len >= size || memchr(names, ',', len) || memchr(names, ' ', len) || memchr(names, '*', len))
		return 0;
	snprintf(out, size, "%.*s", (int)len, names);
	return 1;
}

/* Whether a change of fields fixes f: then the fields, why (before the command) and what may
 * follow it. The one place these cases are decided; doctor_advise writes the command from it. */
static int doctor_fix_decide(const struct doctor_failure *f, const char *n, struct doctor_fix *fx, char *why,
			     size_t why_size, char *tail, size_t tail_size)
{
	char host[256], fp[65];
	int tls_step = f->step == OUTBOX_STEP_TLS, ehlo_step = f->step == OUTBOX_STEP_EHLO;

	memset(fx, 0, sizeof *fx);
	why[0] = tail[0] = '\0';
	if ((tls_step || ehlo_step) && doctor_refused(f) && f->reply[0] == '5' &&
	    (has(f->message, "refused EHLO") || has(f->message, "refused HELO"))) {
		/* The name given was refused: its address literal is a name every server may take. */
		const char *local = f->local ? f->local : "", *helo = f->helo ? f->helo : "";
		if (!local[0] || strcmp(local, helo) == 0)
			return 0;
		snprintf(why, why_size, "the server refuses the name this computer gives in EHLO (%s): give its "
			 "address instead", helo[0] ? helo : "automatic");
		doctor_fix_add(fx, OUTBOX_SERVER_HELO, "%s", local);
	} else if ((tls_step || ehlo_step) && has(f->message, "expects implicit TLS") &&
		   !doctor_is_set(f, "security", "tls")) {
		/* The port stays: it is the one that answered in TLS (and the mode would move it). */
		snprintf(why, why_size, "port %d speaks TLS from the first byte", f->port);
		doctor_fix_add(fx, OUTBOX_SERVER_SECURITY, "tls");
		doctor_fix_add(fx, OUTBOX_SERVER_PORT, "%d", f->port);
	} else if (tls_step && strncmp(f->field, "tls-", 4) != 0 && has(f->message, "did not answer in TLS") &&
		   !doctor_is_set(f, "security", "starttls")) {
		snprintf(why, why_size, "port %d does not start with TLS: use STARTTLS", f->port);
		doctor_fix_add(fx, OUTBOX_SERVER_SECURITY, "starttls");
		doctor_fix_add(fx, OUTBOX_SERVER_PORT, "%d", f->port);
	} else if (tls_step && strncmp(f->field, "tls-", 4) != 0 && has(f->message, "cannot trust the certificate") &&
		   doctor_cert_host(f, host, sizeof host)) {
		doctor_hex_after(f->message, "--tls-pin ", fp);
		snprintf(why, why_size, "the certificate is valid for %s: use that as the host", host);
		doctor_fix_add(fx, OUTBOX_SERVER_HOST, "%s", host);
		snprintf(tail, tail_size, ", or, if you trust this server, pin its certificate: outbox server edit %s "
			 "--no-tls-verify --tls-pin %s", n, fp);
	} else if (f->step == OUTBOX_STEP_AUTH && strcmp(f->field, "auth") == 0 && !doctor_is_set(f, "auth", "auto")) {
		snprintf(why, why_size, "choose a method the server offers, or let outbox pick one");
		doctor_fix_add(fx, OUTBOX_SERVER_AUTH, "auto");
	}
	return fx->n > 0;
}

/* "outbox server edit NAME --security tls --port 465", from the fix. */
static void doctor_fix_command(const struct doctor_fix *fx, const char *n, char *out, size_t size)
{
	doctor_add(out, size, "outbox server edit %s", n);
	for (size_t i = 0; i < fx->n; i++) {
		const char *v = fx->set[i].value;
		doctor_add(out, size, " --%s %s%s%s", outbox_server_field_info(fx->set[i].field)->key,
			   !*v || strchr(v, ' ') ? "\"" : "", v, !*v || strchr(v, ' ') ? "\"" : "");
	}
}

void doctor_advise(const struct doctor_failure *f, char *detail, size_t detail_size, char *advice,
		   size_t advice_size, struct doctor_fix *fix)
{
	struct doctor_fix own;
	char why[400], tail[400];
	const char *n = f->name[0] ? f->name : "NAME";
	const char *trust = strstr(f->message, "cannot trust the certificate of ");

	if (detail_size == 0 || advice_size == 0)
		return;
	detail[0] = advice[0] = '\0';
	if (doctor_refused(f)) {
		snprintf(detail, detail_size, "%s", f->reply);
		if (f->step == OUTBOX_STEP_AUTH && f->mech[0])
			doctor_add(detail, detail_size, " (%s as \"%s\")", f->mech, f->user);
	} else if (trust && (trust = strstr(trust, ": ")) != NULL) {
		/* tls_verify's sentence is "cannot trust ... of HOST: WHAT; ADVICE": keep WHAT, since
		 * the advice below says the same with the commands to type. */
		const char *end = strstr(trust + 2, "; ");
		snprintf(detail, detail_size, "%.*s", end ? (int)(end - trust - 2) : (int)strlen(trust + 2), trust + 2);
	} else {
		snprintf(detail, detail_size, "%s", f->message);
	}

	if (fix == NULL)
		fix = &own;
	if (doctor_fix_decide(f, n, fix, why, sizeof why, tail, sizeof tail)) {
		snprintf(advice, advice_size, "%s: ", why);
		doctor_fix_command(fix, n, advice, advice_size);
		doctor_add(advice, advice_size, "%s", tail);
	} else {
		switch (f->step) {
		case OUTBOX_STEP_RESOLVE: doctor_advise_resolve(f, n, advice, advice_size); break;
		case OUTBOX_STEP_CONNECT: doctor_advise_connect(f, n, advice, advice_size); break;
		case OUTBOX_STEP_TLS: doctor_advise_tls(f, n, advice, advice_size); break;
		case OUTBOX_STEP_EHLO: doctor_advise_ehlo(f, n, advice, advice_size); break;
		default: doctor_advise_auth(f, n, advice, advice_size); break;
		}
	}
	/* What sending does meanwhile, as the delivery policy decides it for the same failure. */
	doctor_add(advice, advice_size, ". %s", policy_meanwhile(f->code));
}
