/* auth_advice.c: the providers' tell-tale replies to AUTH (Microsoft 365, Google) and the generic
 * ones of RFC 4954, each with plain advice naming the command to run, as one table of data. */
#include <stdio.h>
#include <string.h>

#include "auth_advice.h"

#define ANY_LOGIN (-1)

/* One known reply. A row matches when its code (0: any) and enhanced code ({0,0,0}: any) are the
 * reply's, every one of its words is in the reply (any case; NULL: no words asked), and the login
 * is its kind. Rows are tried in order: the specific before the general. In `advice`, each "{}"
 * becomes the server's name. */
struct auth_advice_row {
	int code;
	int enhanced[3];
	const char *words;
	int login;
	const char *advice;
};

#define MS_OAUTH "use OAuth: outbox server edit {} --oauth microsoft --oauth-client-id ID, then outbox server " \
		 "login {} (man outbox, OAUTH 2.0 SIGN-IN, says how to get an ID)"
#define MS_ENABLE_MAILBOX "an administrator must turn on \"Authenticated SMTP\" for the mailbox in the Microsoft " \
			  "365 admin center (admin.microsoft.com): Users > Active users > the user > Mail > " \
			  "Manage email apps"
#define GOOGLE_OAUTH "OAuth: outbox server edit {} --oauth google --oauth-client-id ID, then outbox server login {}"
#define SIGN_IN_AGAIN AUTH_ADVICE_SIGN_IN_AGAIN "{}"

static const struct auth_advice_row auth_advice_rows[] = {
	/* Microsoft 365 (Exchange Online), smtp.office365.com */
	{550, {5, 7, 30}, NULL, ANY_LOGIN,
	 "Microsoft 365 no longer accepts passwords for SMTP: " MS_OAUTH},
	{0, {5, 7, 139}, "disabled for the tenant", ANY_LOGIN,
	 "SMTP AUTH is turned off for the whole organization: an administrator must turn it on in the Exchange "
	 "admin center (admin.exchange.microsoft.com): Settings > Mail flow > clear \"Turn off SMTP AUTH protocol "
	 "for your organization\", then check again: outbox server check {}"},
	{0, {5, 7, 139}, "security defaults", AUTH_ADVICE_PASSWORD,
	 "the organization's security defaults refuse passwords for SMTP: " MS_OAUTH},
	{0, {5, 7, 139}, "basic authentication", AUTH_ADVICE_PASSWORD,
	 "Microsoft 365 no longer accepts passwords for SMTP: " MS_OAUTH},
	{0, {5, 7, 139}, "credentials were incorrect", AUTH_ADVICE_PASSWORD,
	 "check the user name (the full address) and the password: outbox server edit {} --user ADDRESS "
	 "--password-prompt"},
	{0, {5, 7, 139}, "credentials were incorrect", AUTH_ADVICE_OAUTH, "the token was refused: " SIGN_IN_AGAIN},
	{0, {5, 7, 139}, NULL, ANY_LOGIN,
	 "Microsoft 365 does not allow SMTP AUTH for this mailbox (SMTP AUTH or a sign-in policy of the "
	 "organization): " MS_ENABLE_MAILBOX ", then check again: outbox server check {}"},
	{0, {5, 7, 3}, "starttls", ANY_LOGIN,
	 "the server wants TLS before the login: outbox server edit {} --security starttls --port 587"},
	/* Exchange sends 5.7.3 under a 451, a class apart, so the parser keeps it as text. */
	{451, {0, 0, 0}, "5.7.3 starttls", ANY_LOGIN,
	 "the server wants TLS before the login: outbox server edit {} --security starttls --port 587"},
	{0, {5, 7, 3}, NULL, AUTH_ADVICE_OAUTH,
	 "Microsoft 365 refused the token: it must be for the mailbox given as --user, with the scope "
	 "https://outlook.office.com/SMTP.Send; check --user (outbox server edit {} --user ADDRESS), then "
	 SIGN_IN_AGAIN "; if that fails too, " MS_ENABLE_MAILBOX},
	{0, {5, 7, 3}, NULL, AUTH_ADVICE_PASSWORD,
	 "Microsoft 365 refused the login: check the user name (the full address) and the password (outbox server "
	 "edit {} --user ADDRESS --password-prompt); if they are right, " MS_ENABLE_MAILBOX "; passwords are "
	 "being retired, so " MS_OAUTH},

	/* Google, smtp.gmail.com */
	{0, {5, 7, 9}, "application-specific password", AUTH_ADVICE_PASSWORD,
	 "Google wants an app password, as the account has 2-Step Verification: use " GOOGLE_OAUTH ", or create an "
	 "app password at myaccount.google.com/apppasswords and store it: outbox server edit {} --password-prompt"},
	{0, {5, 7, 14}, NULL, ANY_LOGIN,
	 "Google wants this account signed in with a web browser first (it blocked this sign-in, or the account "
	 "needs attention): sign in at mail.google.com, do what Google asks, then check again: outbox server "
	 "check {}"},
	{0, {5, 7, 8}, "username and password not accepted", AUTH_ADVICE_PASSWORD,
	 "Google did not accept the user name and password: Google takes only an app password (with 2-Step "
	 "Verification, at myaccount.google.com/apppasswords; outbox server edit {} --password-prompt), or "
	 "use " GOOGLE_OAUTH},
	{454, {4, 7, 0}, "too many login attempts", ANY_LOGIN,
	 "the provider turns logins away for a while after too many attempts: wait before trying again, and "
	 "check the login first so a wrong one does not keep it locked: outbox server check {}"},

	{530, {5, 7, 0}, "starttls", ANY_LOGIN,
	 "the server wants TLS before the login: outbox server edit {} --security starttls (port 587) or "
	 "--security tls (port 465)"},

	/* RFC 4954 and RFC 7628, from any server */
	{534, {0, 0, 0}, NULL, AUTH_ADVICE_PASSWORD,
	 "the provider refuses this way of logging in: use OAuth if it offers it (man outbox, OAUTH 2.0 "
	 "SIGN-IN), or create an app password in its web settings and store it: outbox server edit {} "
	 "--password-prompt"},
	{538, {0, 0, 0}, NULL, ANY_LOGIN,
	 "the server wants encryption for this method: outbox server edit {} --security starttls (or tls)"},
	{535, {0, 0, 0}, NULL, AUTH_ADVICE_OAUTH, "the token was refused: " SIGN_IN_AGAIN},
	{534, {0, 0, 0}, NULL, AUTH_ADVICE_OAUTH, "the token was refused: " SIGN_IN_AGAIN},
};

static char auth_advice_lower(char c)
{
	return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c == '\n' ? ' ' : c;
}

/* Whether `words` (lower case, single spaces) is in `text`, in any case; a reply's line breaks
 * count as spaces, since providers break their sentences across lines. */
static int auth_advice_has(const char *text, const char *words)
{
	size_t n = strlen(words), i, j;

	for (i = 0; text[i]; i++) {
		for (j = 0; j < n && text[i + j] && auth_advice_lower(text[i + j]) == words[j]; j++)
			;
		if (j == n)
			return 1;
	}
	return 0;
}

static int auth_advice_matches(const struct auth_advice_row *row, const struct smtp_reply *r,
			       enum auth_advice_login login)
{
	if (row->code && row->code != r->code)
		return 0;
	if (row->enhanced[0] && memcmp(row->enhanced, r->enhanced, sizeof row->enhanced) != 0)
		return 0;
	if (row->login != ANY_LOGIN && row->login != (int)login)
		return 0;
	return row->words == NULL || auth_advice_has(r->text, row->words);
}

/* The advice with each "{}" replaced by the name, cut to fit. */
static void auth_advice_fill(const char *advice, const char *name, char *out, size_t size)
{
	size_t len = 0, k;
	const char *p;

	for (p = advice; *p && len + 1 < size; p++) {
		if (p[0] == '{' && p[1] == '}') {
			for (k = 0; name[k] && len + 1 < size; k++)
				out[len++] = name[k];
			p++;
		} else {
			out[len++] = *p;
		}
	}
	out[len] = '\0';
}

int auth_advice_words(const struct smtp_reply *r, enum auth_advice_login login, const char *name, char *out,
		      size_t size)
{
	size_t i;

	if (size == 0)
		return 0;
	out[0] = '\0';
	for (i = 0; i < sizeof auth_advice_rows / sizeof auth_advice_rows[0]; i++)
		if (auth_advice_matches(&auth_advice_rows[i], r, login)) {
			auth_advice_fill(auth_advice_rows[i].advice, name && *name ? name : "NAME", out, size);
			return 1;
		}
	return 0;
}
