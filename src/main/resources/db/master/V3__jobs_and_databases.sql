-- Background jobs (database copy, export, import) and what bring-your-own databases need.

-- One row per job. A node claims a queued row with FOR UPDATE SKIP LOCKED, so two nodes never run the same job, and
-- keeps heartbeat_at fresh while it runs; a running row whose heartbeat went stale (its node died) is queued again.
CREATE TABLE jobs (
  id            uuid PRIMARY KEY,
  user_id       uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  kind          text NOT NULL,
  status        text NOT NULL DEFAULT 'queued' CHECK (status IN ('queued', 'running', 'succeeded', 'failed')),
  progress      double precision NOT NULL DEFAULT 0 CHECK (progress >= 0 AND progress <= 1),
  counts        jsonb NOT NULL DEFAULT '{}',
  error         text,                             -- a message fit for the user, never a stack trace
  params        jsonb NOT NULL DEFAULT '{}',
  result        jsonb,
  attempts      integer NOT NULL DEFAULT 0,       -- claims so far; a job interrupted too often fails
  locked_by     text,                             -- node id of the runner
  heartbeat_at  timestamptz,
  created_at    timestamptz NOT NULL DEFAULT now(),
  started_at    timestamptz,
  finished_at   timestamptz
);
CREATE INDEX jobs_queued ON jobs (created_at) WHERE status = 'queued';
CREATE INDEX jobs_running ON jobs (heartbeat_at) WHERE status = 'running';
CREATE INDEX jobs_user ON jobs (user_id, created_at DESC);

-- A user moves their data one database at a time: a second activation while one is under way is a conflict.
CREATE UNIQUE INDEX jobs_one_database_copy ON jobs (user_id)
  WHERE kind = 'database.copy' AND status IN ('queued', 'running');

-- A user's databases have distinct names, so lists and activations are unambiguous.
CREATE UNIQUE INDEX tenant_databases_user_name ON tenant_databases (user_id, lower(name));
