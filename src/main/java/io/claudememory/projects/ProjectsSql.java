package io.claudememory.projects;

/** The SQL of projects (tenant database). Lists are newest first by id: ids are UUIDv7, so time-ordered. */
final class ProjectsSql {
  private ProjectsSql() {}

  private static final String COLUMNS = """
      p.id, p.name, p.description, p.instructions, p.archived, p.created_at, p.updated_at,
      (SELECT count(*) FROM conversations c WHERE c.project_id = p.id) AS conversation_count""";

  static final String INSERT = """
      WITH p AS (INSERT INTO projects (id, name, description, instructions) VALUES ($1, $2, $3, $4) RETURNING *)
      SELECT""" + " " + COLUMNS + " FROM p";

  static final String BY_ID = "SELECT " + COLUMNS + " FROM projects p WHERE p.id = $1";

  static final String BY_IDS = "SELECT " + COLUMNS + " FROM projects p WHERE p.id = ANY($1)";

  static final String PAGE = "SELECT " + COLUMNS + """
       FROM projects p
      WHERE ($1::uuid IS NULL OR p.id < $1) AND ($2::boolean IS NULL OR p.archived = $2)
      ORDER BY p.id DESC LIMIT $3""";

  /** Sets each field whose flag is true ($2, $4, $6, $8), keeping the others. */
  static final String UPDATE = """
      WITH p AS (
        UPDATE projects SET name = CASE WHEN $2 THEN $3 ELSE name END,
                            description = CASE WHEN $4 THEN $5 ELSE description END,
                            instructions = CASE WHEN $6 THEN $7 ELSE instructions END,
                            archived = CASE WHEN $8 THEN $9 ELSE archived END,
                            updated_at = now()
        WHERE id = $1 RETURNING *)
      SELECT""" + " " + COLUMNS + " FROM p";

  /** Locks the project against new conversations (their foreign key check waits) while it is deleted. */
  static final String LOCK = "SELECT 1 FROM projects WHERE id = $1 FOR UPDATE";

  static final String CONVERSATIONS_IN = "SELECT count(*) FROM conversations WHERE project_id = $1";

  static final String DELETE = "DELETE FROM projects WHERE id = $1";
}
