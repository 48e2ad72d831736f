package io.claudememory.projects;

/** The SQL of project shares (master database). */
final class SharesSql {
  private SharesSql() {}

  static final String SHARE_OF = """
      SELECT owner_id, role FROM project_shares WHERE project_id = $1 AND member_id = $2""";

  static final String SHARES_OF_MEMBER = """
      SELECT project_id, owner_id, role FROM project_shares WHERE member_id = $1""";

  /** Shared projects of a member, newest project first (ids are UUIDv7), after the cursor id when given. */
  static final String SHARES_PAGE = """
      SELECT project_id, owner_id, role FROM project_shares
      WHERE member_id = $1 AND ($2::uuid IS NULL OR project_id < $2)
      ORDER BY project_id DESC LIMIT $3""";

  static final String USER_BY_EMAIL = "SELECT id FROM users WHERE email_key = lower($1) AND active";

  static final String MEMBER_COLUMNS = "s.member_id, u.email, u.name, s.role, s.created_at";

  static final String INSERT = """
      WITH s AS (INSERT INTO project_shares (project_id, owner_id, member_id, role) VALUES ($1, $2, $3, $4)
                 RETURNING *)
      SELECT""" + " " + MEMBER_COLUMNS + " FROM s JOIN users u ON u.id = s.member_id";

  static final String LIST = "SELECT " + MEMBER_COLUMNS + """
       FROM project_shares s JOIN users u ON u.id = s.member_id
      WHERE s.project_id = $1 ORDER BY s.created_at, s.member_id""";

  static final String SET_ROLE = """
      WITH s AS (UPDATE project_shares SET role = $3 WHERE project_id = $1 AND member_id = $2 RETURNING *)
      SELECT""" + " " + MEMBER_COLUMNS + " FROM s JOIN users u ON u.id = s.member_id";

  static final String DELETE = "DELETE FROM project_shares WHERE project_id = $1 AND member_id = $2";

  static final String DELETE_PROJECT = "DELETE FROM project_shares WHERE project_id = $1 AND owner_id = $2";
}
