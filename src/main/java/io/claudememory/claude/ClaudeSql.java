package io.claudememory.claude;

/** The SQL of the Claude capability, against a tenant database (db/tenant/V1__conversations.sql). */
final class ClaudeSql {
  private ClaudeSql() {}

  static final String CONVERSATION = """
      SELECT c.id, c.project_id, c.title, c.model, c.system_prompt, c.summary, c.summary_through_seq,
             c.current_leaf_id, p.instructions
        FROM conversations c LEFT JOIN projects p ON p.id = c.project_id
       WHERE c.id = $1""";

  static final String MESSAGE_ROLE = "SELECT role FROM messages WHERE id = $1 AND conversation_id = $2";

  /** A message and its parent: regenerating an answer answers its question again. */
  static final String MESSAGE_AND_PARENT =
      "SELECT role, parent_id FROM messages WHERE id = $1 AND conversation_id = $2";

  /** The branch ending at $1, newest first, at most $3 messages: the parent chain, never a sibling. */
  static final String BRANCH = """
      WITH RECURSIVE branch AS (
        SELECT id, parent_id, seq, role, content, created_at, 1 AS depth
          FROM messages WHERE id = $1 AND conversation_id = $2
        UNION ALL
        SELECT m.id, m.parent_id, m.seq, m.role, m.content, m.created_at, b.depth + 1
          FROM messages m JOIN branch b ON m.id = b.parent_id
         WHERE b.depth < $3
      )
      SELECT id, seq, role, content, created_at FROM branch ORDER BY depth""";

  /** How many of the most recent matching messages recall ranks. */
  static final int RECALL_CANDIDATES = 500;

  /**
   * Passages of the user's other conversations in the same project (no project counts as one) matching any word of
   * $1: the words are the message's own lexemes OR-ed, so a long message still finds what shares a few of its terms.
   * Ranked among the most recent {@value #RECALL_CANDIDATES} such messages, so the work stays bounded however common
   * the words are (an OR of every word of a message matches much of a large history).
   */
  static final String RECALL = """
      WITH q AS (
        SELECT to_tsquery('simple', string_agg(quote_literal(lexeme), ' | ')) AS query
          FROM unnest(to_tsvector('english', $1))
      ), candidates AS (
        SELECT m.content, m.created_at, m.search, c.title
          FROM q, messages m JOIN conversations c ON c.id = m.conversation_id
         WHERE q.query IS NOT NULL AND m.search @@ q.query
           AND c.id <> $2 AND c.project_id IS NOT DISTINCT FROM $3 AND NOT c.archived
         ORDER BY m.created_at DESC, m.id DESC
         LIMIT\s""" + RECALL_CANDIDATES + """
      )
      SELECT content, created_at, title, ts_rank(search, q.query) AS rank
        FROM q, candidates
       ORDER BY rank DESC, created_at DESC
       LIMIT $4""";

  /** Allocates the next seq under the conversation's row lock and makes the new message the current leaf. */
  static final String NEXT_SEQ = """
      UPDATE conversations
         SET last_seq = last_seq + 1, current_leaf_id = $2, message_count = message_count + 1,
             last_activity_at = now(), updated_at = now()
       WHERE id = $1
      RETURNING last_seq""";

  static final String INSERT_ASSISTANT = """
      INSERT INTO messages (id, conversation_id, parent_id, seq, role, content, blocks, model, stop_reason, usage)
      VALUES ($1, $2, $3, $4, 'assistant', $5, $6, $7, $8, $9)
      RETURNING created_at""";

  /** Only when the user has not set a title meanwhile. */
  static final String SET_TITLE = """
      UPDATE conversations SET title = $2, updated_at = now() WHERE id = $1 AND title IS NULL RETURNING updated_at""";

  /** A summary only moves forward: an older one finishing late never replaces a newer one. */
  static final String SET_SUMMARY = """
      UPDATE conversations SET summary = $2, summary_through_seq = $3
       WHERE id = $1 AND (summary_through_seq IS NULL OR summary_through_seq < $3)""";

  /** Turns of the branch ending at $1 with seq in ($3, $4]: what a new summary must add. */
  static final String TURNS_TO_SUMMARISE = """
      WITH RECURSIVE branch AS (
        SELECT id, parent_id, seq, role, content FROM messages WHERE id = $1 AND conversation_id = $2
        UNION ALL
        SELECT m.id, m.parent_id, m.seq, m.role, m.content FROM messages m JOIN branch b ON m.id = b.parent_id
      )
      SELECT seq, role, content FROM branch WHERE seq > $3 AND seq <= $4 ORDER BY seq""";

  private static final String TOTAL = """
      coalesce((m.usage->>'input_tokens')::bigint, 0) + coalesce((m.usage->>'output_tokens')::bigint, 0)
        + coalesce((m.usage->>'cache_creation_input_tokens')::bigint, 0)
        + coalesce((m.usage->>'cache_read_input_tokens')::bigint, 0)""";

  static final String TOKENS_TODAY = "SELECT coalesce(sum(" + TOTAL + "), 0) AS total FROM messages m "
      + "WHERE m.role = 'assistant' AND m.usage IS NOT NULL "
      + "AND m.created_at >= date_trunc('day', now() AT TIME ZONE 'UTC') AT TIME ZONE 'UTC'";

  private static String usageBy(String key) {
    return "SELECT " + key + " AS key, count(*) AS messages,"
        + " sum(coalesce((m.usage->>'input_tokens')::bigint, 0)) AS input_tokens,"
        + " sum(coalesce((m.usage->>'output_tokens')::bigint, 0)) AS output_tokens,"
        + " sum(coalesce((m.usage->>'cache_creation_input_tokens')::bigint, 0)) AS cache_creation_input_tokens,"
        + " sum(coalesce((m.usage->>'cache_read_input_tokens')::bigint, 0)) AS cache_read_input_tokens,"
        + " sum(" + TOTAL + ") AS total_tokens"
        + " FROM messages m JOIN conversations c ON c.id = m.conversation_id"
        + " WHERE m.role = 'assistant' AND m.usage IS NOT NULL AND m.created_at >= $1 AND m.created_at < $2"
        + " GROUP BY 1 ORDER BY 1";
  }

  static final String USAGE_BY_DAY = usageBy("to_char(m.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD')");
  static final String USAGE_BY_MODEL = usageBy("coalesce(m.model, 'unknown')");
  static final String USAGE_BY_PROJECT = usageBy("c.project_id::text");
}
