/* migrate.c: the schema as a list of forward steps, one per version (PRAGMA user_version).
 * A released step is never edited: a change to the schema is a new step at the end. */
#include <stdio.h>

#include "store.h"

/* Version 1: servers, accounts and their ordered fallback servers. */
static const char schema_v1[] =
	"CREATE TABLE servers ("
	"  id INTEGER PRIMARY KEY,"
	"  name TEXT NOT NULL,"
	"  description TEXT NOT NULL DEFAULT '',"
	"  host TEXT NOT NULL,"
	"  port INTEGER NOT NULL CHECK (port BETWEEN 1 AND 65535),"
	"  security TEXT NOT NULL CHECK (security IN ('tls', 'starttls', 'none')),"
	"  auth TEXT NOT NULL,"
	"  username TEXT NOT NULL DEFAULT '',"
	"  password_source TEXT NOT NULL DEFAULT 'none',"
	"  password_command TEXT NOT NULL DEFAULT '',"
	"  secret_id TEXT NOT NULL,"
	"  allow_insecure_auth INTEGER NOT NULL DEFAULT 0,"
	"  tls_verify INTEGER NOT NULL DEFAULT 1,"
	"  tls_ca TEXT NOT NULL DEFAULT '',"
	"  tls_pin TEXT NOT NULL DEFAULT '',"
	"  tls_cert TEXT NOT NULL DEFAULT '',"
	"  tls_key TEXT NOT NULL DEFAULT '',"
	"  timeout INTEGER NOT NULL DEFAULT 60,"
	"  is_default INTEGER NOT NULL DEFAULT 0,"
	"  revision INTEGER NOT NULL DEFAULT 1,"
	"  created_at INTEGER NOT NULL,"
	"  updated_at INTEGER NOT NULL"
	");"
	"CREATE UNIQUE INDEX servers_name ON servers (name);"
	"CREATE TABLE accounts ("
	"  id INTEGER PRIMARY KEY,"
	"  address TEXT NOT NULL,"
	"  display_name TEXT NOT NULL DEFAULT '',"
	"  server_id INTEGER NOT NULL REFERENCES servers (id),"
	"  only_this_server INTEGER NOT NULL DEFAULT 0,"
	"  is_default INTEGER NOT NULL DEFAULT 0,"
	"  revision INTEGER NOT NULL DEFAULT 1,"
	"  created_at INTEGER NOT NULL,"
	"  updated_at INTEGER NOT NULL"
	");"
	"CREATE UNIQUE INDEX accounts_address ON accounts (address COLLATE NOCASE);"
	"CREATE INDEX accounts_server ON accounts (server_id);"
	"CREATE TABLE account_fallbacks ("
	"  account_id INTEGER NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,"
	"  position INTEGER NOT NULL,"
	"  server_id INTEGER NOT NULL REFERENCES servers (id) ON DELETE CASCADE,"
	"  PRIMARY KEY (account_id, position)"
	");"
	"CREATE INDEX account_fallbacks_server ON account_fallbacks (server_id);";

/* Version 2: soft removal with a journal, so `outbox undo` can bring a server back together with
 * the accounts that pointed at it. Names stay unique only among records that are not removed. */
static const char schema_v2[] =
	"ALTER TABLE servers ADD COLUMN removed_at INTEGER;"
	"ALTER TABLE accounts ADD COLUMN removed_at INTEGER;"
	"DROP INDEX servers_name;"
	"CREATE UNIQUE INDEX servers_name ON servers (name) WHERE removed_at IS NULL;"
	"DROP INDEX accounts_address;"
	"CREATE UNIQUE INDEX accounts_address ON accounts (address COLLATE NOCASE)"
	"  WHERE removed_at IS NULL;"
	"CREATE TABLE removals ("
	"  id INTEGER PRIMARY KEY,"
	"  kind TEXT NOT NULL CHECK (kind IN ('server', 'account')),"
	"  object_id INTEGER NOT NULL,"
	"  label TEXT NOT NULL,"
	"  was_default INTEGER NOT NULL DEFAULT 0,"
	"  removed_at INTEGER NOT NULL,"
	"  undone_at INTEGER"
	");"
	/* What else a removal changed: an account moved to another server ('server', with the server
	 * it had), or an account's fallback list shortened ('fallbacks', with the list it had). */
	"CREATE TABLE removal_effects ("
	"  removal_id INTEGER NOT NULL REFERENCES removals (id) ON DELETE CASCADE,"
	"  account_id INTEGER NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,"
	"  kind TEXT NOT NULL CHECK (kind IN ('server', 'fallbacks')),"
	"  old_server_id INTEGER,"
	"  old_fallbacks TEXT"
	");"
	"CREATE INDEX removal_effects_removal ON removal_effects (removal_id);";

/* Version 3: the history of delivery attempts, for `outbox log`. */
static const char schema_v3[] =
	"CREATE TABLE history ("
	"  id INTEGER PRIMARY KEY,"
	"  at INTEGER NOT NULL,"
	"  account TEXT NOT NULL DEFAULT '',"
	"  server TEXT NOT NULL DEFAULT '',"
	"  sender TEXT NOT NULL DEFAULT '',"
	"  recipients TEXT NOT NULL DEFAULT '',"
	"  outcome TEXT NOT NULL,"
	"  reply TEXT NOT NULL DEFAULT '',"
	"  size INTEGER NOT NULL DEFAULT 0,"
	"  message_id TEXT NOT NULL DEFAULT ''"
	");"
	"CREATE INDEX history_at ON history (at);";

/* Version 4: the outbox. A row per queued message (its body is the spool file spool_name), its
 * recipients each with their own state, and every attempt's reply for `outbox queue show`.
 * lease_owner/lease_until let one runner claim a message; a runner that dies leaves the lease to
 * expire. server '' means the account's server at delivery time, so editing the account moves
 * its queued mail with it. uncertain: a reply was lost after the final ".", so the message may
 * have been delivered and is retried with the same Message-ID. */
static const char schema_v4[] =
	"CREATE TABLE queue ("
	"  id INTEGER PRIMARY KEY,"
	"  spool_name TEXT NOT NULL,"
	"  account TEXT NOT NULL DEFAULT '',"
	"  server TEXT NOT NULL DEFAULT '',"
	"  sender TEXT NOT NULL DEFAULT '',"
	"  message_id TEXT NOT NULL DEFAULT '',"
	"  size INTEGER NOT NULL DEFAULT 0,"
	"  body_8bit INTEGER NOT NULL DEFAULT 0,"
	"  smtputf8 INTEGER NOT NULL DEFAULT 0,"
	"  state TEXT NOT NULL DEFAULT 'queued'"
	"    CHECK (state IN ('queued', 'failed', 'done', 'removed')),"
	"  uncertain INTEGER NOT NULL DEFAULT 0,"
	"  attempts INTEGER NOT NULL DEFAULT 0,"
	"  created_at INTEGER NOT NULL,"
	"  first_attempt_at INTEGER,"
	"  next_attempt_at INTEGER NOT NULL,"
	"  last_reply TEXT NOT NULL DEFAULT '',"
	"  lease_owner TEXT,"
	"  lease_until INTEGER,"
	"  removed_at INTEGER"
	");"
	"CREATE INDEX queue_due ON queue (state, next_attempt_at);"
	"CREATE TABLE queue_recipients ("
	"  queue_id INTEGER NOT NULL REFERENCES queue (id) ON DELETE CASCADE,"
	"  address TEXT NOT NULL,"
	"  state TEXT NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'delivered', 'refused')),"
	"  reply TEXT NOT NULL DEFAULT '',"
	"  PRIMARY KEY (queue_id, address)"
	");"
	"CREATE TABLE queue_attempts ("
	"  id INTEGER PRIMARY KEY,"
	"  queue_id INTEGER NOT NULL REFERENCES queue (id) ON DELETE CASCADE,"
	"  at INTEGER NOT NULL,"
	"  server TEXT NOT NULL DEFAULT '',"
	"  outcome TEXT NOT NULL,"
	"  reply TEXT NOT NULL DEFAULT ''"
	");"
	"CREATE INDEX queue_attempts_queue ON queue_attempts (queue_id);";

/* Version 5: a removed queued message joins the removal journal, so `outbox undo` brings it back
 * in the state it had (prior_state). SQLite cannot widen a CHECK, so the journal is rebuilt; the
 * step runs with foreign keys off, or dropping the old table would cascade into removal_effects.
 * Accounts gain their own retry schedule (durations as text, the defaults of retry_default).
 * sending_since marks a message whose transaction a runner has started: if the runner dies before
 * recording the outcome, the next claim knows it may have been delivered. */
static const char schema_v5[] =
	"CREATE TABLE removals_v5 ("
	"  id INTEGER PRIMARY KEY,"
	"  kind TEXT NOT NULL CHECK (kind IN ('server', 'account', 'message')),"
	"  object_id INTEGER NOT NULL,"
	"  label TEXT NOT NULL,"
	"  was_default INTEGER NOT NULL DEFAULT 0,"
	"  prior_state TEXT NOT NULL DEFAULT '',"
	"  removed_at INTEGER NOT NULL,"
	"  undone_at INTEGER"
	");"
	"INSERT INTO removals_v5 (id, kind, object_id, label, was_default, removed_at, undone_at)"
	"  SELECT id, kind, object_id, label, was_default, removed_at, undone_at FROM removals;"
	"DROP TABLE removals;"
	"ALTER TABLE removals_v5 RENAME TO removals;"
	"ALTER TABLE accounts ADD COLUMN retry_first TEXT NOT NULL DEFAULT '1m';"
	"ALTER TABLE accounts ADD COLUMN retry_max TEXT NOT NULL DEFAULT '1h';"
	"ALTER TABLE accounts ADD COLUMN give_up TEXT NOT NULL DEFAULT '5d';"
	"ALTER TABLE queue ADD COLUMN sending_since INTEGER;";

/* Version 6: why a queued message's spool file was refused (spool_judge: a FIFO, a device, a
 * hard link, someone else's file, the wrong size), '' when it was not. Such a message is 'failed'
 * (never claimed again) and no longer keeps its file: the orphan sweep removes it. A column of its
 * own, not a new state, since SQLite cannot widen the state CHECK without rebuilding the queue. */
static const char schema_v6[] =
	"ALTER TABLE queue ADD COLUMN quarantine TEXT NOT NULL DEFAULT '';";

/* Version 7: OAuth 2.0 sign-in settings of a server (server_oauth.c). The provider is checked by
 * the model, not by a CHECK, so a new preset needs no rebuild of the table. The client secret,
 * like the password, lives in the keyring or a 0600 file: the row holds only its id and where. An
 * identity provider inside an organization may have a private CA: oauth_tls_ca, as tls_ca is for SMTP. */
static const char schema_v7[] =
	"ALTER TABLE servers ADD COLUMN oauth_provider TEXT NOT NULL DEFAULT 'none';"
	"ALTER TABLE servers ADD COLUMN oauth_client_id TEXT NOT NULL DEFAULT '';"
	"ALTER TABLE servers ADD COLUMN oauth_tenant TEXT NOT NULL DEFAULT '';"
	"ALTER TABLE servers ADD COLUMN oauth_device_url TEXT NOT NULL DEFAULT '';"
	"ALTER TABLE servers ADD COLUMN oauth_authorize_url TEXT NOT NULL DEFAULT '';"
	"ALTER TABLE servers ADD COLUMN oauth_token_url TEXT NOT NULL DEFAULT '';"
	"ALTER TABLE servers ADD COLUMN oauth_revoke_url TEXT NOT NULL DEFAULT '';"
	"ALTER TABLE servers ADD COLUMN oauth_scope TEXT NOT NULL DEFAULT '';"
	"ALTER TABLE servers ADD COLUMN oauth_secret_id TEXT NOT NULL DEFAULT '';"
	"ALTER TABLE servers ADD COLUMN oauth_secret_source TEXT NOT NULL DEFAULT 'none';"
	"ALTER TABLE servers ADD COLUMN oauth_tls_ca TEXT NOT NULL DEFAULT '';";

/* Version 8: a setup joins the journal, so `outbox undo` takes back what `outbox setup` saved
 * (setup_undo.c): kind 'setup' names the account it created (object_id) and the server
 * (server_id), label the address, removed_at when it was saved. The journal is rebuilt to widen
 * the kind CHECK, as in version 5; ids are kept, so the order `outbox undo` follows (latest
 * first) is kept too. */
static const char schema_v8[] =
	"CREATE TABLE removals_v8 ("
	"  id INTEGER PRIMARY KEY,"
	"  kind TEXT NOT NULL CHECK (kind IN ('server', 'account', 'message', 'setup')),"
	"  object_id INTEGER NOT NULL,"
	"  server_id INTEGER,"
	"  label TEXT NOT NULL,"
	"  was_default INTEGER NOT NULL DEFAULT 0,"
	"  prior_state TEXT NOT NULL DEFAULT '',"
	"  removed_at INTEGER NOT NULL,"
	"  undone_at INTEGER"
	");"
	"INSERT INTO removals_v8 (id, kind, object_id, label, was_default, prior_state, removed_at, undone_at)"
	"  SELECT id, kind, object_id, label, was_default, prior_state, removed_at, undone_at FROM removals;"
	"DROP TABLE removals;"
	"ALTER TABLE removals_v8 RENAME TO removals;";

/* Version 9: a queue id is never used again, even after `queue remove --purge` deleted the
 * highest one: an id someone saw (a log, a script, a note) must not come to name another message.
 * That takes AUTOINCREMENT, which only CREATE TABLE gives, so the queue is rebuilt with every row
 * and id as it was. The step runs with foreign keys off (store_migrate), so dropping the old table
 * does not cascade into queue_recipients and queue_attempts, which name the table, not its copy,
 * and so point at the new one once it is renamed. The counter starts past every id the store still
 * knows, the journal's removed messages included; an id purged before this version cannot be known. */
static const char schema_v9[] =
	"CREATE TABLE queue_v9 ("
	"  id INTEGER PRIMARY KEY AUTOINCREMENT,"
	"  spool_name TEXT NOT NULL,"
	"  account TEXT NOT NULL DEFAULT '',"
	"  server TEXT NOT NULL DEFAULT '',"
	"  sender TEXT NOT NULL DEFAULT '',"
	"  message_id TEXT NOT NULL DEFAULT '',"
	"  size INTEGER NOT NULL DEFAULT 0,"
	"  body_8bit INTEGER NOT NULL DEFAULT 0,"
	"  smtputf8 INTEGER NOT NULL DEFAULT 0,"
	"  state TEXT NOT NULL DEFAULT 'queued'"
	"    CHECK (state IN ('queued', 'failed', 'done', 'removed')),"
	"  uncertain INTEGER NOT NULL DEFAULT 0,"
	"  attempts INTEGER NOT NULL DEFAULT 0,"
	"  created_at INTEGER NOT NULL,"
	"  first_attempt_at INTEGER,"
	"  next_attempt_at INTEGER NOT NULL,"
	"  last_reply TEXT NOT NULL DEFAULT '',"
	"  lease_owner TEXT,"
	"  lease_until INTEGER,"
	"  removed_at INTEGER,"
	"  sending_since INTEGER,"
	"  quarantine TEXT NOT NULL DEFAULT ''"
	");"
	"INSERT INTO queue_v9 (id, spool_name, account, server, sender, message_id, size, body_8bit, smtputf8,"
	"  state, uncertain, attempts, created_at, first_attempt_at, next_attempt_at, last_reply, lease_owner,"
	"  lease_until, removed_at, sending_since, quarantine)"
	"  SELECT id, spool_name, account, server, sender, message_id, size, body_8bit, smtputf8, state,"
	"  uncertain, attempts, created_at, first_attempt_at, next_attempt_at, last_reply, lease_owner,"
	"  lease_until, removed_at, sending_since, quarantine FROM queue;"
	"DROP TABLE queue;"
	"ALTER TABLE queue_v9 RENAME TO queue;"
	"CREATE INDEX queue_due ON queue (state, next_attempt_at);"
	"INSERT INTO sqlite_sequence (name, seq)"
	"  SELECT 'queue', max(coalesce((SELECT max(id) FROM queue), 0),"
	"    coalesce((SELECT max(object_id) FROM removals WHERE kind = 'message'), 0))"
	"  WHERE NOT EXISTS (SELECT 1 FROM sqlite_sequence WHERE name = 'queue');"
	"UPDATE sqlite_sequence SET seq = max(seq,"
	"    coalesce((SELECT max(object_id) FROM removals WHERE kind = 'message'), 0))"
	"  WHERE name = 'queue';";

/* Version 10: what a queued message asks of delivery status notifications (dsn.c: sendmail's -N,
 * -R and -V), in canonical form, so a retry sends what the first attempt did; '' is the default
 * (NOTIFY=FAILURE,DELAY, RET=HDRS, ENVID=the Message-ID), which is also what older rows meant. */
static const char schema_v10[] =
	"ALTER TABLE queue ADD COLUMN dsn_notify TEXT NOT NULL DEFAULT '';"
	"ALTER TABLE queue ADD COLUMN dsn_ret TEXT NOT NULL DEFAULT '';"
	"ALTER TABLE queue ADD COLUMN dsn_envid TEXT NOT NULL DEFAULT '';";

/* Version 11: aliases and the EHLO name: local names as recipients (alias.c), each with its addresses as one
 * normalized list ("a@x, b@y"), a name compared without regard to case; and a server's own EHLO
 * name, '' for the one found at send time (helo.c). */
static const char schema_v11[] =
	"CREATE TABLE aliases ("
	"  name TEXT NOT NULL PRIMARY KEY COLLATE NOCASE,"
	"  addresses TEXT NOT NULL,"
	"  created_at INTEGER NOT NULL,"
	"  updated_at INTEGER NOT NULL"
	");"
	"ALTER TABLE servers ADD COLUMN helo TEXT NOT NULL DEFAULT '';";

/* Version 12: this host's canonical name as the resolver gave it, by host name and with when it
 * was asked (helo_cache.c), so that a send does not ask again more than once a day. */
static const char schema_v12[] =
	"CREATE TABLE host_names ("
	"  host TEXT NOT NULL PRIMARY KEY,"
	"  canonical TEXT NOT NULL,"
	"  looked_up_at INTEGER NOT NULL"
	");";

static const char *const steps[] = {schema_v1, schema_v2, schema_v3, schema_v4, schema_v5, schema_v6,
				    schema_v7, schema_v8, schema_v9, schema_v10, schema_v11, schema_v12};
_Static_assert(sizeof steps / sizeof steps[0] == STORE_SCHEMA_VERSION,
	       "one migration step per schema version");

int store_migrate(outbox *h, int target)
{
	char sql[64];
	long long broken = 0;
	int rc, v;

	/* Off for the whole migration (it cannot change inside a transaction), so a step may rebuild
	 * a table; foreign_key_check below proves the steps left every reference intact. */
	if (sqlite3_exec(h->db, "PRAGMA foreign_keys = OFF", NULL, NULL, NULL) != SQLITE_OK)
		return outbox_fail_db(h, "preparing the migration");
	if ((rc = store_begin(h)) < 0)
		goto fk_on;
	for (v = h->schema_version; v < target; v++) {
		if (sqlite3_exec(h->db, steps[v], NULL, NULL, NULL) != SQLITE_OK) {
			snprintf(sql, sizeof sql, "migrating the database to schema %d", v + 1);
			rc = outbox_fail_db(h, sql);
			store_rollback(h);
			goto fk_on;
		}
	}
	if ((rc = store_int(h, &broken, 0, "SELECT count(*) FROM pragma_foreign_key_check", "")) < 0 ||
	    (broken && (rc = outbox_fail(h, OUTBOX_ESTORE, NULL,
					 "migrating the database left %lld broken references; nothing was changed",
					 broken)) < 0)) {
		store_rollback(h);
		goto fk_on;
	}
	snprintf(sql, sizeof sql, "PRAGMA user_version = %d", target);
	if (sqlite3_exec(h->db, sql, NULL, NULL, NULL) != SQLITE_OK) {
		rc = outbox_fail_db(h, "recording the schema version");
		store_rollback(h);
		goto fk_on;
	}
	if ((rc = store_commit(h)) == 0)
		h->schema_version = target;
fk_on:
	if (sqlite3_exec(h->db, "PRAGMA foreign_keys = ON", NULL, NULL, NULL) != SQLITE_OK && rc == 0)
		rc = outbox_fail_db(h, "finishing the migration");
	return rc;
}
