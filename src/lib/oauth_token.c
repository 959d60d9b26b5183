/* oauth_token.c: a server's OAuth tokens in the secret store (never the database), and the refresh
 * that many senders share: one takes the lock, re-reads, refreshes and stores; the rest re-read. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <openssl/sha.h>

#include "auth_advice.h"
#include "buf.h"
#include "handle_internal.h"
#include "oauth_token.h"
#include "secret.h"

/* The stored access token is "<expiry> <token>": the longest one must fit the secret store. */
_Static_assert(OAUTH_MAX_TOKEN + 24 <= SECRET_MAX, "an access token must fit the secret store");

/* The wait between tries for a lock another sender holds while it refreshes. */
#define OAUTH_TOKEN_LOCK_POLL_MS 20

static const char *token_name(const outbox_server *s)
{
	return s->rec.val[OUTBOX_SERVER_NAME];
}

static long long token_timeout_ms(const outbox_server *s)
{
	return strtoll(s->rec.val[OUTBOX_SERVER_TIMEOUT], NULL, 10) * 1000;
}

static int token_oom(outbox *h)
{
	return outbox_fail(h, OUTBOX_ENOMEM, NULL, "out of memory");
}

/* The secret ids of the refresh and the access token, derived from the server's own secret id so
 * that they follow it through renames and need no column of their own. */
static int token_id(outbox *h, const outbox_server *s, const char *which, char out[33])
{
	unsigned char digest[SHA256_DIGEST_LENGTH];
	char input[96];
	int i;

	if (strlen(s->secret_id) != 32)
		return outbox_fail(h, OUTBOX_ECONFIG, NULL, "server \"%s\" has no secret id; save it again",
				   token_name(s));
	snprintf(input, sizeof input, "outbox oauth %s:%s", which, s->secret_id);
	SHA256((const unsigned char *)input, strlen(input), digest);
	for (i = 0; i < 16; i++)
		snprintf(out + 2 * i, 3, "%02x", digest[i]);
	return 0;
}

/* $OUTBOX_HOME/oauth/<secret id><suffix>, the directory made 0700 when missing. */
static int token_path(outbox *h, const outbox_server *s, const char *suffix, struct buf *path)
{
	struct stat st;

	if (h->home == NULL || *h->home == '\0')
		return outbox_fail(h, OUTBOX_ECONFIG, NULL, "the store has no directory for OAuth state");
	if (buf_printf(path, "%s/oauth", h->home) < 0)
		return token_oom(h);
	if (mkdir(path->data, 0700) < 0 && errno != EEXIST)
		return outbox_fail(h, OUTBOX_EIO, NULL, "cannot create %s: %s", path->data, strerror(errno));
	if (lstat(path->data, &st) < 0 || !S_ISDIR(st.st_mode) || st.st_uid != geteuid() ||
	    (st.st_mode & 077) != 0)
		return outbox_fail(h, OUTBOX_ECONFIG, NULL,
				   "%s must be a directory of this user with mode 0700", path->data);
	if (buf_printf(path, "/%s%s", s->secret_id, suffix) < 0)
		return token_oom(h);
	return 0;
}

/* The state file says where the tokens are, until when the access token is valid, whether a
 * refresh token was stored, and whom the sign-in was for: nothing secret, so `server show` needs no
 * keyring. "keyring 1767225600 1 alice@example.org\n" (or "file ..."); a file of an older outbox
 * has only the first two fields, and its sign-in had a refresh token, as every sign-in must. */
static int token_state_read(outbox *h, const outbox_server *s, outbox_password_source *where,
			    struct oauth_token_status *st)
{
	struct buf path = BUF_INIT;
	char line[OAUTH_TOKEN_USER_MAX + 64], kind[16];
	const char *user;
	int fd, rc, used = 0, more = 0, refresh = 1;
	ssize_t n;

	memset(st, 0, sizeof *st);
	if ((rc = token_path(h, s, ".state", &path)) < 0)
		goto out;
	fd = open(path.data, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0) {
		rc = errno == ENOENT ? 1
				     : outbox_fail(h, OUTBOX_EIO, NULL, "cannot open %s: %s", path.data,
						   strerror(errno));
		goto out;
	}
	n = read(fd, line, sizeof line - 1);
	close(fd);
	line[n > 0 ? n : 0] = '\0';
	line[strcspn(line, "\n")] = '\0';
	if (sscanf(line, "%15s %lld%n", kind, &st->expires_at, &used) != 2 ||
	    (strcmp(kind, "keyring") != 0 && strcmp(kind, "file") != 0) ||
	    (line[used] != '\0' && sscanf(line + used, " %d %n", &refresh, &more) != 1)) {
		rc = outbox_fail(h, OUTBOX_ECONFIG, NULL, "%s is damaged; " AUTH_ADVICE_SIGN_IN_AGAIN "%s",
				 path.data, token_name(s));
		goto out;
	}
	user = line[used] == '\0' || more == 0 ? "" : line + used + more;
	snprintf(st->user, sizeof st->user, "%s", user);
	st->refresh_possible = refresh != 0;
	*where = strcmp(kind, "keyring") == 0 ? OUTBOX_PASSWORD_KEYRING : OUTBOX_PASSWORD_FILE;
	rc = 0;
out:
	buf_free(&path);
	return rc;
}

/* Replace the state file atomically (a temporary file renamed over it). */
static int token_state_write(outbox *h, const outbox_server *s, outbox_password_source where,
			     const struct oauth_token_status *st)
{
	struct buf path = BUF_INIT, tmp = BUF_INIT;
	char line[OAUTH_TOKEN_USER_MAX + 64];
	int fd = -1, n, rc;

	if ((rc = token_path(h, s, ".state", &path)) < 0)
		goto out;
	if (buf_printf(&tmp, "%s.%ld.tmp", path.data, (long)getpid()) < 0) {
		rc = token_oom(h);
		goto out;
	}
	n = snprintf(line, sizeof line, "%s %lld %d %s\n", where == OUTBOX_PASSWORD_KEYRING ? "keyring" : "file",
		     st->expires_at, st->refresh_possible ? 1 : 0, st->user);
	unlink(tmp.data);
	fd = open(tmp.data, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0 || write(fd, line, (size_t)n) != n || fsync(fd) < 0 || close(fd) < 0 ||
	    rename(tmp.data, path.data) < 0) {
		rc = outbox_fail(h, OUTBOX_EIO, NULL, "cannot write %s: %s", path.data, strerror(errno));
		if (fd >= 0)
			unlink(tmp.data);
		goto out;
	}
	rc = 0;
out:
	buf_free(&path);
	buf_free(&tmp);
	return rc;
}

int oauth_token_status(outbox *h, const outbox_server *s, struct oauth_token_status *st)
{
	outbox_password_source where;
	int rc;

	if ((rc = token_state_read(h, s, &where, st)) < 0)
		return rc;
	st->signed_in = rc == 0;
	return 0;
}

static int token_not_signed_in(outbox *h, const outbox_server *s)
{
	return outbox_fail(h, OUTBOX_EAUTH, "oauth",
			   "server \"%s\" is not signed in: " AUTH_ADVICE_SIGN_IN_AGAIN "%s",
			   token_name(s), token_name(s));
}

int oauth_token_save(outbox *h, const outbox_server *s, const struct oauth_tokens *t,
		     enum oauth_token_origin origin)
{
	char rid[33], aid[33], label[300];
	struct buf access = BUF_INIT;
	struct oauth_token_status st;
	outbox_password_source where = OUTBOX_PASSWORD_NONE, before;
	long long expires_in = t->expires_in > 0 ? t->expires_in : 3600;
	long long expires_at = (long long)time(NULL) + expires_in;
	int rc, kept = 0;

	if ((rc = token_id(h, s, "refresh", rid)) < 0 || (rc = token_id(h, s, "access", aid)) < 0)
		return rc;
	/* A refresh keeps whom the sign-in was for: it is the user's --user at sign-in that the
	 * tokens belong to, and a --user changed since must still show as a change. */
	if (origin == OAUTH_TOKEN_REFRESHED && token_state_read(h, s, &before, &st) == 0) {
		st.refresh_possible |= t->refresh_token != NULL;
		/* The stored refresh token is the one just used unless the provider rotated it:
		 * writing it again would cost a durable write (two syncs) for nothing. */
		kept = !t->refresh_rotated;
	} else {
		outbox_clear_error(h);
		memset(&st, 0, sizeof st);
		snprintf(st.user, sizeof st.user, "%s", s->rec.val[OUTBOX_SERVER_USER]);
		st.refresh_possible = t->refresh_token != NULL;
	}
	st.expires_at = expires_at;
	snprintf(label, sizeof label, "outbox: %s OAuth refresh token", token_name(s));
	/* The refresh token goes first: if anything after fails, the sign-in still works. */
	if (t->refresh_token && !kept && (rc = secret_store(h, rid, label, t->refresh_token, &where)) < 0)
		return rc;
	if (buf_printf(&access, "%lld %s", expires_at, t->access_token) < 0)
		return token_oom(h);
	snprintf(label, sizeof label, "outbox: %s OAuth access token", token_name(s));
	rc = secret_store(h, aid, label, access.data, &where);
	secret_wipe(access.data);
	access.data = NULL;
	buf_free(&access);
	if (rc < 0)
		return rc;
	/* The state names one place for both tokens: when the access token went elsewhere (the
	 * keyring came or went since the sign-in), the kept refresh token follows it. */
	if (kept && where != before && t->refresh_token) {
		snprintf(label, sizeof label, "outbox: %s OAuth refresh token", token_name(s));
		if ((rc = secret_store(h, rid, label, t->refresh_token, &where)) < 0)
			return rc;
	}
	return token_state_write(h, s, where, &st);
}

int oauth_token_refresh_token(outbox *h, const outbox_server *s, char **out)
{
	outbox_password_source where;
	struct oauth_token_status st;
	char rid[33];
	int rc;

	*out = NULL;
	if ((rc = token_state_read(h, s, &where, &st)) < 0)
		return rc;
	if (rc > 0)
		return token_not_signed_in(h, s);
	if ((rc = token_id(h, s, "refresh", rid)) < 0)
		return rc;
	if (secret_lookup(h, rid, where, out) < 0)
		return token_not_signed_in(h, s);
	return 0;
}

/* The stored access token and its end; 1 when there is none. */
static int token_read_access(outbox *h, const outbox_server *s, long long *expires_at, char **token)
{
	outbox_password_source where;
	struct oauth_token_status st;
	char aid[33], *value = NULL, *space;
	int rc;

	*token = NULL;
	if ((rc = token_state_read(h, s, &where, &st)) != 0)
		return rc;
	*expires_at = st.expires_at;
	if ((rc = token_id(h, s, "access", aid)) < 0)
		return rc;
	if (secret_lookup(h, aid, where, &value) < 0)
		return 1; /* a lost access token is only a refresh away */
	space = strchr(value, ' ');
	if (space == NULL || (*token = strdup(space + 1)) == NULL) {
		secret_wipe(value);
		return space == NULL ? 1 : token_oom(h);
	}
	*expires_at = strtoll(value, NULL, 10);
	secret_wipe(value);
	return 0;
}

int oauth_token_forget(outbox *h, const outbox_server *s)
{
	outbox_password_source where;
	struct oauth_token_status st;
	struct buf path = BUF_INIT;
	char rid[33], aid[33];
	int rc;

	if ((rc = token_state_read(h, s, &where, &st)) != 0)
		return rc < 0 ? rc : 0;
	if ((rc = token_id(h, s, "refresh", rid)) < 0 || (rc = token_id(h, s, "access", aid)) < 0)
		return rc;
	if ((rc = secret_delete(h, rid, where)) < 0 || (rc = secret_delete(h, aid, where)) < 0)
		return rc;
	if ((rc = token_path(h, s, ".state", &path)) == 0 && unlink(path.data) < 0 && errno != ENOENT)
		rc = outbox_fail(h, OUTBOX_EIO, NULL, "cannot remove %s: %s", path.data, strerror(errno));
	buf_free(&path);
	return rc;
}

int oauth_token_client(outbox *h, const outbox_server *s, struct transcript verbose,
		       struct oauth_client *c)
{
	char *secret = NULL;
	int rc;

	memset(c, 0, sizeof *c);
	if (s->client_secret.source == OUTBOX_PASSWORD_KEYRING || s->client_secret.source == OUTBOX_PASSWORD_FILE) {
		if ((rc = secret_lookup(h, s->client_secret.id, s->client_secret.source, &secret)) < 0)
			return rc;
	}
	c->client_id = s->rec.val[OUTBOX_SERVER_OAUTH_CLIENT_ID];
	c->client_secret = secret;
	c->timeout_ms = (long)token_timeout_ms(s);
	c->ca_file = *s->rec.val[OUTBOX_SERVER_OAUTH_TLS_CA] ? s->rec.val[OUTBOX_SERVER_OAUTH_TLS_CA] : NULL;
	c->verbose = verbose;
	return 0;
}

void oauth_token_client_free(struct oauth_client *c)
{
	char *owned;

	/* oauth_token_client allocated it; the struct holds it const for the protocol code. */
	memcpy(&owned, &c->client_secret, sizeof owned);
	secret_wipe(owned);
	c->client_secret = NULL;
}

/* An exclusive lock on $OUTBOX_HOME/oauth/<id>.lock, waited for at most the server's timeout. */
static int token_lock(outbox *h, const outbox_server *s, int *fd_out)
{
	struct buf path = BUF_INIT;
	struct timespec pause = {0, OAUTH_TOKEN_LOCK_POLL_MS * 1000000L};
	long long waited = 0, limit = token_timeout_ms(s);
	int fd, rc;

	*fd_out = -1;
	if ((rc = token_path(h, s, ".lock", &path)) < 0)
		goto out;
	fd = open(path.data, O_RDWR | O_CREAT | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC, 0600);
	if (fd < 0) {
		rc = outbox_fail(h, OUTBOX_EIO, NULL, "cannot open %s: %s", path.data, strerror(errno));
		goto out;
	}
	while (flock(fd, LOCK_EX | LOCK_NB) < 0) {
		if ((errno != EWOULDBLOCK && errno != EINTR) || waited >= limit) {
			rc = outbox_fail(h, OUTBOX_ETEMPFAIL, NULL,
					 "another outbox held the sign-in of server \"%s\" for %lld s while "
					 "refreshing its token", token_name(s), limit / 1000);
			close(fd);
			goto out;
		}
		nanosleep(&pause, NULL);
		waited += OAUTH_TOKEN_LOCK_POLL_MS;
	}
	*fd_out = fd;
	rc = 0;
out:
	buf_free(&path);
	return rc;
}

/* The provider's refusal of the refresh token as the fix the user needs. */
static int token_refresh_failed(outbox *h, const outbox_server *s, int rc)
{
	char words[600];

	if (rc != OUTBOX_EAUTH)
		return rc;
	snprintf(words, sizeof words, "%s", outbox_errmsg(h));
	return outbox_fail(h, OUTBOX_EAUTH, "oauth", "server \"%s\": %s; " AUTH_ADVICE_SIGN_IN_AGAIN "%s",
			   token_name(s), words, token_name(s));
}

static int token_valid(long long expires_at)
{
	return expires_at - (long long)time(NULL) >= OAUTH_TOKEN_MARGIN;
}

/* Under the lock: re-read (another sender may have refreshed), else refresh and store. */
static int token_refresh_locked(outbox *h, const outbox_server *s, const char *refused,
				struct transcript verbose, char **token, int *refreshed)
{
	struct oauth_tokens fresh;
	struct oauth_client c;
	char *refresh = NULL;
	long long expires_at = 0;
	int rc;

	memset(&fresh, 0, sizeof fresh);
	if ((rc = token_read_access(h, s, &expires_at, token)) < 0)
		return rc;
	if (rc == 0 && token_valid(expires_at) && (refused == NULL || strcmp(*token, refused) != 0))
		return 0;
	secret_wipe(*token);
	*token = NULL;
	if ((rc = oauth_token_refresh_token(h, s, &refresh)) < 0)
		return rc;
	if ((rc = oauth_token_client(h, s, verbose, &c)) < 0)
		goto out;
	rc = oauth_refresh(h, &c, s->rec.val[OUTBOX_SERVER_OAUTH_TOKEN_URL], refresh,
			   *s->rec.val[OUTBOX_SERVER_OAUTH_SCOPE] ? s->rec.val[OUTBOX_SERVER_OAUTH_SCOPE] : NULL,
			   &fresh);
	oauth_token_client_free(&c);
	if (rc < 0) {
		rc = token_refresh_failed(h, s, rc);
		goto out;
	}
	if ((rc = oauth_token_save(h, s, &fresh, OAUTH_TOKEN_REFRESHED)) < 0)
		goto out;
	if ((*token = strdup(fresh.access_token)) == NULL)
		rc = token_oom(h);
	else
		*refreshed = 1;
out:
	secret_wipe(refresh);
	oauth_tokens_free(&fresh);
	return rc;
}

int oauth_token_access(outbox *h, const outbox_server *s, int force, struct transcript verbose, char **token,
		       int *refreshed)
{
	long long expires_at = 0;
	char *seen = NULL;
	int fd, rc, fetched = 0;

	*token = NULL;
	if (refreshed)
		*refreshed = 0;
	if ((rc = token_read_access(h, s, &expires_at, &seen)) < 0)
		return rc;
	if (rc == 0 && !force && token_valid(expires_at)) {
		*token = seen;
		return 0;
	}
	if ((rc = token_lock(h, s, &fd)) == 0) {
		rc = token_refresh_locked(h, s, force ? seen : NULL, verbose, token, &fetched);
		close(fd); /* releases the lock */
	}
	if (refreshed)
		*refreshed = fetched;
	secret_wipe(seen);
	return rc;
}

int oauth_token_retry_refused(const outbox_server *s, int failure, int refreshed)
{
	return failure == OUTBOX_EAUTH && !refreshed && strcmp(s->rec.val[OUTBOX_SERVER_OAUTH], "none") != 0;
}
