-- Message pages read a range of the (conversation_id, seq) index while a conversation has no branches
-- (conversations.MessageService.branch).
--
-- A conversation is "branched" once one of its messages has a sibling: an edit, a regenerated answer, a second first
-- message. Until then its messages form one chain in seq order (a parent always has a lower seq than its child), so
-- the branch ending at any message is every message up to it. Once branched, a page walks up the parents from the
-- leaf. The flag is kept by the database itself, whichever path inserts messages (posts, answers, imports, copies).
ALTER TABLE conversations ADD COLUMN branched boolean NOT NULL DEFAULT false;

-- Finds a conversation's first messages (parent_id NULL), the siblings of a new first message.
CREATE INDEX messages_roots ON messages (conversation_id) WHERE parent_id IS NULL;

UPDATE conversations c SET branched = true
WHERE EXISTS (SELECT 1 FROM messages m WHERE m.conversation_id = c.id GROUP BY m.parent_id HAVING count(*) > 1);

-- Once per INSERT statement, over the rows it inserted. Two transactions adding siblings at once: each locks the
-- conversation row first (a post already holds it), so the second waits for the first to commit, and its check, a
-- later statement with a fresh snapshot, sees the first one's message.
CREATE FUNCTION messages_note_branches() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM 1 FROM conversations
  WHERE id IN (SELECT conversation_id FROM inserted) AND NOT branched
  ORDER BY id FOR NO KEY UPDATE;
  UPDATE conversations c SET branched = true
  WHERE NOT c.branched AND c.id IN (
    SELECT n.conversation_id FROM inserted n
    WHERE (n.parent_id IS NOT NULL
           AND EXISTS (SELECT 1 FROM messages s WHERE s.parent_id = n.parent_id AND s.id <> n.id))
       OR (n.parent_id IS NULL
           AND EXISTS (SELECT 1 FROM messages s
                       WHERE s.conversation_id = n.conversation_id AND s.parent_id IS NULL AND s.id <> n.id)));
  RETURN NULL;
END
$$;

CREATE TRIGGER messages_note_branches AFTER INSERT ON messages REFERENCING NEW TABLE AS inserted
  FOR EACH STATEMENT EXECUTE FUNCTION messages_note_branches();
