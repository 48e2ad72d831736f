-- Tenant database: one per user. Projects, conversations and messages (every branch kept).
-- ${searchLanguage} is the text-search configuration (config search.language) this database is created with.

CREATE TABLE tenant_settings (
  id               boolean PRIMARY KEY DEFAULT true CHECK (id),   -- one row
  search_language  regconfig NOT NULL
);
INSERT INTO tenant_settings (search_language) VALUES ('${searchLanguage}');

CREATE TABLE projects (
  id            uuid PRIMARY KEY,
  name          text NOT NULL,
  description   text,
  instructions  text,                              -- the project's system prompt
  archived      boolean NOT NULL DEFAULT false,
  created_at    timestamptz NOT NULL DEFAULT now(),
  updated_at    timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE conversations (
  id                   uuid PRIMARY KEY,
  project_id           uuid REFERENCES projects (id) ON DELETE CASCADE,
  title                text,
  model                text,
  system_prompt        text,
  tags                 text[] NOT NULL DEFAULT '{}',
  pinned               boolean NOT NULL DEFAULT false,
  archived             boolean NOT NULL DEFAULT false,
  summary              text,                       -- rolling summary of older turns
  summary_through_seq  bigint,                     -- the last seq the summary covers
  current_leaf_id      uuid,
  message_count        integer NOT NULL DEFAULT 0,
  last_seq             bigint NOT NULL DEFAULT 0,  -- seq is allocated from here, under the row lock
  last_activity_at     timestamptz NOT NULL DEFAULT now(),
  created_at           timestamptz NOT NULL DEFAULT now(),
  updated_at           timestamptz NOT NULL DEFAULT now(),
  -- Generated columns need a constant configuration: the one chosen when this database was created.
  title_search         tsvector GENERATED ALWAYS AS (to_tsvector('${searchLanguage}', coalesce(title, ''))) STORED
);
CREATE INDEX conversations_activity ON conversations (last_activity_at DESC, id DESC);
CREATE INDEX conversations_project ON conversations (project_id, last_activity_at DESC);
CREATE INDEX conversations_tags ON conversations USING gin (tags);
CREATE INDEX conversations_title_search ON conversations USING gin (title_search);

CREATE TABLE messages (
  id               uuid PRIMARY KEY,
  conversation_id  uuid NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
  parent_id        uuid REFERENCES messages (id) ON DELETE CASCADE,
  seq              bigint NOT NULL,
  role             text NOT NULL CHECK (role IN ('user', 'assistant', 'system')),
  content          text NOT NULL,
  blocks           jsonb,                          -- the content blocks as Claude returned them
  model            text,
  stop_reason      text,
  usage            jsonb,
  created_at       timestamptz NOT NULL DEFAULT now(),
  search           tsvector GENERATED ALWAYS AS (to_tsvector('${searchLanguage}', content)) STORED,
  UNIQUE (conversation_id, seq)
);
CREATE INDEX messages_parent ON messages (parent_id);
CREATE INDEX messages_search ON messages USING gin (search);
