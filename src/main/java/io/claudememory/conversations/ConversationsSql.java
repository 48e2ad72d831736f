package io.claudememory.conversations;

/** The SQL of conversations and messages (tenant database). */
final class ConversationsSql {
  private ConversationsSql() {}

  static final String COLUMNS = """
      id, project_id, title, model, system_prompt, tags, pinned, archived, message_count, last_seq,
      current_leaf_id, last_activity_at, created_at, updated_at, branched""";

  static final String INSERT = """
      INSERT INTO conversations (id, project_id, title, model, system_prompt, tags)
      VALUES ($1, $2, $3, $4, $5, $6) RETURNING""" + " " + COLUMNS;

  static final String BY_ID = "SELECT " + COLUMNS + " FROM conversations WHERE id = $1";

  /** Newest activity first; the keyset ($5, $6) is the last row served, so pages never skip or repeat a row. */
  static final String PAGE = "SELECT " + COLUMNS + """
       FROM conversations
      WHERE ($1::uuid IS NULL OR project_id = $1)
        AND ($2::boolean IS NULL OR archived = $2)
        AND ($3::boolean IS NULL OR pinned = $3)
        AND ($4::text IS NULL OR tags @> ARRAY[$4::text])
        AND ($5::timestamptz IS NULL OR (last_activity_at, id) < ($5, $6::uuid))
      ORDER BY last_activity_at DESC, id DESC LIMIT $7""";

  static final String PROJECT_EXISTS = "SELECT 1 FROM projects WHERE id = $1";

  /** Sets each field whose flag is true (even parameters), keeping the others. */
  static final String UPDATE = """
      UPDATE conversations SET title = CASE WHEN $2 THEN $3 ELSE title END,
                               tags = CASE WHEN $4 THEN $5::text[] ELSE tags END,
                               pinned = CASE WHEN $6 THEN $7 ELSE pinned END,
                               archived = CASE WHEN $8 THEN $9 ELSE archived END,
                               project_id = CASE WHEN $10 THEN $11::uuid ELSE project_id END,
                               system_prompt = CASE WHEN $12 THEN $13 ELSE system_prompt END,
                               model = CASE WHEN $14 THEN $15 ELSE model END,
                               updated_at = now()
      WHERE id = $1 RETURNING""" + " " + COLUMNS;

  static final String DELETE = "DELETE FROM conversations WHERE id = $1";

  static final String SET_LEAF = """
      UPDATE conversations SET current_leaf_id = $2, updated_at = now()
      WHERE id = $1 AND EXISTS (SELECT 1 FROM messages WHERE id = $2 AND conversation_id = $1)
      RETURNING""" + " " + COLUMNS;

  // ---- messages

  static final String MESSAGE_COLUMNS = """
      m.id, m.conversation_id, m.parent_id, m.seq, m.role, m.content, m.model, m.stop_reason, m.usage,
      m.created_at""";

  /** Serialises posts to one conversation: the row lock is held until the message is inserted. */
  static final String LOCK_CONVERSATION = "SELECT current_leaf_id FROM conversations WHERE id = $1 FOR UPDATE";

  static final String MESSAGE_EXISTS = "SELECT 1 FROM messages WHERE id = $1 AND conversation_id = $2";

  /** Allocates the next seq, gap-free: only a committed transaction keeps its increment. */
  static final String NEXT_SEQ = """
      UPDATE conversations SET last_seq = last_seq + 1, message_count = message_count + 1, current_leaf_id = $2,
                               last_activity_at = now(), updated_at = now()
      WHERE id = $1 RETURNING last_seq""";

  static final String INSERT_MESSAGE = """
      INSERT INTO messages AS m (id, conversation_id, parent_id, seq, role, content)
      VALUES ($1, $2, $3, $4, $5, $6) RETURNING""" + " " + MESSAGE_COLUMNS;

  /**
   * The branch ending at $2, after seq $3, in seq order, in a conversation that has branches: walked from the leaf
   * up through the parents, each read once with its columns, and stopped at seq $3 (a parent always has a lower seq
   * than its children, so nothing above it is on the page).
   */
  static final String BRANCH_PAGE = """
      WITH RECURSIVE branch AS (
        SELECT""" + " " + MESSAGE_COLUMNS + """
         FROM messages m WHERE m.id = $2 AND m.conversation_id = $1 AND m.seq > $3
        UNION ALL
        SELECT""" + " " + MESSAGE_COLUMNS + """
         FROM messages m JOIN branch b ON m.id = b.parent_id WHERE m.seq > $3
      )
      SELECT * FROM branch ORDER BY seq LIMIT $4""";

  /**
   * The same page in a conversation without branches (see migration V5): every message is on the one chain, so the
   * branch ending at $2 is every message up to it, a range of the (conversation_id, seq) index.
   */
  static final String LINEAR_PAGE = "SELECT " + MESSAGE_COLUMNS + """
       FROM messages m
      WHERE m.conversation_id = $1 AND m.seq > $3
        AND m.seq <= (SELECT l.seq FROM messages l WHERE l.id = $2 AND l.conversation_id = $1)
      ORDER BY m.seq LIMIT $4""";

  static final String TREE = """
      SELECT id, parent_id, seq, role, created_at FROM messages WHERE conversation_id = $1 ORDER BY seq""";
}
