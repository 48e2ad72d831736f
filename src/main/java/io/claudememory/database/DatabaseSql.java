package io.claudememory.database;

/** The master statements of bring-your-own databases ({@code tenant_databases}) and of switching between them. */
final class DatabaseSql {
  private DatabaseSql() {}

  static final String COLUMNS = """
      id, user_id, name, kind, host, port, database, username, password_sealed, ssl_mode, active, schema_version,
      created_at, updated_at""";
  static final String LIST = "SELECT " + COLUMNS + " FROM tenant_databases WHERE user_id = $1 ORDER BY created_at, id";
  static final String FIND = "SELECT " + COLUMNS + " FROM tenant_databases WHERE id = $1 AND user_id = $2";
  static final String INSERT = """
      INSERT INTO tenant_databases (id, user_id, name, kind, host, port, database, username, password_sealed,
                                    ssl_mode, active, schema_version)
      VALUES ($1, $2, $3, 'external', $4, $5, $6, $7, $8, $9, false, 0)
      RETURNING""" + " " + COLUMNS;
  static final String DELETE = """
      DELETE FROM tenant_databases WHERE id = $1 AND user_id = $2 AND kind = 'external' AND NOT active""";
  static final String COPY_UNDER_WAY = """
      SELECT 1 FROM jobs WHERE user_id = $1 AND kind = 'database.copy' AND status IN ('queued', 'running')
        AND params ->> 'targetId' = $2""";
  static final String DEACTIVATE = """
      UPDATE tenant_databases SET active = false, updated_at = now() WHERE user_id = $1 AND active""";
  static final String ACTIVATE = """
      UPDATE tenant_databases SET active = true, schema_version = $3, updated_at = now()
      WHERE id = $1 AND user_id = $2""";
}
