package io.claudememory.portability;

/** The SQL of imports, on the tenant database. */
final class ImportSql {
  private ImportSql() {}

  /** Claims a source id; no row back means it was imported before (idempotence). */
  static final String CLAIM_SOURCE = """
      INSERT INTO import_sources (source, kind, source_id, local_id) VALUES ($1, $2, $3, $4)
      ON CONFLICT DO NOTHING RETURNING local_id""";
  static final String SOURCE_LOCAL_ID = "SELECT local_id FROM import_sources WHERE source = $1 AND kind = $2 "
      + "AND source_id = $3";

  static final String INSERT_PROJECT = """
      INSERT INTO projects (id, name, description, instructions, created_at, updated_at)
      VALUES ($1, $2, $3, $4, $5, $6)""";

  static final String INSERT_CONVERSATION = """
      INSERT INTO conversations (id, project_id, title, model, archived, summary, current_leaf_id, message_count,
        last_seq, last_activity_at, created_at, updated_at)
      VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $10)""";

  static final String INSERT_MESSAGE = """
      INSERT INTO messages (id, conversation_id, parent_id, seq, role, content, blocks, model, stop_reason, usage,
        created_at)
      VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)""";

  /** Native bundle rows, exactly as exported; an id already present means it was imported before. */
  static final String NATIVE_PROJECT = """
      INSERT INTO projects (id, name, description, instructions, archived, created_at, updated_at)
      SELECT id, name, description, instructions, coalesce(archived, false), "createdAt", "updatedAt"
      FROM jsonb_to_record($1::jsonb) AS x(id uuid, name text, description text, instructions text, archived boolean,
        "createdAt" timestamptz, "updatedAt" timestamptz)
      ON CONFLICT (id) DO NOTHING RETURNING id""";

  static final String NATIVE_CONVERSATION = """
      INSERT INTO conversations (id, project_id, title, model, system_prompt, tags, pinned, archived, summary,
        summary_through_seq, current_leaf_id, message_count, last_seq, last_activity_at, created_at, updated_at)
      SELECT id, "projectId", title, model, "systemPrompt", coalesce(tags, '{}'), coalesce(pinned, false),
        coalesce(archived, false), summary, "summaryThroughSeq", "currentLeafId", coalesce("messageCount", 0),
        coalesce("lastSeq", 0), "lastActivityAt", "createdAt", "updatedAt"
      FROM jsonb_to_record($1::jsonb) AS x(id uuid, "projectId" uuid, title text, model text, "systemPrompt" text,
        tags text[], pinned boolean, archived boolean, summary text, "summaryThroughSeq" bigint,
        "currentLeafId" uuid, "messageCount" integer, "lastSeq" bigint, "lastActivityAt" timestamptz,
        "createdAt" timestamptz, "updatedAt" timestamptz)
      ON CONFLICT (id) DO NOTHING RETURNING id""";

  static final String NATIVE_MESSAGES = """
      INSERT INTO messages (id, conversation_id, parent_id, seq, role, content, blocks, model, stop_reason, usage,
        created_at)
      SELECT id, "conversationId", "parentId", seq, role, content, blocks, model, "stopReason", usage, "createdAt"
      FROM jsonb_to_recordset($1::jsonb) AS x(id uuid, "conversationId" uuid, "parentId" uuid, seq bigint,
        role text, content text, blocks jsonb, model text, "stopReason" text, usage jsonb, "createdAt" timestamptz)""";
}
