/* test_doctor.c: the doctor's words in tables (capabilities, what failed, what to change), and the
 * check itself on drafts: no host, nobody listening, and a scripted server proving which password went. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include "auth_advice.h"
#include "doctor_advice.h"
#include "unit.h"

static void test_caps_words(void **state)
{
	static const struct {
		unsigned ext;
		unsigned long long size;
		const char *auth, *want;
	} cases[] = {
		{SMTP_EXT_PIPELINING | SMTP_EXT_CHUNKING | SMTP_EXT_AUTH | SMTP_EXT_SIZE, 10240000, "PLAIN LOGIN",
		 "PIPELINING, CHUNKING, AUTH PLAIN LOGIN, SIZE 10240000"},
		{SMTP_EXT_SIZE, 0, "", "SIZE (no limit)"},
		{SMTP_EXT_AUTH, 0, "", "no extensions"}, /* AUTH with no mechanism says nothing */
		{0, 0, "", "no extensions"},
		{SMTP_EXT_8BITMIME | SMTP_EXT_STARTTLS | SMTP_EXT_DSN, 0, "", "8BITMIME, DSN, STARTTLS"},
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct smtp_caps caps;
		char got[200];
		memset(&caps, 0, sizeof caps);
		caps.ext = cases[i].ext;
		caps.size = cases[i].size;
		snprintf(caps.auth, sizeof caps.auth, "%s", cases[i].auth);
		doctor_caps_words(&caps, got, sizeof got);
		EXPECT_STR(got, cases[i].want, cases[i].want);
	}
}

#define FP "0caa49b390254ebf9006da6606550544de6dc945ad1e8de048516332a2430410"
#define FP2 "b7c24b360b474abca0d61b186cb1cb0e47ff277bdea6bd511e01e968064a6ea2"

static const struct advice_case {
	const char *what;
	outbox_doctor_step step;
	int code;
	const char *message, *field, *reply, *security;
	int port;
	const char *name, *mech;
	const char *want_detail;  /* exact */
	const char *want_advice;  /* contained */
} advice_cases[] = {
	{"wrong password: the server's words", OUTBOX_STEP_AUTH, OUTBOX_EAUTH,
	 "the server refused the login for \"u\" with PLAIN: 535 5.7.8 Error: authentication failed; check "
	 "the user name and password (outbox server edit NAME --password-prompt)",
	 "", "535 5.7.8 Error: authentication failed", "starttls", 587, "pf", "PLAIN",
	 "535 5.7.8 Error: authentication failed (PLAIN as \"u\")",
	 "check the user name (\"u\") and the password: outbox server edit pf --user NAME --password-prompt"},
	{"app password wanted", OUTBOX_STEP_AUTH, OUTBOX_EAUTH,
	 "the server refused the login for \"u\" with LOGIN: 534 5.7.9 Application-specific password required",
	 "", "534 5.7.9 Application-specific password required", "tls", 465, "pf", "LOGIN",
	 "534 5.7.9 Application-specific password required (LOGIN as \"u\")", "app password"},
	{"a stale reply is not the cause", OUTBOX_STEP_AUTH, OUTBOX_EUNAVAILABLE,
	 "the server does not offer authentication (AUTH), but a user name is set", "", "250 PIPELINING",
	 "none", 25, "pf", "",
	 "the server does not offer authentication (AUTH), but a user name is set",
	 "remove the user name (outbox server edit pf --user \"\")"},
	{"no password stored", OUTBOX_STEP_AUTH, OUTBOX_ECONFIG, "password: no password is stored", "password",
	 "", "starttls", 587, "pf", "", "password: no password is stored",
	 "give the password: outbox server edit pf --password-prompt"},
	{"password command broken", OUTBOX_STEP_AUTH, OUTBOX_ECONFIG, "password-command: exited with status 1",
	 "password-command", "", "starttls", 587, "pf", "", "password-command: exited with status 1",
	 "run the password command yourself"},
	{"mechanism not offered", OUTBOX_STEP_AUTH, OUTBOX_ECONFIG,
	 "auth: the server offers PLAIN LOGIN, not CRAM-MD5", "auth", "", "starttls", 587, "pf", "",
	 "auth: the server offers PLAIN LOGIN, not CRAM-MD5", "--auth auto"},
	{"certificate for other names", OUTBOX_STEP_TLS, OUTBOX_EUNAVAILABLE,
	 "cannot trust the certificate of mail.example.org: the certificate is for a.example, b.example, not "
	 "mail.example.org; connect to one of those names, or if you trust this server, pin it with "
	 "--no-tls-verify --tls-pin " FP,
	 "", "220 2.0.0 Ready to start TLS", "starttls", 587, "pf", "",
	 "the certificate is for a.example, b.example, not mail.example.org",
	 "the certificate is valid for a.example, b.example: use one of those as the host (outbox server edit "
	 "pf --host NAME), or, if you trust this server, pin its certificate: outbox server edit pf "
	 "--no-tls-verify --tls-pin " FP},
	{"unknown authority", OUTBOX_STEP_TLS, OUTBOX_EUNAVAILABLE,
	 "cannot trust the certificate of h: the server's certificate is signed by an unknown certificate "
	 "authority, \"Evil CA\"; if you trust this server, set its certificate with --tls-ca FILE or pin it "
	 "with --no-tls-verify --tls-pin " FP,
	 "", "", "tls", 465, "pf", "",
	 "the server's certificate is signed by an unknown certificate authority, \"Evil CA\"",
	 "(outbox server edit pf --tls-ca FILE) or pin the certificate (outbox server edit pf --no-tls-verify "
	 "--tls-pin " FP ")"},
	{"expired", OUTBOX_STEP_TLS, OUTBOX_EUNAVAILABLE,
	 "cannot trust the certificate of h: the certificate expired on 2020-02-01 00:00 UTC; check this "
	 "computer's clock; if it is right and you trust this server, pin it with --no-tls-verify --tls-pin " FP,
	 "", "", "tls", 465, "pf", "", "the certificate expired on 2020-02-01 00:00 UTC", "check this computer's clock"},
	{"pin mismatch gives the new pin", OUTBOX_STEP_TLS, OUTBOX_EUNAVAILABLE,
	 "cannot trust the certificate of h: certificate pin mismatch: the server's SHA-256 is " FP2
	 ", the pin is " FP "; if the server has a new certificate you trust, set that as the pin",
	 "", "", "tls", 465, "pf", "",
	 "certificate pin mismatch: the server's SHA-256 is " FP2 ", the pin is " FP,
	 "outbox server edit pf --tls-pin " FP2},
	{"implicit TLS on a STARTTLS port", OUTBOX_STEP_TLS, OUTBOX_EUNAVAILABLE,
	 "h did not answer in TLS: if this port expects STARTTLS, use --security starttls", "", "", "tls", 587,
	 "pf", "", "h did not answer in TLS: if this port expects STARTTLS, use --security starttls",
	 "outbox server edit pf --security starttls"},
	{"STARTTLS missing", OUTBOX_STEP_TLS, OUTBOX_EUNAVAILABLE,
	 "the server does not offer STARTTLS, and this server's settings require it", "", "250 SIZE 100",
	 "starttls", 25, "pf", "", "the server does not offer STARTTLS, and this server's settings require it",
	 "do not send a password without TLS"},
	{"refused, STARTTLS on 465", OUTBOX_STEP_CONNECT, OUTBOX_ETEMPFAIL,
	 "cannot connect to h port 465: 192.0.2.1: connection refused", "", "", "starttls", 465, "pf", "",
	 "cannot connect to h port 465: 192.0.2.1: connection refused",
	 "port 465 expects TLS from the first byte: outbox server edit pf --security tls"},
	{"refused, TLS on 587", OUTBOX_STEP_CONNECT, OUTBOX_ETEMPFAIL,
	 "cannot connect to h port 587: 192.0.2.1: connection refused", "", "", "tls", 587, "pf", "",
	 "cannot connect to h port 587: 192.0.2.1: connection refused", "port 587 is for STARTTLS"},
	{"timed out", OUTBOX_STEP_CONNECT, OUTBOX_ETEMPFAIL,
	 "cannot connect to h port 587: 192.0.2.1: no answer (timed out after 60 s)", "", "", "starttls", 587,
	 "pf", "", "cannot connect to h port 587: 192.0.2.1: no answer (timed out after 60 s)", "firewall"},
	{"no such name", OUTBOX_STEP_RESOLVE, OUTBOX_EUNAVAILABLE, "cannot resolve h: Name or service not known",
	 "", "", "starttls", 587, "pf", "", "cannot resolve h: Name or service not known",
	 "check the host name \"h\" for typos"},
	{"resolver down", OUTBOX_STEP_RESOLVE, OUTBOX_ETEMPFAIL,
	 "cannot resolve h: Temporary failure in name resolution", "", "", "starttls", 587, "", "",
	 "cannot resolve h: Temporary failure in name resolution", "the name server did not answer"},
	{"greeting refused", OUTBOX_STEP_EHLO, OUTBOX_EUNAVAILABLE,
	 "the server refused the connection: 554 5.7.1 go away", "", "554 5.7.1 go away", "tls", 465, "", "",
	 "554 5.7.1 go away", "the server refuses this computer"},
	{"EHLO name refused", OUTBOX_STEP_EHLO, OUTBOX_EUNAVAILABLE,
	 "the server refused EHLO, without which it can do neither STARTTLS nor AUTH: 550 5.5.2 <vm>: Helo "
	 "command rejected: need fully-qualified hostname", "",
	 "550 5.5.2 <vm>: Helo command rejected: need fully-qualified hostname", "tls", 465, "pf", "",
	 "550 5.5.2 <vm>: Helo command rejected: need fully-qualified hostname",
	 "refuses the name this computer gives in EHLO: set one it accepts, this host's name in DNS or its "
	 "address as [192.0.2.1] (outbox server edit pf --helo NAME)"},
	{"EHLO name refused before STARTTLS", OUTBOX_STEP_TLS, OUTBOX_EUNAVAILABLE,
	 "the server refused EHLO, without which it can do neither STARTTLS nor AUTH: 501 5.5.4 bad name", "",
	 "501 5.5.4 bad name", "starttls", 587, "pf", "", "501 5.5.4 bad name", "--helo NAME"},
	{"HELO name refused", OUTBOX_STEP_EHLO, OUTBOX_EUNAVAILABLE,
	 "the server refused HELO: 550 no", "", "550 no", "none", 25, "pf", "", "550 no", "--helo NAME"},
	{"busy", OUTBOX_STEP_EHLO, OUTBOX_ETEMPFAIL,
	 "the server is shutting this connection down: 421 4.3.2 busy", "", "421 4.3.2 busy", "tls", 465, "", "",
	 "421 4.3.2 busy", "try again later"},
	{"a login refused for now is not a broken connection", OUTBOX_STEP_AUTH, OUTBOX_ETEMPFAIL,
	 "the server refused the login for now: 454 4.7.0 Temporary authentication failure", "",
	 "454 4.7.0 Temporary authentication failure", "starttls", 587, "pf", "PLAIN",
	 "454 4.7.0 Temporary authentication failure (PLAIN as \"u\")",
	 "the server could not check the login just now: try again later"},
	{"no name: a placeholder", OUTBOX_STEP_AUTH, OUTBOX_ECONFIG, "password: no password is stored",
	 "password", "", "tls", 465, "", "", "password: no password is stored", "outbox server edit NAME"},
};

/* The reply as the engine parsed it from `line` (one line, no CRLF), or NULL for "". */
static const struct smtp_reply *doctor_test_reply(const char *line, struct smtp_reply *r)
{
	char wire[1100];

	if (!*line)
		return NULL;
	snprintf(wire, sizeof wire, "%s\r\n", line);
	assert_true(smtp_reply_parse(wire, strlen(wire), r) > 0);
	return r;
}

static void test_advice_table(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < sizeof advice_cases / sizeof advice_cases[0]; i++) {
		const struct advice_case *c = &advice_cases[i];
		struct doctor_failure f;
		struct smtp_reply parsed;
		char detail[1000], advice[1000], what[200];
		memset(&f, 0, sizeof f);
		f.step = c->step;
		f.code = c->code;
		f.message = c->message;
		f.field = c->field;
		f.reply = c->reply;
		f.name = c->name;
		f.host = "h";
		f.port = c->port;
		f.security = c->security;
		f.auth = "cram-md5";
		f.user = "u";
		f.mech = c->mech;
		f.server_reply = doctor_test_reply(c->reply, &parsed);
		doctor_advise(&f, detail, sizeof detail, advice, sizeof advice, NULL);
		snprintf(what, sizeof what, "%s: detail", c->what);
		EXPECT_STR(detail, c->want_detail, what);
		snprintf(what, sizeof what, "%s: advice", c->what);
		EXPECT_CONTAINS(advice, c->want_advice, what);
	}
}

/* The fix as fields: one decision for the command-line words, the form's words and Apply. */
static const struct fix_case {
	const char *what;
	outbox_doctor_step step;
	int code;
	const char *message, *field, *reply, *security, *auth;
	int port;
	const char *helo, *local;
	const char *want_fix;     /* "security=tls port=465", or "" for no fix */
	const char *want_command; /* contained in the advice, or NULL */
	const char *want_form;    /* contained in the form's words */
} fix_cases[] = {
	{"STARTTLS set on an implicit-TLS port", OUTBOX_STEP_EHLO, OUTBOX_EUNAVAILABLE,
	 "h port 465 sent TLS bytes instead of an SMTP greeting: this port expects implicit TLS: --security tls",
	 "security", "", "starttls", "auto", 465, "", "", "security=tls port=465",
	 "port 465 speaks TLS from the first byte: outbox server edit pf --security tls --port 465",
	 "port 465 speaks TLS from the first byte: set Security to TLS and Port to 465"},
	{"the same found by the TLS step on another port", OUTBOX_STEP_TLS, OUTBOX_EUNAVAILABLE,
	 "h port 2465 expects implicit TLS", "security", "", "starttls", "auto", 2465, "", "",
	 "security=tls port=2465", "--security tls --port 2465", "set Security to TLS and Port to 2465"},
	{"TLS set on a plain port", OUTBOX_STEP_TLS, OUTBOX_EUNAVAILABLE,
	 "h did not answer in TLS: if this port expects STARTTLS, use --security starttls", "", "", "tls", "auto",
	 587, "", "", "security=starttls port=587", "outbox server edit pf --security starttls --port 587",
	 "set Security to STARTTLS and Port to 587"},
	{"a method the server does not offer", OUTBOX_STEP_AUTH, OUTBOX_ECONFIG,
	 "auth: the server offers PLAIN LOGIN, not CRAM-MD5", "auth", "", "starttls", "cram-md5", 587, "", "",
	 "auth=auto", "outbox server edit pf --auth auto", "or let outbox pick one: set Authentication to auto"},
	{"a certificate for one other name", OUTBOX_STEP_TLS, OUTBOX_EUNAVAILABLE,
	 "cannot trust the certificate of h: the certificate is for mail.example.org, not h; connect to one of "
	 "those names, or if you trust this server, pin it with --no-tls-verify --tls-pin " FP,
	 "", "", "starttls", "auto", 587, "", "", "host=mail.example.org",
	 "outbox server edit pf --host mail.example.org, or, if you trust this server, pin its certificate: outbox "
	 "server edit pf --no-tls-verify --tls-pin " FP,
	 "set Host Name to mail.example.org, or, if you trust this server, pin its certificate: untick Verify "
	 "Certificate and set Certificate Pin to " FP},
	{"EHLO name refused: the address instead", OUTBOX_STEP_EHLO, OUTBOX_EUNAVAILABLE,
	 "the server refused EHLO, without which it can do neither STARTTLS nor AUTH: 550 5.5.2 <vm>: Helo "
	 "command rejected: need fully-qualified hostname", "",
	 "550 5.5.2 <vm>: Helo command rejected: need fully-qualified hostname", "tls", "auto", 465, "vm",
	 "[192.0.2.7]", "helo=[192.0.2.7]", "outbox server edit pf --helo [192.0.2.7]",
	 "(vm): give its address instead: set EHLO Name to [192.0.2.7]"},
	/* No change of fields is the fix: no fix, and the words stay. */
	{"EHLO address refused too", OUTBOX_STEP_EHLO, OUTBOX_EUNAVAILABLE, "the server refused EHLO: 550 no", "",
	 "550 no", "tls", "auto", 465, "[192.0.2.7]", "[192.0.2.7]", "", "--helo NAME", "(change EHLO Name)"},
	{"nothing listening", OUTBOX_STEP_CONNECT, OUTBOX_ETEMPFAIL,
	 "cannot connect to h port 2599: 127.0.0.1: connection refused", "", "", "starttls", "auto", 2599, "", "",
	 "", "--port N --security MODE",
	 "mail submission uses 587 with Security STARTTLS or 465 with Security TLS (change Port and "
	 "Security)"},
	{"wrong password", OUTBOX_STEP_AUTH, OUTBOX_EAUTH,
	 "the server refused the login for \"u\" with PLAIN: 535 5.7.8 Error: authentication failed", "",
	 "535 5.7.8 Error: authentication failed", "starttls", "auto", 587, "", "", "", "--password-prompt",
	 "change User Name and type the password in Password"},
	{"a method refused with auto already", OUTBOX_STEP_AUTH, OUTBOX_ECONFIG,
	 "auth: the server offers GSSAPI only", "auth", "", "starttls", "auto", 587, "", "", "", NULL,
	 "outbox can use none of the methods the server offers here"},
	{"a certificate for two names: which is right is not known", OUTBOX_STEP_TLS, OUTBOX_EUNAVAILABLE,
	 "cannot trust the certificate of h: the certificate is for a.example, b.example, not h; pin it", "", "",
	 "starttls", "auto", 587, "", "", "", "--host NAME", "(change Host Name)"},
	{"TLS on a plain port, but STARTTLS is set", OUTBOX_STEP_TLS, OUTBOX_EUNAVAILABLE, "h did not answer in TLS",
	 "", "", "starttls", "auto", 587, "", "", "", NULL, "Security"},
};

static void test_fix_decision(void **state)
{
	size_t i, k;

	(void)state;
	for (i = 0; i < sizeof fix_cases / sizeof fix_cases[0]; i++) {
		const struct fix_case *c = &fix_cases[i];
		struct doctor_failure f;
		struct doctor_fix fix;
		struct smtp_reply parsed;
		char detail[1000], advice[1000], form[1000], got[600], what[200];
		memset(&f, 0, sizeof f);
		f.step = c->step;
		f.code = c->code;
		f.message = c->message;
		f.field = c->field;
		f.reply = c->reply;
		f.name = "pf";
		f.host = "h";
		f.port = c->port;
		f.security = c->security;
		f.auth = c->auth;
		f.user = "u";
		f.mech = "";
		f.helo = c->helo;
		f.local = c->local;
		f.server_reply = doctor_test_reply(c->reply, &parsed);
		doctor_advise(&f, detail, sizeof detail, advice, sizeof advice, &fix);
		got[0] = '\0';
		for (k = 0; k < fix.n; k++)
			snprintf(got + strlen(got), sizeof got - strlen(got), "%s%s=%s", k ? " " : "",
				 outbox_server_field_info(fix.set[k].field)->key, fix.set[k].value);
		snprintf(what, sizeof what, "%s: fix", c->what);
		EXPECT_STR(got, c->want_fix, what);
		if (c->want_command) {
			snprintf(what, sizeof what, "%s: advice", c->what);
			EXPECT_CONTAINS(advice, c->want_command, what);
		}
		doctor_form_words(advice, form, sizeof form);
		snprintf(what, sizeof what, "%s: form's words", c->what);
		EXPECT_CONTAINS(form, c->want_form, what);
		if (strstr(form, "outbox server edit") || strstr(form, " --"))
			fail_msg("%s: got form's words \"%s\", want no command-line options", c->what, form);
	}
}

/* The form's words for the rest of the advice: the commands and options become labels and buttons. */
static void test_form_words(void **state)
{
	static const struct {
		const char *advice, *want;
	} cases[] = {
		{"sign in again: outbox server login pf. Sending keeps it", "sign in again: save the server and press "
		 "Sign In. Sending keeps it"},
		{"then check again: outbox server check pf", "then check again: press Check Connection"},
		{"remove the user name (outbox server edit pf --user \"\"); otherwise check the port and --security, "
		 "since", "remove the user name (clear User Name); otherwise check the port and Security, since"},
		{"raise the timeout (outbox server edit pf --timeout N)", "raise the timeout (change Timeout)"},
		{"use OAuth: outbox server edit srv --oauth microsoft --oauth-client-id ID, then outbox server login srv",
		 "use OAuth: set OAuth Provider to microsoft and change OAuth Client ID, then save the server and "
		 "press Sign In"},
		{"plain words stay as they are -- even dashes", "plain words stay as they are -- even dashes"},
		{"an unknown option stays: outbox server edit pf --frobnicate 3",
		 "an unknown option stays: outbox server edit pf --frobnicate 3"},
	};

	(void)state;
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		char got[600];
		doctor_form_words(cases[i].advice, got, sizeof got);
		EXPECT_STR(got, cases[i].want, cases[i].advice);
	}
}

/* The providers' tell-tale replies to AUTH, as they send them (lines and all), and the advice:
 * what `server check` says under "fix:" and what `send` adds to a refused login's words. */
static const struct provider_case {
	const char *what;
	const char *wire;
	int oauth;
	const char *want; /* contained, in the doctor's advice and in the table's words alike */
} provider_cases[] = {
	{"Microsoft: basic authentication retired", "550 5.7.30 Basic authentication is not supported for Client "
	 "Submission.\r\n", 0,
	 "Microsoft 365 no longer accepts passwords for SMTP: use OAuth: outbox server edit srv --oauth microsoft "
	 "--oauth-client-id ID, then outbox server login srv"},
	{"Microsoft: SMTP AUTH off for the tenant", "535 5.7.139 Authentication unsuccessful, SmtpClientAuthentication "
	 "is disabled for the Tenant. Visit https://aka.ms/smtp_auth_disabled for more information. "
	 "[AM0PR01CA0001.eurprd01.prod.exchangelabs.com]\r\n", 0,
	 "Exchange admin center (admin.exchange.microsoft.com): Settings > Mail flow > clear \"Turn off SMTP AUTH "
	 "protocol for your organization\", then check again: outbox server check srv"},
	{"Microsoft: SMTP AUTH off for the tenant, OAuth too", "535 5.7.139 Authentication unsuccessful, "
	 "SmtpClientAuthentication is disabled for the Tenant.\r\n", 1, "Settings > Mail flow"},
	{"Microsoft: SMTP AUTH off for the mailbox", "535 5.7.139 Authentication unsuccessful, SmtpClientAuthentication "
	 "is disabled for the Mailbox. Visit https://aka.ms/smtp_auth_disabled for more information.\r\n", 0,
	 "an administrator must turn on \"Authenticated SMTP\" for the mailbox in the Microsoft 365 admin center "
	 "(admin.microsoft.com): Users > Active users > the user > Mail > Manage email apps, then check again: "
	 "outbox server check srv"},
	{"Microsoft: a sign-in policy", "535 5.7.139 Authentication unsuccessful, the request did not meet the criteria "
	 "to be authenticated successfully. Contact your administrator.\r\n", 1, "Manage email apps"},
	{"Microsoft: security defaults", "535 5.7.139 Authentication unsuccessful, user is locked by your "
	 "organization's security defaults policy. Contact your administrator.\r\n", 0,
	 "security defaults refuse passwords for SMTP: use OAuth: outbox server edit srv --oauth microsoft"},
	{"Microsoft: basic authentication disabled", "535 5.7.139 Authentication unsuccessful, basic authentication is "
	 "disabled.\r\n", 0, "outbox server edit srv --oauth microsoft --oauth-client-id ID"},
	{"Microsoft: wrong password", "535 5.7.139 Authentication unsuccessful, the user credentials were "
	 "incorrect.\r\n", 0, "check the user name (the full address) and the password: outbox server edit srv "
	 "--user ADDRESS --password-prompt"},
	{"Microsoft: 5.7.3 with a password", "535 5.7.3 Authentication unsuccessful [BN6PR03CA0021.prod.outlook.com]"
	 "\r\n", 0, "Microsoft 365 refused the login: check the user name (the full address) and the password "
	 "(outbox server edit srv --user ADDRESS --password-prompt)"},
	{"Microsoft: 5.7.3 with a token", "535 5.7.3 Authentication unsuccessful [BN6PR03CA0021.prod.outlook.com]"
	 "\r\n", 1, "Microsoft 365 refused the token: it must be for the mailbox given as --user"},
	{"Microsoft: 5.7.3 STARTTLS required", "451 5.7.3 STARTTLS is required to send mail\r\n", 0,
	 "the server wants TLS before the login: outbox server edit srv --security starttls --port 587"},
	{"Google: STARTTLS first", "530 5.7.0 Must issue a STARTTLS command first. a1sm123 - gsmtp\r\n", 0,
	 "the server wants TLS before the login: outbox server edit srv --security starttls"},
	{"Google: app password required", "534-5.7.9 Application-specific password required. For more information, go "
	 "to\r\n534 5.7.9  https://support.google.com/mail/?p=InvalidSecondFactor a1sm123 - gsmtp\r\n", 0,
	 "Google wants an app password, as the account has 2-Step Verification: use OAuth: outbox server edit srv "
	 "--oauth google --oauth-client-id ID, then outbox server login srv, or create an app password"},
	{"Google: sign in with a browser first", "534-5.7.14 <https://accounts.google.com/signin/continue?sarp=1&scc=1>"
	 " Please log in via your web browser and\r\n534-5.7.14 then try again.\r\n534-5.7.14  Learn more at\r\n"
	 "534 5.7.14  https://support.google.com/mail/answer/78754 a1sm123 - gsmtp\r\n", 0,
	 "Google wants this account signed in with a web browser first"},
	{"Google: password not accepted", "535-5.7.8 Username and Password not accepted. For more information, go to"
	 "\r\n535 5.7.8  https://support.google.com/mail/?p=BadCredentials a1sm123 - gsmtp\r\n", 0,
	 "Google did not accept the user name and password: Google takes only an app password"},
	{"Google: token not accepted", "535-5.7.8 Username and Password not accepted. For more information, go to"
	 "\r\n535 5.7.8  https://support.google.com/mail/?p=BadCredentials a1sm123 - gsmtp\r\n", 1,
	 "the token was refused: sign in again: outbox server login srv"},
	{"Google: too many attempts", "454-4.7.0 Too many login attempts, please try again later. For more information,"
	 "\r\n454 4.7.0  go to https://support.google.com/mail/answer/7126229 a1sm123 - gsmtp\r\n", 0,
	 "wait before trying again"},
	{"any server: a token refused", "535 5.7.8 Authentication credentials invalid\r\n", 1,
	 "the token was refused: sign in again: outbox server login srv"},
	{"any server: 534 without Google's words", "534 5.7.9 Authentication mechanism is too weak\r\n", 0,
	 "create an app password in its web settings and store it: outbox server edit srv --password-prompt"},
};

/* Replies that look like a provider's by their words but not by their codes: no provider advice. */
static const char *const provider_lookalikes[] = {
	"535 Authentication unsuccessful, SmtpClientAuthentication is disabled for the Tenant.\r\n",
	"535 5.7.8 Error: authentication failed: Application-specific password required\r\n",
	"535 5.7.8 Error: authentication failed: authentication failure\r\n",
};

static void doctor_test_auth_failure(struct doctor_failure *f, const struct smtp_reply *r, const char *line,
				     char *message, size_t size, int oauth)
{
	memset(f, 0, sizeof *f);
	f->step = OUTBOX_STEP_AUTH;
	f->code = r->code / 100 == 4 ? OUTBOX_ETEMPFAIL : OUTBOX_EAUTH;
	snprintf(message, size, "the server refused the login for \"u\" with PLAIN: %s; ...", line);
	f->message = message;
	f->field = "";
	f->reply = line;
	f->server_reply = r;
	f->name = "srv";
	f->host = "h";
	f->port = 587;
	f->security = "starttls";
	f->user = "u";
	f->mech = "PLAIN";
	f->oauth = oauth;
}

static void test_provider_replies(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < sizeof provider_cases / sizeof provider_cases[0]; i++) {
		const struct provider_case *c = &provider_cases[i];
		struct smtp_reply r;
		struct doctor_failure f;
		char line[1100], message[1300], detail[1300], advice[1000], words[1000], what[200];
		assert_true(smtp_reply_parse(c->wire, strlen(c->wire), &r) > 0);
		smtp_reply_line(&r, line, sizeof line);
		doctor_test_auth_failure(&f, &r, line, message, sizeof message, c->oauth);
		doctor_advise(&f, detail, sizeof detail, advice, sizeof advice, NULL);
		snprintf(what, sizeof what, "%s: server check's advice", c->what);
		EXPECT_CONTAINS(advice, c->want, what);
		snprintf(what, sizeof what, "%s: the words of send", c->what);
		EXPECT_INT(auth_advice_words(&r, c->oauth ? AUTH_ADVICE_OAUTH : AUTH_ADVICE_PASSWORD, "srv", words,
					     sizeof words), 1, what);
		EXPECT_CONTAINS(words, c->want, what);
	}
	for (i = 0; i < sizeof provider_lookalikes / sizeof provider_lookalikes[0]; i++) {
		struct smtp_reply r;
		char words[1000];
		assert_true(smtp_reply_parse(provider_lookalikes[i], strlen(provider_lookalikes[i]), &r) > 0);
		EXPECT_INT(auth_advice_words(&r, AUTH_ADVICE_PASSWORD, "srv", words, sizeof words), 0,
			   provider_lookalikes[i]);
		EXPECT_STR(words, "", provider_lookalikes[i]);
	}
}

/* The advice ends with what sending does meanwhile, as the delivery policy decides it: a server
 * that is down for now has mail wait in the outbox; a refused login has it reported. */
static void test_advice_says_what_sending_does_meanwhile(void **state)
{
	static const struct {
		outbox_doctor_step step;
		int code;
		const char *message, *want;
	} cases[] = {
		{OUTBOX_STEP_CONNECT, OUTBOX_ETEMPFAIL, "cannot connect to h port 587: connection refused",
		 "waits in the outbox"},
		{OUTBOX_STEP_AUTH, OUTBOX_EAUTH, "the server refused the login: 535 5.7.8 no",
		 "stops with this error instead of queueing"},
		{OUTBOX_STEP_TLS, OUTBOX_EUNAVAILABLE, "cannot trust the certificate of h: self-signed",
		 "stops with this error instead of queueing"},
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct doctor_failure f;
		char detail[1000], advice[1000];
		memset(&f, 0, sizeof f);
		f.step = cases[i].step;
		f.code = cases[i].code;
		f.message = cases[i].message;
		f.field = f.reply = f.mech = f.user = f.host = "";
		f.name = "srv";
		f.security = "starttls";
		f.port = 587;
		doctor_advise(&f, detail, sizeof detail, advice, sizeof advice, NULL);
		EXPECT_CONTAINS(advice, cases[i].want, cases[i].message);
	}
}

/* Whether a command in the advice ("outbox server edit NAME ... --OPTION VALUE") sets `option` to
 * `value`: each command runs until ')', ';', ',' or the end of its sentence. */
static int doctor_test_advice_sets(const char *advice, const char *option, const char *value)
{
	const char *cmd = advice;
	char want[64];

	snprintf(want, sizeof want, "--%s %s", option, value);
	while ((cmd = strstr(cmd, "outbox server edit ")) != NULL) {
		size_t len = strcspn(cmd, "),;");
		const char *stop = strstr(cmd, ". ");
		const char *p = cmd;
		if (stop && (size_t)(stop - cmd) < len)
			len = (size_t)(stop - cmd);
		while ((p = strstr(p, want)) != NULL && p < cmd + len) {
			char after = p[strlen(want)];
			if (!(after >= 'a' && after <= 'z') && after != '-' && !(after >= '0' && after <= '9'))
				return 1;
			p++;
		}
		cmd += len;
	}
	return 0;
}

/* Advice never tells anyone to set what is already set: every failure the advice knows, under
 * every --security and --auth, checked for a command naming the value in force. */
static void test_advice_never_names_what_is_set(void **state)
{
	static const struct {
		outbox_doctor_step step;
		int code;
		const char *message, *field;
	} failures[] = {
		{OUTBOX_STEP_AUTH, OUTBOX_ECONFIG, "auth: the server offers PLAIN LOGIN, not CRAM-MD5", "auth"},
		{OUTBOX_STEP_AUTH, OUTBOX_EUNAVAILABLE, "something unforeseen during the login", ""},
		{OUTBOX_STEP_TLS, OUTBOX_EUNAVAILABLE, "h did not answer in TLS: if this port expects STARTTLS, "
		 "use --security starttls", ""},
		{OUTBOX_STEP_TLS, OUTBOX_EUNAVAILABLE, "h port 465 answers a TLS handshake instead of an SMTP "
		 "greeting: this port expects implicit TLS: --security tls", "security"},
		{OUTBOX_STEP_EHLO, OUTBOX_EUNAVAILABLE, "h port 465 sent TLS bytes instead of an SMTP greeting: "
		 "this port expects implicit TLS: --security tls", "security"},
		{OUTBOX_STEP_TLS, OUTBOX_ETEMPFAIL, "no reply from h port 465 to the connection (a greeting) within "
		 "60 s: the server sent no greeting, and the port does not answer a TLS handshake either", ""},
		{OUTBOX_STEP_EHLO, OUTBOX_ETEMPFAIL, "no reply from h port 465 to the connection (a greeting) within "
		 "60 s: the server sent no greeting, and the port does not answer a TLS handshake either", ""},
		{OUTBOX_STEP_EHLO, OUTBOX_ETEMPFAIL, "the server closed the connection", ""},
		{OUTBOX_STEP_CONNECT, OUTBOX_ETEMPFAIL, "cannot connect to h port 465: connection refused", ""},
		{OUTBOX_STEP_CONNECT, OUTBOX_ETEMPFAIL, "cannot connect to h port 587: connection refused", ""},
	};
	static const char *const securities[] = {"tls", "starttls", "none"};
	static const char *const auths[] = {"auto", "plain", "cram-md5"};
	static const int ports[] = {25, 465, 587};
	size_t i, j, k, l;

	(void)state;
	for (i = 0; i < sizeof failures / sizeof failures[0]; i++)
		for (j = 0; j < 3; j++)
			for (k = 0; k < 3; k++)
				for (l = 0; l < 3; l++) {
					struct doctor_failure f;
					char detail[1000], advice[1000];
					memset(&f, 0, sizeof f);
					f.step = failures[i].step;
					f.code = failures[i].code;
					f.message = failures[i].message;
					f.field = failures[i].field;
					f.reply = f.mech = f.user = "";
					f.host = "h";
					f.name = "srv";
					f.security = securities[j];
					f.auth = auths[k];
					f.port = ports[l];
					doctor_advise(&f, detail, sizeof detail, advice, sizeof advice, NULL);
					if (doctor_test_advice_sets(advice, "security", f.security) ||
					    doctor_test_advice_sets(advice, "auth", f.auth))
						fail_msg("%s (--security %s --auth %s, port %d): got advice \"%s\", want "
							 "no command setting what is already set", f.message, f.security,
							 f.auth, f.port, advice);
				}
}

/* What the callback saw, one "name:status" per report. */
struct seen {
	char log[600];
	char auth_detail[200];
};

static void record(void *ctx, const outbox_doctor_report *r)
{
	static const char *const st[] = {"running", "ok", "failed", "skipped"};
	struct seen *s = ctx;
	size_t len = strlen(s->log);

	snprintf(s->log + len, sizeof s->log - len, "%s%s:%s", len ? " " : "", r->name, st[r->status]);
	if (r->step == OUTBOX_STEP_AUTH && r->status != OUTBOX_STEP_RUNNING)
		snprintf(s->auth_detail, sizeof s->auth_detail, "%s", r->detail);
	if (r->status == OUTBOX_STEP_FAILED && r->advice[0] == '\0')
		fail_msg("%s failed without advice", r->name);
}

static void test_draft_without_host_fails_at_resolve(void **state)
{
	struct unit_store *f = unit_store_open("doctor");
	outbox_server *s = outbox_server_new();
	struct seen seen;
	int rc;

	(void)state;
	assert_non_null(f);
	memset(&seen, 0, sizeof seen);
	rc = outbox_doctor_check(f->h, s, record, &seen);
	EXPECT_INT(rc, OUTBOX_EINVALID, "a draft without a host");
	EXPECT_STR(seen.log, "resolve:running resolve:failed", "reports");
	EXPECT_STR(outbox_errfield(f->h), "host", "the field named");
	outbox_server_free(s);
	assert_int_equal(unit_store_close(f), 0);
}

/* A loopback port with nobody listening (bound, read, closed: the kernel will not reuse it at once). */
static int free_port(void)
{
	struct sockaddr_in a;
	socklen_t len = sizeof a;
	int fd = socket(AF_INET, SOCK_STREAM, 0), port;

	assert_true(fd >= 0);
	memset(&a, 0, sizeof a);
	a.sin_family = AF_INET;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof a), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &len), 0);
	port = ntohs(a.sin_port);
	close(fd);
	return port;
}

static outbox_server *loopback_draft(outbox *h, int port, const char *security)
{
	outbox_server *s = outbox_server_new();
	char p[16];

	snprintf(p, sizeof p, "%d", port);
	assert_int_equal(outbox_server_set(h, s, OUTBOX_SERVER_NAME, "draft"), 0);
	assert_int_equal(outbox_server_set(h, s, OUTBOX_SERVER_HOST, "127.0.0.1"), 0);
	assert_int_equal(outbox_server_set(h, s, OUTBOX_SERVER_SECURITY, security), 0);
	assert_int_equal(outbox_server_set(h, s, OUTBOX_SERVER_PORT, p), 0);
	assert_int_equal(outbox_server_set(h, s, OUTBOX_SERVER_TIMEOUT, "5"), 0);
	return s;
}

static void test_nobody_listening_fails_at_connect(void **state)
{
	struct unit_store *f = unit_store_open("doctor");
	outbox_server *s;
	struct seen seen;
	int rc;

	(void)state;
	assert_non_null(f);
	s = loopback_draft(f->h, free_port(), "starttls");
	memset(&seen, 0, sizeof seen);
	rc = outbox_doctor_check(f->h, s, record, &seen);
	EXPECT_INT(rc, OUTBOX_ETEMPFAIL, "connection refused");
	EXPECT_STR(seen.log, "resolve:running resolve:ok connect:running connect:failed", "reports");
	EXPECT_CONTAINS(outbox_errmsg(f->h), "refused", "the handle's message");
	outbox_server_free(s);
	assert_int_equal(unit_store_close(f), 0);
}

/* A one-connection SMTP server in a child process: AUTH PLAIN succeeds only for user "user" with
 * password "draftpw" (base64 of "\0user\0draftpw" below). */
static void serve_once(int lfd)
{
	char buf[2048];
	size_t len = 0;
	int c = accept(lfd, NULL, NULL);

	if (c < 0)
		_exit(1);
#define SAY(text) (void)!write(c, text, strlen(text))
	SAY("220 test ESMTP\r\n");
	for (;;) {
		char *nl;
		ssize_t n = read(c, buf + len, sizeof buf - 1 - len);
		if (n <= 0)
			_exit(0);
		len += (size_t)n;
		buf[len] = '\0';
		while ((nl = strstr(buf, "\r\n")) != NULL) {
			*nl = '\0';
			if (strncmp(buf, "EHLO", 4) == 0)
				SAY("250-test\r\n250-PIPELINING\r\n250 AUTH PLAIN\r\n");
			else if (strcmp(buf, "AUTH PLAIN AHVzZXIAZHJhZnRwdw==") == 0)
				SAY("235 2.7.0 ok\r\n");
			else if (strncmp(buf, "AUTH", 4) == 0)
				SAY("535 5.7.8 bad credentials\r\n");
			else if (strncmp(buf, "QUIT", 4) == 0) {
				SAY("221 bye\r\n");
				_exit(0);
			} else
				SAY("500 what\r\n");
			len -= (size_t)(nl + 2 - buf);
			memmove(buf, nl + 2, len + 1);
		}
	}
#undef SAY
}

static int check_with_password(outbox *h, const char *password, struct seen *seen)
{
	struct sockaddr_in a;
	socklen_t len = sizeof a;
	int lfd = socket(AF_INET, SOCK_STREAM, 0), rc, status;
	outbox_server *s;
	pid_t pid;

	assert_true(lfd >= 0);
	memset(&a, 0, sizeof a);
	a.sin_family = AF_INET;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(lfd, (struct sockaddr *)&a, sizeof a), 0);
	assert_int_equal(listen(lfd, 1), 0);
	assert_int_equal(getsockname(lfd, (struct sockaddr *)&a, &len), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0)
		serve_once(lfd);
	close(lfd);

	s = loopback_draft(h, ntohs(a.sin_port), "none");
	assert_int_equal(outbox_server_set(h, s, OUTBOX_SERVER_AUTH, "plain"), 0);
	assert_int_equal(outbox_server_set(h, s, OUTBOX_SERVER_USER, "user"), 0);
	assert_int_equal(outbox_server_set(h, s, OUTBOX_SERVER_ALLOW_INSECURE_AUTH, "true"), 0);
	assert_int_equal(outbox_server_set_password(h, s, password), 0);
	memset(seen, 0, sizeof *seen);
	rc = outbox_doctor_check(h, s, record, seen);
	outbox_server_free(s);
	if (rc != 0)
		kill(pid, SIGTERM); /* after a failed login the server waits for a QUIT that never comes */
	assert_int_equal(waitpid(pid, &status, 0), pid);
	return rc;
}

static void test_draft_password_is_the_one_checked(void **state)
{
	struct unit_store *f = unit_store_open("doctor");
	struct seen seen;
	int rc;

	(void)state;
	assert_non_null(f);
	rc = check_with_password(f->h, "draftpw", &seen);
	EXPECT_INT(rc, 0, "the draft's password");
	EXPECT_STR(seen.log, "resolve:running resolve:ok connect:running connect:ok tls:skipped ehlo:running "
			     "ehlo:ok auth:running auth:ok", "reports");
	EXPECT_STR(seen.auth_detail, "logged in with PLAIN", "auth detail");
	EXPECT_STR(outbox_errmsg(f->h), "", "no message after success");

	rc = check_with_password(f->h, "wrong", &seen);
	EXPECT_INT(rc, OUTBOX_EAUTH, "a wrong draft password");
	EXPECT_STR(seen.auth_detail, "535 5.7.8 bad credentials (PLAIN as \"user\")", "auth detail");
	EXPECT_CONTAINS(outbox_errmsg(f->h), "535 5.7.8 bad credentials", "the handle's message");
	assert_int_equal(unit_store_close(f), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_caps_words),
		cmocka_unit_test(test_advice_table),
		cmocka_unit_test(test_fix_decision),
		cmocka_unit_test(test_form_words),
		cmocka_unit_test(test_provider_replies),
		cmocka_unit_test(test_advice_says_what_sending_does_meanwhile),
		cmocka_unit_test(test_advice_never_names_what_is_set),
		cmocka_unit_test(test_draft_without_host_fails_at_resolve),
		cmocka_unit_test(test_nobody_listening_fails_at_connect),
		cmocka_unit_test(test_draft_password_is_the_one_checked),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
