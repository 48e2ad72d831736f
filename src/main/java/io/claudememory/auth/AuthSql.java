package io.claudememory.auth;

/** The SQL of accounts, refresh tokens and API keys (master database). */
final class AuthSql {
  private AuthSql() {}

  static final String USER_COLUMNS = "id, email, name, username, role, created_at";

  static final String EMAIL_TAKEN = "SELECT 1 FROM users WHERE email_key = $1";

  static final String INSERT_USER = """
      INSERT INTO users (id, email, email_key, username, name, password_hash)
      VALUES ($1, $2, $3, $4, $5, $6)
      RETURNING """ + " " + USER_COLUMNS;

  static final String INSERT_MANAGED_DB = """
      INSERT INTO tenant_databases (id, user_id, name, kind, database, username, password_sealed, active,
                                    schema_version)
      VALUES ($1, $2, 'Managed', 'managed', $3, $3, $4, true, $5)""";

  static final String LOGIN = """
      SELECT id, password_hash, active FROM users WHERE email_key = $1""";

  static final String USER_BY_ID = "SELECT " + USER_COLUMNS + " FROM users WHERE id = $1";

  static final String PASSWORD_OF = "SELECT password_hash, email FROM users WHERE id = $1";

  static final String UPDATE_PROFILE = """
      UPDATE users SET name = CASE WHEN $2 THEN $3 ELSE name END,
                       username = CASE WHEN $4 THEN $5 ELSE username END,
                       updated_at = now()
      WHERE id = $1
      RETURNING """ + " " + USER_COLUMNS;

  static final String SET_PASSWORD = """
      UPDATE users SET password_hash = $2, token_version = token_version + 1, updated_at = now()
      WHERE id = $1 RETURNING token_version""";

  static final String TOKEN_VERSION = "SELECT token_version, active FROM users WHERE id = $1";

  static final String INSERT_REFRESH = """
      INSERT INTO refresh_tokens (id, user_id, family_id, token_hash, expires_at)
      VALUES ($1, $2, $3, $4, now() + make_interval(days => $5))""";

  static final String REFRESH_FOR_UPDATE = """
      SELECT id, user_id, family_id, used_at, revoked_at, expires_at < now() AS expired
      FROM refresh_tokens WHERE token_hash = $1 FOR UPDATE""";

  static final String MARK_USED = "UPDATE refresh_tokens SET used_at = now(), replaced_by = $2 WHERE id = $1";

  static final String REVOKE_FAMILY = """
      UPDATE refresh_tokens SET revoked_at = now() WHERE family_id = $1 AND revoked_at IS NULL""";

  static final String FAMILY_OF = "SELECT family_id, user_id FROM refresh_tokens WHERE token_hash = $1";

  static final String REVOKE_USER = """
      UPDATE refresh_tokens SET revoked_at = now() WHERE user_id = $1 AND revoked_at IS NULL""";

  static final String INSERT_API_KEY = """
      INSERT INTO api_keys (id, user_id, name, prefix, key_hash, expires_at)
      VALUES ($1, $2, $3, $4, $5, $6) RETURNING id, name, prefix, created_at, last_used_at, expires_at""";

  static final String COUNT_API_KEYS = "SELECT count(*) FROM api_keys WHERE user_id = $1 AND revoked_at IS NULL";

  static final String LIST_API_KEYS = """
      SELECT id, name, prefix, created_at, last_used_at, expires_at FROM api_keys
      WHERE user_id = $1 AND revoked_at IS NULL ORDER BY created_at DESC, id DESC""";

  static final String REVOKE_API_KEY = """
      UPDATE api_keys SET revoked_at = now() WHERE id = $1 AND user_id = $2 AND revoked_at IS NULL
      RETURNING key_hash""";

  static final String API_KEY_BY_HASH = """
      SELECT k.id, k.user_id, k.last_used_at < now() - interval '1 minute' OR k.last_used_at IS NULL AS stale
      FROM api_keys k
      WHERE k.key_hash = $1 AND k.revoked_at IS NULL AND (k.expires_at IS NULL OR k.expires_at > now())""";

  static final String TOUCH_API_KEY = "UPDATE api_keys SET last_used_at = now() WHERE id = $1";
}
