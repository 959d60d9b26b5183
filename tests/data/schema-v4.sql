-- tests/data/schema-v4.sql: a database as schema version 4 left it, made by that release of outbox:
-- a removed server with its journal (an account moved, a fallback list shortened), a removed
-- account and a queued message, frozen so the version 5 rebuild of the journal is tested on real data.
PRAGMA user_version = 4;
CREATE TABLE servers (  id INTEGER PRIMARY KEY,  name TEXT NOT NULL,  description TEXT NOT NULL DEFAULT '',  host TEXT NOT NULL,  port INTEGER NOT NULL CHECK (port BETWEEN 1 AND 65535),  security TEXT NOT NULL CHECK (security IN ('tls', 'starttls', 'none')),  auth TEXT NOT NULL,  username TEXT NOT NULL DEFAULT '',  password_source TEXT NOT NULL DEFAULT 'none',  password_command TEXT NOT NULL DEFAULT '',  secret_id TEXT NOT NULL,  allow_insecure_auth INTEGER NOT NULL DEFAULT 0,  tls_verify INTEGER NOT NULL DEFAULT 1,  tls_ca TEXT NOT NULL DEFAULT '',  tls_pin TEXT NOT NULL DEFAULT '',  tls_cert TEXT NOT NULL DEFAULT '',  tls_key TEXT NOT NULL DEFAULT '',  timeout INTEGER NOT NULL DEFAULT 60,  is_default INTEGER NOT NULL DEFAULT 0,  revision INTEGER NOT NULL DEFAULT 1,  created_at INTEGER NOT NULL,  updated_at INTEGER NOT NULL, removed_at INTEGER);
INSERT INTO servers VALUES(1,'work','','smtp.work.example',465,'tls','auto','','none','','935fc853406314ea61dfb11991e833bc',0,1,'','','','',60,0,2,1795934015,1795934015,1790000100);
INSERT INTO servers VALUES(2,'backup','','smtp.backup.example',587,'starttls','auto','','none','','7c8dac6cc9030c389648406c2954cf98',0,1,'','','','',60,1,1,1795934015,1795934015,NULL);
CREATE TABLE accounts (  id INTEGER PRIMARY KEY,  address TEXT NOT NULL,  display_name TEXT NOT NULL DEFAULT '',  server_id INTEGER NOT NULL REFERENCES servers (id),  only_this_server INTEGER NOT NULL DEFAULT 0,  is_default INTEGER NOT NULL DEFAULT 0,  revision INTEGER NOT NULL DEFAULT 1,  created_at INTEGER NOT NULL,  updated_at INTEGER NOT NULL, removed_at INTEGER);
INSERT INTO accounts VALUES(1,'ann@work.example','',2,0,1,2,1795934015,1795934015,NULL);
INSERT INTO accounts VALUES(2,'bob@work.example','',2,0,0,2,1795934015,1795934015,1790000200);
CREATE TABLE account_fallbacks (  account_id INTEGER NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,  position INTEGER NOT NULL,  server_id INTEGER NOT NULL REFERENCES servers (id) ON DELETE CASCADE,  PRIMARY KEY (account_id, position));
CREATE TABLE removals (  id INTEGER PRIMARY KEY,  kind TEXT NOT NULL CHECK (kind IN ('server', 'account')),  object_id INTEGER NOT NULL,  label TEXT NOT NULL,  was_default INTEGER NOT NULL DEFAULT 0,  removed_at INTEGER NOT NULL,  undone_at INTEGER);
INSERT INTO removals VALUES(1,'server',1,'work',1,1790000100,NULL);
INSERT INTO removals VALUES(2,'account',2,'bob@work.example',0,1790000200,NULL);
CREATE TABLE removal_effects (  removal_id INTEGER NOT NULL REFERENCES removals (id) ON DELETE CASCADE,  account_id INTEGER NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,  kind TEXT NOT NULL CHECK (kind IN ('server', 'fallbacks')),  old_server_id INTEGER,  old_fallbacks TEXT);
INSERT INTO removal_effects VALUES(1,1,'fallbacks',NULL,'2');
INSERT INTO removal_effects VALUES(1,1,'server',1,NULL);
CREATE TABLE history (  id INTEGER PRIMARY KEY,  at INTEGER NOT NULL,  account TEXT NOT NULL DEFAULT '',  server TEXT NOT NULL DEFAULT '',  sender TEXT NOT NULL DEFAULT '',  recipients TEXT NOT NULL DEFAULT '',  outcome TEXT NOT NULL,  reply TEXT NOT NULL DEFAULT '',  size INTEGER NOT NULL DEFAULT 0,  message_id TEXT NOT NULL DEFAULT '');
CREATE TABLE queue (  id INTEGER PRIMARY KEY,  spool_name TEXT NOT NULL,  account TEXT NOT NULL DEFAULT '',  server TEXT NOT NULL DEFAULT '',  sender TEXT NOT NULL DEFAULT '',  message_id TEXT NOT NULL DEFAULT '',  size INTEGER NOT NULL DEFAULT 0,  body_8bit INTEGER NOT NULL DEFAULT 0,  smtputf8 INTEGER NOT NULL DEFAULT 0,  state TEXT NOT NULL DEFAULT 'queued'    CHECK (state IN ('queued', 'failed', 'done', 'removed')),  uncertain INTEGER NOT NULL DEFAULT 0,  attempts INTEGER NOT NULL DEFAULT 0,  created_at INTEGER NOT NULL,  first_attempt_at INTEGER,  next_attempt_at INTEGER NOT NULL,  last_reply TEXT NOT NULL DEFAULT '',  lease_owner TEXT,  lease_until INTEGER,  removed_at INTEGER);
INSERT INTO queue VALUES(1,'b812c8bc4bb70a05d2b347ef8a40150d','ann@work.example','','ann@work.example','f218193253ba802fac6381d697f8d755@work.example',146,0,0,'queued',0,0,1790000000,NULL,1790000000,'queued without an attempt (--queue-only)',NULL,NULL,NULL);
CREATE TABLE queue_recipients (  queue_id INTEGER NOT NULL REFERENCES queue (id) ON DELETE CASCADE,  address TEXT NOT NULL,  state TEXT NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'delivered', 'refused')),  reply TEXT NOT NULL DEFAULT '',  PRIMARY KEY (queue_id, address));
INSERT INTO queue_recipients VALUES(1,'carol@example.org','pending','');
CREATE TABLE queue_attempts (  id INTEGER PRIMARY KEY,  queue_id INTEGER NOT NULL REFERENCES queue (id) ON DELETE CASCADE,  at INTEGER NOT NULL,  server TEXT NOT NULL DEFAULT '',  outcome TEXT NOT NULL,  reply TEXT NOT NULL DEFAULT '');
CREATE INDEX accounts_server ON accounts (server_id);
CREATE INDEX account_fallbacks_server ON account_fallbacks (server_id);
CREATE UNIQUE INDEX servers_name ON servers (name) WHERE removed_at IS NULL;
CREATE UNIQUE INDEX accounts_address ON accounts (address COLLATE NOCASE)  WHERE removed_at IS NULL;
CREATE INDEX removal_effects_removal ON removal_effects (removal_id);
CREATE INDEX history_at ON history (at);
CREATE INDEX queue_due ON queue (state, next_attempt_at);
CREATE INDEX queue_attempts_queue ON queue_attempts (queue_id);
