/* outbox/setup.h: `outbox setup ADDRESS`: find a submission server from an address (the provider's
 * autoconfig, the ISPDB, SRV and MX records, guesses), probe, choose, verify, then save it all. */
#ifndef OUTBOX_SETUP_H
#define OUTBOX_SETUP_H

#include <stddef.h>
#include "error.h"
#include "server.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct {
	const char *ispdb;            /* the ISPDB's base URL; NULL: Thunderbird's public one */
	const char *resolver;         /* "127.0.0.1:53": every DNS query goes there; NULL: the system's */
	const char *tls_ca;           /* a CA file trusted for the lookups and probes; NULL: the system's */
	long long timeout_ms;         /* the lookups', each probe's (from its source's answer), the login's; 0: 5 s;
				       * at most 300 s */
	const char *password;         /* checked on the chosen server before anything is saved */
	const char *password_command; /* run once for the password to check, when no password is given */
	const char *oauth_client_id;  /* an OAuth sign-in: the method must be XOAUTH2 or OAUTHBEARER */
	/* A user name the login check tries first, before the source's, the full address and the
	 * local part (login_form "the user name given"); NULL or "": none. --auto passes the server's. */
	const char *username;
} outbox_setup_options;

/* What one lookup answered. Words are "autoconfig", "well-known", "ISPDB", "SRV", "MX", "guess"
 * and "found", "not offered", "no answer", "failed". */
typedef struct {
	const char *source;
	const char *what;    /* the URL or DNS name asked */
	const char *outcome;
	long long ms;
	const char *detail;  /* what was found, or why not */
	/* Where the lookup was sent and asked last when its URL answered with a redirect (the
	 * document's URL, when found); "" when the URL itself answered. */
	const char *redirected_to;
	long long done_ms;   /* when it ended, in ms from the start of the run */
} outbox_setup_lookup;

/* A server a source proposed, with its probe and its verdict. */
typedef struct {
	const char *host;
	int port;
	const char *security;     /* "tls", "starttls", "none" */
	const char *source;       /* as in outbox_setup_lookup */
	const char *origin;       /* the URL or DNS name it came from */
	const char *display_name; /* the provider's name, or "" */
	const char *probe;        /* "ok", "failed", "no answer", "skipped" */
	const char *probe_error;  /* why a probe was not ok, or "" */
	const char *tls;          /* "TLSv1.3 TLS_AES_256_GCM_SHA384", or "" */
	const char *offered_auth; /* the mechanisms its EHLO offered, or "" */
	int usable;
	int chosen;
	const char *auth;         /* the --auth value it would get */
	const char *why;          /* why it won, or why it lost */
	/* When its probe began and when its verdict came, in ms from the start of the run (the
	 * lookups' start: probes overlap them); -1 when it was not probed or never began. */
	long long probe_began_ms, probe_done_ms;
	/* The OAuth provider its source names for an OAuth 2.0 sign-in ("microsoft", "google", the
	 * values of server --oauth), else "". */
	const char *oauth;
} outbox_setup_candidate;

typedef struct {
	const char *address;
	const char *domain;
	size_t nlookups;
	const outbox_setup_lookup *lookups;       /* in the sources' order */
	size_t ncandidates;
	const outbox_setup_candidate *candidates; /* by preference: the chosen one first, if any */
	long chosen;                              /* its index in candidates, or -1 */
	int login_checked;                        /* a password was tried on the chosen server */
	const char *login_user;                   /* the user name that logged in, or "" */
	const char *login_form;                   /* "the user name given", "the full address", ... */
	const char *login_tried;                  /* the user names tried, ", "-joined */
	/* Lookups until the last one ended and probes until the last verdict, both from the start of
	 * the run (they overlap: the guesses are probed at once, a source's servers once it answers);
	 * then the login check. */
	long long lookups_ms, probes_ms, login_ms;
} outbox_setup_result;

/* Find, probe and choose a server for `address` (and with a password or password command, log
 * in to it, sending no mail). `progress` (may be NULL) hears, on the caller's thread, a line as
 * each stage begins (ending in "..."), as each source's lookup ends ("autoconfig URL: found: 1
 * SMTP server (Example Mail) (212 ms)") and as each probe has its verdict ("probed
 * smtp.example.com port 465 tls: ok, TLSv1.3 ..., AUTH PLAIN (40 ms)", or why not), in the order
 * they happen, in the words of the result; and NULL, no line, every 100 ms or so while nothing
 * happens. Its answer nonzero cancels: nothing more is begun (no probe, never the login check)
 * and the call returns OUTBOX_ECANCELLED with *out NULL at once, leaving lookups and probes
 * already under way to end by the deadline on threads of their own. Returns 0 with a chosen server. Once the servers were
 * probed, every outcome comes with *out saying what was tried: OUTBOX_EUNAVAILABLE when none is
 * usable, OUTBOX_EAUTH when the login was refused, OUTBOX_ETEMPFAIL or OUTBOX_EPROTOCOL when the
 * login check could not be finished. A failure before that (OUTBOX_EINVALID naming the field,
 * OUTBOX_ECONFIG, OUTBOX_ENOMEM) leaves *out NULL. Nothing is saved. Free *out with
 * outbox_setup_result_free. */
int outbox_setup_discover(outbox *h, const char *address, const outbox_setup_options *o,
			  int (*progress)(void *ctx, const char *what), void *ctx, outbox_setup_result **out);
void outbox_setup_result_free(outbox_setup_result *r);
/* Wait up to timeout_ms for the lookups and probes cancelled runs left to their deadlines: 1 when
 * none is left. For a program about to exit after a cancel (exiting under a thread still inside
 * libcurl or OpenSSL is not safe); a run that was not cancelled leaves none. */
int outbox_setup_settle(long long timeout_ms);

/* What outbox_setup_save stores with the chosen server. */
typedef struct {
	const char *full_name;        /* the account's name for From; NULL or "": none */
	const char *password;         /* stored as `server add` stores one; or NULL */
	const char *password_command; /* stored instead (only the command); or NULL */
	const char *oauth_client_id;  /* for an OAuth server; sign in afterwards with server login */
	const char *tls_ca;           /* stored on the server; or NULL */
} outbox_setup_save_options;

/* What can be refused from the input alone, before any lookup or password: OUTBOX_EINVALID naming
 * "address" or "name" for a value an account cannot have; OUTBOX_EEXISTS naming "address" when an
 * account for it exists (the message names `outbox account remove` and `outbox server edit NAME
 * --auto` as the ways on); else 0. full_name may be NULL. outbox_setup_drafts checks it too. */
int outbox_setup_check_input(outbox *h, const char *address, const char *full_name);

/* The server and account the result's chosen server makes, as drafts (not saved): the server
 * named after the domain (DOMAIN-2, ... when taken) and described by the provider's name, the
 * account for the address using it. For --dry-run and for outbox_setup_save alike, so both
 * refuse the same things: every check the save makes (OUTBOX_EEXISTS for an account for the
 * address, or a server already sending through that host, port and user; OUTBOX_EINVALID naming
 * the field), made here on the drafts. */
typedef struct outbox_server outbox_server;
typedef struct outbox_account outbox_account;
int outbox_setup_drafts(outbox *h, const outbox_setup_result *r, const outbox_setup_save_options *o,
			outbox_server **server, outbox_account **account);
/* The same drafts from r->candidates[candidate], chosen or not: the one place that turns a
 * candidate into a server and an account (outbox_setup_drafts is this for r->chosen). The user
 * name is the one that logged in to that candidate, else its source's, else the address. Unlike
 * outbox_setup_drafts, a refusal (OUTBOX_EUNAVAILABLE for a candidate that cannot be used, and
 * every check above) leaves in *server and *account what could be filled in, for a form to
 * finish; the caller frees both (either may be NULL after OUTBOX_ENOMEM). */
int outbox_setup_drafts_for(outbox *h, const outbox_setup_result *r, size_t candidate,
			    const outbox_setup_save_options *o, outbox_server **server, outbox_account **account);

/* Save the drafts outbox_setup_drafts makes, server and account in one transaction: both, or
 * on any failure (an account for the address already exists, ...) neither. `server_name`
 * receives the server's name. Taken back by outbox_undo (`outbox undo`), as the latest change. */
int outbox_setup_save(outbox *h, const outbox_setup_result *r, const outbox_setup_save_options *o,
		      char *server_name, size_t size);

/* `outbox server edit NAME --auto`: discovery again for a saved server, and only what changed saved.
 * The fields discovery decides: host, security, port, auth and the user name that logged in (in
 * the order they are set). */
#define OUTBOX_SETUP_AUTO_FIELDS 5
typedef struct {
	outbox_server_field_id field;
	char before[256]; /* as stored */
	char after[256];  /* as discovery found it */
} outbox_setup_change;

/* The address to look up for `s`: its user name when that is an address (*from "its user name"),
 * else the first account using it whose domain is the host's registered domain (*from "the
 * first account using it in its host's domain"): another domain's provider must not be tried
 * with this server's password. The strings are the server's. OUTBOX_EINVALID naming "auto"
 * when there is neither. */
int outbox_setup_auto_address(outbox *h, const outbox_server *s, const char **address, const char **from);
/* outbox_setup_discover for `address` with the server's own credentials for the login check: its
 * stored password or password command's output, tried first with its stored user name; none for
 * OAuth (the method stays an OAuth one) or auth none. o's password and user name are ignored.
 * Returns as outbox_setup_discover does. */
int outbox_setup_auto_discover(outbox *h, const outbox_server *s, const char *address,
			       const outbox_setup_options *o, int (*progress)(void *ctx, const char *what),
			       void *ctx, outbox_setup_result **out);
/* The fields whose stored value differs from the chosen candidate's, in out[0..n): n, 0 when
 * nothing changed or nothing was chosen. A stored auth "auto" is kept (it chooses on every
 * connection already), and so is "none" (a server saved without credentials has none to log in
 * with, whatever the new server offers). */
size_t outbox_setup_auto_changes(const outbox_server *s, const outbox_setup_result *r,
				 outbox_setup_change out[OUTBOX_SETUP_AUTO_FIELDS]);
/* Save the changes to server `name` in one edit transaction: OUTBOX_ECONFLICT (nothing saved)
 * when a field no longer holds its `before`. *saved is the saved server, to free. */
int outbox_setup_auto_save(outbox *h, const char *name, const outbox_setup_change *changes, size_t n,
			   outbox_server **saved);

#ifdef __cplusplus
}
#endif
#endif
