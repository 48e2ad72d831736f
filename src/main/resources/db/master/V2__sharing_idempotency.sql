-- Project sharing and idempotent POSTs.

-- A project lives in its owner's tenant database; a share lets another user reach it (and its conversations and
-- messages) with a role. project_id has no foreign key: the project is in another database.
CREATE TABLE project_shares (
  project_id  uuid NOT NULL,
  owner_id    uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  member_id   uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  role        text NOT NULL CHECK (role IN ('viewer', 'editor')),
  created_at  timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (project_id, member_id),
  CHECK (owner_id <> member_id)
);
CREATE INDEX project_shares_member ON project_shares (member_id, project_id DESC);
CREATE INDEX project_shares_owner ON project_shares (owner_id);

-- One row per (user, Idempotency-Key): the hash of the first request and, once answered, its status and body.
-- status is null while the first request is still being served. Rows expire after 24 hours.
CREATE TABLE idempotency_keys (
  user_id       uuid NOT NULL,
  key           text NOT NULL,
  request_hash  bytea NOT NULL,
  status        integer,
  body          bytea,
  created_at    timestamptz NOT NULL DEFAULT now(),
  expires_at    timestamptz NOT NULL,
  PRIMARY KEY (user_id, key)
);
CREATE INDEX idempotency_keys_expiry ON idempotency_keys (expires_at);
