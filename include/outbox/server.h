/* outbox/server.h: outgoing (SMTP) servers, the "Edit SMTP Server List" of a mail client.
 * A server is edited as a draft: set fields (each checked at once), then save in one transaction. */
#ifndef OUTBOX_SERVER_H
#define OUTBOX_SERVER_H

#include <stddef.h>
#include "error.h"
#include "field.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct outbox_server outbox_server;

typedef enum {
	OUTBOX_SERVER_NAME,        /* the handle used on the command line, unique */
	OUTBOX_SERVER_DESCRIPTION, /* what lists show */
	OUTBOX_SERVER_HOST,
	OUTBOX_SERVER_PORT,     /* follows the security mode unless set: 465 tls, 587 starttls, 25 none */
	OUTBOX_SERVER_SECURITY, /* tls, starttls, none */
	OUTBOX_SERVER_AUTH,     /* auto, none, plain, login, cram-md5, scram-*, xoauth2, oauthbearer, external */
	OUTBOX_SERVER_USER,
	OUTBOX_SERVER_PASSWORD_COMMAND, /* run to obtain the password; only the command is stored */
	OUTBOX_SERVER_ALLOW_INSECURE_AUTH,
	OUTBOX_SERVER_TLS_VERIFY,
	OUTBOX_SERVER_TLS_CA,
	OUTBOX_SERVER_TLS_PIN, /* SHA-256 of the server certificate, 64 hex digits */
	OUTBOX_SERVER_TLS_CERT,
	OUTBOX_SERVER_TLS_KEY,
	OUTBOX_SERVER_TIMEOUT, /* seconds per step */
	OUTBOX_SERVER_DEFAULT,
	/* OAuth 2.0 sign-in: setting the provider fills host, port, security, auth, scope, tenant and
	 * endpoints from its preset, except fields already set on this draft. */
	OUTBOX_SERVER_OAUTH,            /* none, microsoft, google, custom */
	OUTBOX_SERVER_OAUTH_CLIENT_ID,  /* the user's own registered application */
	OUTBOX_SERVER_OAUTH_TENANT,     /* microsoft: common, organizations, consumers, a GUID or a domain */
	OUTBOX_SERVER_OAUTH_DEVICE_URL, /* endpoints: https://, or http:// to a loopback host */
	OUTBOX_SERVER_OAUTH_AUTHORIZE_URL,
	OUTBOX_SERVER_OAUTH_TOKEN_URL,
	OUTBOX_SERVER_OAUTH_REVOKE_URL,
	OUTBOX_SERVER_OAUTH_SCOPE,
	OUTBOX_SERVER_OAUTH_TLS_CA,     /* trust this CA for the endpoints, not the system's */
	OUTBOX_SERVER_HELO, /* the name given in EHLO; "" = automatic: the host's FQDN at send time */
	OUTBOX_SERVER_FIELD_COUNT
} outbox_server_field_id;

/* Where a server's password is kept; never the password itself. */
typedef enum {
	OUTBOX_PASSWORD_NONE,
	OUTBOX_PASSWORD_KEYRING, /* Secret Service, through libsecret */
	OUTBOX_PASSWORD_FILE,    /* a 0600 file in the store's directory */
	OUTBOX_PASSWORD_COMMAND  /* the password command's output, read when sending */
} outbox_password_source;

const outbox_field *outbox_server_field_info(outbox_server_field_id id);
/* The field whose key is `key` ("tls-pin"), or -1. */
int outbox_server_field_by_key(const char *key);

/* A short name for a new server at `host`, as the UI fills it in: the host without its leading
 * service labels ("smtp.example.com" -> "example.com", as setup names a server after the domain),
 * made unique the same way ("example.com-2"). "" in out when the host gives nothing to go on. */
int outbox_server_name_for_host(outbox *h, const char *host, char *out, size_t size);

/* A new draft with the defaults: starttls, port 587, auth auto, verify on, timeout 60. NULL on OOM. */
outbox_server *outbox_server_new(void);
/* A copy of the saved server `name` as a draft; OUTBOX_ENOTFOUND when there is none. */
int outbox_server_load(outbox *h, const char *name, outbox_server **out);
/* An independent copy of a draft, unsaved edits and new password included, for another thread
 * (with its own handle) to use while the original goes on being edited. NULL on OOM. */
outbox_server *outbox_server_dup(const outbox_server *s);
void outbox_server_free(outbox_server *s);

/* The field as text, never NULL: "" when unset, "true"/"false" for flags, digits for numbers. */
const char *outbox_server_get(const outbox_server *s, outbox_server_field_id id);
/* Check `value` for the field and, when it is valid, put it in the draft. An empty value clears
 * an optional field. On failure the draft is unchanged and the handle names the field. */
int outbox_server_set(outbox *h, outbox_server *s, outbox_server_field_id id, const char *value);
/* Give the draft a password to store on save (copied, wiped from memory when the draft is freed).
 * NULL forgets the stored password on save. */
int outbox_server_set_password(outbox *h, outbox_server *s, const char *password);

outbox_password_source outbox_server_password_source(const outbox_server *s);
const char *outbox_password_source_name(outbox_password_source src);
/* Accounts whose outgoing server this is (loaded servers only); NULL-terminated. */
const char *const *outbox_server_used_by(const outbox_server *s);
/* Accounts that list this server as a fallback; NULL-terminated. */
const char *const *outbox_server_fallback_for(const outbox_server *s);

/* Whole-record checks that no single field can make: client certificate without key, a password
 * method without TLS, a duplicate of another server (same host, port and user). */
int outbox_server_validate(outbox *h, const outbox_server *s);
/* Validate, then insert (a new draft) or update (a loaded one, renaming when the name changed) in
 * one transaction, storing the password where it belongs. On failure nothing has changed. */
int outbox_server_save(outbox *h, outbox_server *s);

/* Changes a load-modify-save caller makes to the freshly loaded draft: 0, or a negative code with
 * the handle's error set (outbox_server_set does both). */
typedef int (*outbox_server_edit_fn)(outbox *h, outbox_server *s, void *ctx);
/* Load `name`, apply the changes and save, all in one write transaction, so the draft never goes
 * stale: for a command-line edit, where no person holds a draft (a form loads and saves instead,
 * and hears OUTBOX_ECONFLICT when another process saved first). On success *out is the saved
 * server, to free; on failure nothing has changed. */
int outbox_server_edit(outbox *h, const char *name, outbox_server_edit_fn apply, void *ctx,
		       outbox_server **out);

/* The EHLO name of a server whose helo is empty: this host's fully qualified name, else "" (each
 * connection then gives its own local address as a literal, "[192.0.2.1]"). */
void outbox_server_helo_automatic(char *out, size_t size);

/* Every server that is not removed, ordered by name. */
int outbox_server_list(outbox *h, outbox_server ***out, size_t *count);
void outbox_server_list_free(outbox_server **list, size_t count);

#define OUTBOX_REMOVE_PURGE 1u /* remove for good: no undo, the stored password is deleted */

/* Remove a server. Accounts that use it move to `reassign` (a server name, or NULL); without it
 * removal is refused while accounts use the server. Removal is undoable unless purged. */
int outbox_server_remove(outbox *h, const char *name, const char *reassign, unsigned flags);

/* What removing a server would change, decided by the same code the removal runs, so a front
 * end can name every change before the user confirms. */
typedef struct outbox_server_removal outbox_server_removal;
/* The plan for outbox_server_remove(h, name, reassign, ...) as the store is now. */
int outbox_server_remove_plan(outbox *h, const char *name, const char *reassign, outbox_server_removal **out);
void outbox_server_removal_free(outbox_server_removal *p);
/* 1 when the removal is refused without `reassign`: accounts use the server, or it is the
 * default and other servers remain (one of them must become the default). */
int outbox_server_removal_needs_target(const outbox_server_removal *p);
/* The accounts that use the server and move to `reassign`; NULL-terminated. */
const char *const *outbox_server_removal_moved(const outbox_server_removal *p);
/* 1 when the server is the default; *next is then the default afterwards, NULL for none. */
int outbox_server_removal_default(const outbox_server_removal *p, const char **next);
/* How many accounts' fallback lists change, and the i-th: its address, and its fallback
 * servers before and after (NULL-terminated). */
size_t outbox_server_removal_fallback_count(const outbox_server_removal *p);
const char *outbox_server_removal_fallback(const outbox_server_removal *p, size_t i, const char *const **before,
					   const char *const **after);

/* Give the draft an OAuth client secret to store on save, in the keyring or a 0600 file like a
 * password, never in the database (copied, wiped when the draft is freed). NULL forgets it. */
int outbox_server_set_oauth_client_secret(outbox *h, outbox_server *s, const char *secret);
/* Where the client secret is kept (none, keyring or file); never the secret itself. */
outbox_password_source outbox_server_oauth_client_secret_source(const outbox_server *s);

/* OAuth 2.0 sign-in of a server whose provider is set (`outbox server login`). The tokens go to
 * the secret store like a password, never the database. */
typedef enum {
	OUTBOX_SIGNIN_PREFERRED, /* the provider's preferred way */
	OUTBOX_SIGNIN_DEVICE,    /* a code to enter on another device (RFC 8628) */
	OUTBOX_SIGNIN_BROWSER    /* a browser on this machine and a loopback redirect (RFC 8252) */
} outbox_signin_grant;

typedef struct {
	/* The device grant: where to go and the code to enter there; `complete` (NULL when the
	 * provider offers none) carries the code in the URL. */
	void (*device_code)(void *ctx, const char *uri, const char *user_code, const char *complete);
	/* The browser grant: the URL to open (the front end opens it and shows it). */
	void (*browser_url)(void *ctx, const char *url);
	/* Called while waiting, with the seconds left; non-zero cancels the sign-in. */
	int (*progress)(void *ctx, long long seconds_left);
	void *ctx;
	/* The HTTP exchanges with the provider as they happen, one line a call ('>' sent, '<'
	 * received), tokens, codes and secrets hidden, as `-v` shows them; NULL: none. Gets ctx. */
	void (*transcript)(void *ctx, char direction, const char *line, size_t len);
} outbox_signin_events;

/* Open `url` in the user's browser ($BROWSER, else xdg-open) without waiting for it: 1 when one
 * was started, 0 when there is none (the front end shows the address either way). */
int outbox_browser_open(const char *url);

/* Sign in to server `name` and store its tokens; *expires_at (may be NULL) is when the access
 * token ends, in seconds since the epoch. */
int outbox_server_login(outbox *h, const char *name, outbox_signin_grant grant,
			const outbox_signin_events *ev, long long *expires_at);
/* Revoke the tokens where the provider can (a failed revocation leaves *warning, malloc'd
 * words, else NULL) and delete them. */
int outbox_server_logout(outbox *h, const char *name, char **warning);

/* A server's sign-in as `server show` and `server check` report it, from what was recorded at
 * sign-in (no secret is read). All zero for a server without an OAuth provider. */
typedef struct {
	int signed_in;        /* tokens are stored */
	char user[321];       /* the --user the sign-in was for; "" when it was not recorded */
	int user_changed;     /* the server's --user is someone else now: the tokens are not theirs */
	char user_now[321];   /* that --user, when it changed */
	long long expires_at; /* the access token's end, seconds since the epoch; 0 when not signed in */
	int expired;          /* that end has passed: the next use refreshes it first, if it can */
	int refresh_possible; /* a refresh token is stored */
	int usable;           /* a login can use it: signed in, for this user, and valid or renewable */
} outbox_signin;

int outbox_server_signin(outbox *h, const outbox_server *s, outbox_signin *out);
/* The state in words, the access token's end in local time: "signed in as USER; access token
 * valid until 2026-12-03 18:40:00 CET; refresh possible". */
void outbox_signin_words(const outbox_signin *in, char *out, size_t size);
/* What to do when the sign-in is not usable, naming server `name` in the command; "" when it is. */
void outbox_signin_advice(const outbox_signin *in, const char *name, char *out, size_t size);

#ifdef __cplusplus
}
#endif
#endif
