-- Webhook outbox and deliveries, data-change audit, and the source ids of imported items.

-- Events, written in the same transaction as the change that caused them (Outbox.write). A WebhookVerticle fans
-- each one out into a delivery per subscribed webhook (fanned_out_at set), claiming rows with SKIP LOCKED.
CREATE TABLE webhook_outbox (
  id            uuid PRIMARY KEY,
  type          text NOT NULL,
  data          jsonb NOT NULL,
  created_at    timestamptz NOT NULL DEFAULT now(),
  fanned_out_at timestamptz
);
CREATE INDEX webhook_outbox_pending ON webhook_outbox (created_at) WHERE fanned_out_at IS NULL;

-- One event for one webhook. A node claims a due row by pushing next_attempt_at past the send timeout (a lease)
-- under FOR UPDATE SKIP LOCKED, so two nodes never send the same attempt.
CREATE TABLE webhook_deliveries (
  id               uuid PRIMARY KEY,
  event_id         uuid NOT NULL REFERENCES webhook_outbox (id) ON DELETE CASCADE,
  webhook_id       uuid NOT NULL,
  status           text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'succeeded', 'failed')),
  attempts         integer NOT NULL DEFAULT 0,
  next_attempt_at  timestamptz NOT NULL DEFAULT now(),
  last_status_code integer,
  last_error       text,
  created_at       timestamptz NOT NULL DEFAULT now(),
  updated_at       timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (next_attempt_at) WHERE status = 'pending';
CREATE INDEX webhook_deliveries_webhook ON webhook_deliveries (webhook_id, created_at DESC, id DESC);

-- Every attempt, for the per-attempt delivery log.
CREATE TABLE webhook_attempts (
  id           uuid PRIMARY KEY,
  delivery_id  uuid NOT NULL REFERENCES webhook_deliveries (id) ON DELETE CASCADE,
  attempt      integer NOT NULL,
  node_id      text,
  status_code  integer,
  error        text,
  succeeded    boolean NOT NULL,
  duration_ms  integer NOT NULL,
  created_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX webhook_attempts_delivery ON webhook_attempts (delivery_id, attempt);

-- Data changes, written in the same transaction as the change (DataAudit.write).
CREATE TABLE audit_events (
  id           uuid PRIMARY KEY,
  action       text NOT NULL,
  entity_type  text,
  entity_id    uuid,
  details      jsonb NOT NULL DEFAULT '{}',
  created_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX audit_events_time ON audit_events (created_at DESC, id DESC);

-- What an import created, by its source's id, so importing the same file again adds nothing.
CREATE TABLE import_sources (
  source      text NOT NULL,                     -- claude.ai, chatgpt, native
  kind        text NOT NULL,                     -- project, conversation
  source_id   text NOT NULL,
  local_id    uuid NOT NULL,
  created_at  timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (source, kind, source_id)
);
