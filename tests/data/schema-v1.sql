-- tests/data/schema-v1.sql: a database as the first schema (version 1) left it, with data in it,
-- frozen here so the migration test opens a real old database rather than a re-creation of one.
PRAGMA user_version = 1;
CREATE TABLE servers (
  id INTEGER PRIMARY KEY, name TEXT NOT NULL, description TEXT NOT NULL DEFAULT '',
  host TEXT NOT NULL, port INTEGER NOT NULL CHECK (port BETWEEN 1 AND 65535),
  security TEXT NOT NULL CHECK (security IN ('tls', 'starttls', 'none')), auth TEXT NOT NULL,
  username TEXT NOT NULL DEFAULT '', password_source TEXT NOT NULL DEFAULT 'none',
  password_command TEXT NOT NULL DEFAULT '', secret_id TEXT NOT NULL,
  allow_insecure_auth INTEGER NOT NULL DEFAULT 0, tls_verify INTEGER NOT NULL DEFAULT 1,
  tls_ca TEXT NOT NULL DEFAULT '', tls_pin TEXT NOT NULL DEFAULT '', tls_cert TEXT NOT NULL DEFAULT '',
  tls_key TEXT NOT NULL DEFAULT '', timeout INTEGER NOT NULL DEFAULT 60,
  is_default INTEGER NOT NULL DEFAULT 0, revision INTEGER NOT NULL DEFAULT 1,
  created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL);
CREATE UNIQUE INDEX servers_name ON servers (name);
CREATE TABLE accounts (
  id INTEGER PRIMARY KEY, address TEXT NOT NULL, display_name TEXT NOT NULL DEFAULT '',
  server_id INTEGER NOT NULL REFERENCES servers (id), only_this_server INTEGER NOT NULL DEFAULT 0,
  is_default INTEGER NOT NULL DEFAULT 0, revision INTEGER NOT NULL DEFAULT 1,
  created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL);
CREATE UNIQUE INDEX accounts_address ON accounts (address COLLATE NOCASE);
CREATE INDEX accounts_server ON accounts (server_id);
CREATE TABLE account_fallbacks (
  account_id INTEGER NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
  position INTEGER NOT NULL,
  server_id INTEGER NOT NULL REFERENCES servers (id) ON DELETE CASCADE,
  PRIMARY KEY (account_id, position));
CREATE INDEX account_fallbacks_server ON account_fallbacks (server_id);

INSERT INTO servers (id, name, description, host, port, security, auth, username, secret_id,
                     is_default, created_at, updated_at)
VALUES (1, 'work', 'Work mail', 'smtp.work.example', 465, 'tls', 'plain', 'ann@work.example',
        '0123456789abcdef0123456789abcdef', 1, 1700000000, 1700000000),
       (2, 'backup', '', 'mail.backup.example', 587, 'starttls', 'auto', '',
        'fedcba9876543210fedcba9876543210', 0, 1700000000, 1700000000);
INSERT INTO accounts (id, address, display_name, server_id, is_default, created_at, updated_at)
VALUES (1, 'ann@work.example', 'Ann Example', 1, 1, 1700000000, 1700000000);
INSERT INTO account_fallbacks (account_id, position, server_id) VALUES (1, 0, 2);
