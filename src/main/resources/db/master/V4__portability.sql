-- Data portability and integrations: export files, webhook subscriptions.

-- A finished export's file, published only once complete and verified (size and SHA-256 recorded). The file is
-- deleted once expires_at has passed (deleted_at set), after which a download answers 410.
CREATE TABLE export_files (
  job_id       uuid PRIMARY KEY REFERENCES jobs (id) ON DELETE CASCADE,
  user_id      uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  path         text NOT NULL,
  file_name    text NOT NULL,
  content_type text NOT NULL,
  size         bigint NOT NULL,
  sha256       text NOT NULL,                    -- lower-case hex
  encrypted    boolean NOT NULL DEFAULT false,
  created_at   timestamptz NOT NULL DEFAULT now(),
  expires_at   timestamptz NOT NULL,
  deleted_at   timestamptz
);
CREATE INDEX export_files_expiry ON export_files (expires_at) WHERE deleted_at IS NULL;

-- Webhook subscriptions. The signing secret is sealed with MASTER_KEY (context: the row id) and shown once.
-- consecutive_failures counts failed attempts since the last success; past the configured limit the subscription
-- is disabled (disabled_at set) and its owner notified.
CREATE TABLE webhooks (
  id                    uuid PRIMARY KEY,
  user_id               uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  url                   text NOT NULL,
  events                text[] NOT NULL,
  description           text,
  secret_sealed         text NOT NULL,
  enabled               boolean NOT NULL DEFAULT true,
  consecutive_failures  integer NOT NULL DEFAULT 0,
  disabled_at           timestamptz,
  disabled_reason       text,
  created_at            timestamptz NOT NULL DEFAULT now(),
  updated_at            timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX webhooks_user ON webhooks (user_id, created_at);
CREATE INDEX webhooks_enabled ON webhooks (user_id) WHERE enabled;
