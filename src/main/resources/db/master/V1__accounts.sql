-- Master database: accounts, credentials, the registry of tenant databases, security audit.

CREATE TABLE users (
  id              uuid PRIMARY KEY,
  email           text NOT NULL,
  email_key       text NOT NULL UNIQUE,           -- lower-cased email, for login and uniqueness
  username        text,
  name            text,
  password_hash   text NOT NULL,
  role            text NOT NULL DEFAULT 'user' CHECK (role IN ('user', 'admin')),
  active          boolean NOT NULL DEFAULT true,
  token_version   integer NOT NULL DEFAULT 0,     -- bumped to invalidate every access token at once
  created_at      timestamptz NOT NULL DEFAULT now(),
  updated_at      timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX users_username_key ON users (lower(username)) WHERE username IS NOT NULL;

-- Refresh tokens are stored as SHA-256 digests. A family is one login; rotation links each token to its successor.
CREATE TABLE refresh_tokens (
  id           uuid PRIMARY KEY,
  user_id      uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  family_id    uuid NOT NULL,
  token_hash   bytea NOT NULL UNIQUE,
  replaced_by  uuid,
  created_at   timestamptz NOT NULL DEFAULT now(),
  expires_at   timestamptz NOT NULL,
  used_at      timestamptz,
  revoked_at   timestamptz
);
CREATE INDEX refresh_tokens_family ON refresh_tokens (family_id);
CREATE INDEX refresh_tokens_user ON refresh_tokens (user_id);

CREATE TABLE api_keys (
  id            uuid PRIMARY KEY,
  user_id       uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  name          text NOT NULL,
  prefix        text NOT NULL,                    -- shown in lists so a user can tell keys apart
  key_hash      bytea NOT NULL UNIQUE,
  created_at    timestamptz NOT NULL DEFAULT now(),
  last_used_at  timestamptz,
  expires_at    timestamptz,
  revoked_at    timestamptz
);
CREATE INDEX api_keys_user ON api_keys (user_id);

-- Where each user's data lives. Managed databases are on the master's server (host is null); external ones are
-- brought by the user. Exactly one is active per user.
CREATE TABLE tenant_databases (
  id               uuid PRIMARY KEY,
  user_id          uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  name             text NOT NULL,
  kind             text NOT NULL CHECK (kind IN ('managed', 'external')),
  host             text,
  port             integer,
  database         text NOT NULL,
  username         text NOT NULL,
  password_sealed  text NOT NULL,
  ssl_mode         text NOT NULL DEFAULT 'disable',
  active           boolean NOT NULL DEFAULT false,
  schema_version   integer NOT NULL DEFAULT 0,
  created_at       timestamptz NOT NULL DEFAULT now(),
  updated_at       timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX tenant_databases_one_active ON tenant_databases (user_id) WHERE active;
CREATE INDEX tenant_databases_user ON tenant_databases (user_id);

-- Security events. user_id has no foreign key: the trail outlives the account.
CREATE TABLE audit_events (
  id          uuid PRIMARY KEY,
  user_id     uuid,
  actor_id    uuid,
  action      text NOT NULL,
  ip          text,
  request_id  text,
  details     jsonb NOT NULL DEFAULT '{}',
  created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX audit_events_user_time ON audit_events (user_id, created_at DESC, id DESC);
CREATE INDEX audit_events_time ON audit_events (created_at DESC, id DESC);
