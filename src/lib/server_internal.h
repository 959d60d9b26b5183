/* server_internal.h: the server draft as the library sees it, shared by the model (server.c),
 * its persistence (server_store.c) and, later, the code that connects to it. */
#ifndef OUTBOX_SERVER_INTERNAL_H
#define OUTBOX_SERVER_INTERNAL_H

#include "outbox/server.h"
#include "record.h"

enum password_change { PASSWORD_KEEP, PASSWORD_SET, PASSWORD_FORGET };

/* A secret kept outside the database (the keyring or a 0600 file): its id, where the saved one
 * is, and what the next save does with it. */
struct server_secret {
	char id[33];
	outbox_password_source source; /* as saved: none, keyring or file */
	enum password_change change;
	char *value; /* the new one, for PASSWORD_SET */
};

struct outbox_server {
	struct record rec;
	long long id;       /* 0 until saved */
	long long revision; /* as loaded; a save of an older revision is a conflict */
	int port_explicit;  /* the port was typed, so it no longer follows the security mode */
	char secret_id[33];
	outbox_password_source password_source; /* as saved */
	enum password_change password_change;
	char *new_password;
	char **used_by;
	char **fallback_for;
	struct server_secret client_secret; /* OAuth, for providers that want one */
	unsigned long long typed; /* bit per field set on this draft: a preset fills only the others */
};

extern const struct field_spec server_fields[OUTBOX_SERVER_FIELD_COUNT];

/* The port a security mode implies: 465, 587 or 25. */
const char *server_default_port(const char *security);
/* Whether an authentication method sends something an eavesdropper could reuse as a password. */
int server_auth_reveals_password(const char *auth);
/* Whether the method logs in with an OAuth access token (xoauth2, oauthbearer), not a password. */
int server_auth_is_oauth(const char *auth);
/* Whether the method needs a user name. */
int server_auth_needs_user(const char *auth);
/* `base`, else BASE-2, BASE-3, ...: the first name no server has (server_name.c). */
int server_free_name(outbox *h, const char *base, char *out, size_t size);
/* The id of the live server called `name`, or 0 (and an ENOTFOUND message naming `field`). */
int server_id_by_name(outbox *h, const char *field, const char *name, long long *id);

/* What a save does to the OAuth client secret: a new one is stored under a new id (the old one
 * stays until the commit, so a failed save loses nothing); a replaced or forgotten one is deleted
 * once the row no longer points at it. */
struct server_secret_plan {
	const char *row_id; /* what the row says after the save */
	outbox_password_source row_source;
	char new_id[33];
	outbox_password_source stored_at;
	int stored, drop_old;
};

/* A server written in a write transaction its caller began and will end: what was stored outside
 * the database (a new password or client secret) is kept here until then. */
struct server_write {
	char new_id[33];
	char row_secret_id[33]; /* what the row says after the write */
	outbox_password_source source, stored_at;
	int stored, drop_old;
	struct server_secret_plan oauth;
};

/* Check the draft (as outbox_server_save does) and write it, its secrets stored, without
 * committing. On failure what it stored outside the database is deleted again; the caller rolls
 * back, and calls server_write_finish(..., 0) for servers it wrote before in that transaction. */
int server_write_checked(outbox *h, outbox_server *s, struct server_write *w);
/* After the caller's commit (`committed`) or rollback: the draft becomes the saved server, or the
 * secrets stored for it are deleted. */
void server_write_finish(outbox *h, outbox_server *s, struct server_write *w, int committed);

/* outbox_server_save, with `also` writing in the same transaction, after the server's row and
 * before the commit: both are saved, or (also failing) neither. */
int server_save_with(outbox *h, outbox_server *s, int (*also)(outbox *h, void *ctx), void *ctx);

/* server_oauth.c. Put the provider (checked) in the draft; when it changes, its preset fills
 * every field it names that was not typed on this draft, and "none" clears the OAuth settings. */
int server_oauth_set_provider(outbox *h, outbox_server *s, const char *provider);
/* Put the tenant (checked) in the draft; endpoints that were the preset's for the old tenant
 * become the preset's for the new one. */
int server_oauth_set_tenant(outbox *h, outbox_server *s, const char *tenant);
/* The checks no single OAuth field can make: client ID, endpoints and scope present, a token
 * mechanism, no password, nothing OAuth on a server without a provider. */
int server_oauth_validate(outbox *h, const outbox_server *s);

#endif
