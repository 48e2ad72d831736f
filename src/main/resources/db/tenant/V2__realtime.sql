-- How far each reader has read each conversation (WebSocket mark_read). Kept next to the conversation, in the
-- tenant database that holds it, keyed by the reader's user id: the owner and members of a shared project alike,
-- so listing conversations can join it in one query, and it goes away with the conversation.
CREATE TABLE read_positions (
  conversation_id  uuid NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
  user_id          uuid NOT NULL,
  seq              bigint NOT NULL,
  updated_at       timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (conversation_id, user_id)
);
