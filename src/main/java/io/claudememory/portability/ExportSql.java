package io.claudememory.portability;

/**
 * The SQL of exports. The scope is two nullable parameters on conversations: {@code $1} a project id, {@code $2} a
 * conversation id (both null: the whole account). Rows of the native bundle are built as JSON by PostgreSQL itself,
 * so every value keeps its exact text form (timestamps to the microsecond, JSON blocks as stored).
 */
final class ExportSql {
  private ExportSql() {}

  static final String SCOPE = "($1::uuid IS NULL OR c.project_id = $1) AND ($2::uuid IS NULL OR c.id = $2)";

  static final String COUNTS = """
      SELECT (SELECT count(*) FROM conversations c WHERE %1$s) AS conversations,
             (SELECT count(*) FROM messages m JOIN conversations c ON c.id = m.conversation_id WHERE %1$s) AS messages
      """.formatted(SCOPE);

  static final String PROJECTS = """
      SELECT json_build_object('id', p.id, 'name', p.name, 'description', p.description,
        'instructions', p.instructions, 'archived', p.archived, 'createdAt', p.created_at,
        'updatedAt', p.updated_at)::text AS line
      FROM projects p
      WHERE ($1::uuid IS NULL AND $2::uuid IS NULL) OR p.id = $1
         OR p.id = (SELECT c.project_id FROM conversations c WHERE c.id = $2)
      ORDER BY p.id""";

  static final String CONVERSATIONS_JSON = """
      SELECT json_build_object('id', c.id, 'projectId', c.project_id, 'title', c.title, 'model', c.model,
        'systemPrompt', c.system_prompt, 'tags', c.tags, 'pinned', c.pinned, 'archived', c.archived,
        'summary', c.summary, 'summaryThroughSeq', c.summary_through_seq, 'currentLeafId', c.current_leaf_id,
        'messageCount', c.message_count, 'lastSeq', c.last_seq, 'lastActivityAt', c.last_activity_at,
        'createdAt', c.created_at, 'updatedAt', c.updated_at)::text AS line
      FROM conversations c WHERE %s ORDER BY c.id""".formatted(SCOPE);

  static final String MESSAGES_JSON = """
      SELECT json_build_object('id', m.id, 'conversationId', m.conversation_id, 'parentId', m.parent_id,
        'seq', m.seq, 'role', m.role, 'content', m.content, 'blocks', m.blocks, 'model', m.model,
        'stopReason', m.stop_reason, 'usage', m.usage, 'createdAt', m.created_at)::text AS line
      FROM messages m JOIN conversations c ON c.id = m.conversation_id
      WHERE %s ORDER BY m.conversation_id, m.seq""".formatted(SCOPE);

  static final String CONVERSATIONS = """
      SELECT c.id, c.project_id, p.name AS project_name, c.title, c.model, c.tags, c.pinned, c.archived,
        c.summary, c.current_leaf_id, c.message_count, c.created_at, c.updated_at, c.last_activity_at
      FROM conversations c LEFT JOIN projects p ON p.id = c.project_id WHERE %s ORDER BY c.id""".formatted(SCOPE);

  static final String MESSAGES_CSV = """
      SELECT m.id, m.conversation_id, m.parent_id, m.seq, m.role, m.content, m.model, m.stop_reason,
        (m.usage->>'input_tokens')::text AS input_tokens, (m.usage->>'output_tokens')::text AS output_tokens,
        m.created_at
      FROM messages m JOIN conversations c ON c.id = m.conversation_id
      WHERE %s ORDER BY m.conversation_id, m.seq""".formatted(SCOPE);

  /** $1 conversation: the branch ending at the current leaf (or the newest message), root first. */
  static final String CURRENT_BRANCH = """
      WITH RECURSIVE leaf AS (
        SELECT coalesce((SELECT current_leaf_id FROM conversations WHERE id = $1),
          (SELECT id FROM messages WHERE conversation_id = $1 ORDER BY seq DESC LIMIT 1)) AS id),
      branch AS (
        SELECT m.id, m.parent_id, m.seq, m.role, m.content, m.model, m.created_at FROM messages m, leaf
        WHERE m.id = leaf.id AND m.conversation_id = $1
        UNION ALL
        SELECT p.id, p.parent_id, p.seq, p.role, p.content, p.model, p.created_at
        FROM messages p JOIN branch b ON p.id = b.parent_id)
      SELECT id, seq, role, content, model, created_at FROM branch ORDER BY seq""";

  /** $1 conversation: leaves other than the current one, i.e. the tips of the other branches. */
  static final String OTHER_LEAVES = """
      SELECT m.id, m.seq, m.created_at FROM messages m
      WHERE m.conversation_id = $1 AND m.id IS DISTINCT FROM $2
        AND NOT EXISTS (SELECT 1 FROM messages ch WHERE ch.parent_id = m.id)
      ORDER BY m.seq""";
}
