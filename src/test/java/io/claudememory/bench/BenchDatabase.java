package io.claudememory.bench;

import io.claudememory.platform.db.DbTarget;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;

/**
 * A fresh master database on an external PostgreSQL (the admin URL, by default
 * {@code postgresql://postgres@127.0.0.1:5432/postgres}), with a tenant prefix unique to this run so that
 * {@link #drop()} removes exactly what the run created: the master database and every tenant database and role
 * named with the prefix. Names are generated here, never taken from input.
 */
final class BenchDatabase implements AutoCloseable {
  private final DbTarget admin;
  private final String name;
  private final String tenantPrefix;

  private BenchDatabase(DbTarget admin, String name) {
    this.admin = admin;
    this.name = name;
    this.tenantPrefix = name + "_t_";
  }

  static BenchDatabase create(String adminUrl) throws SQLException {
    DbTarget admin = DbTarget.fromUri(adminUrl);
    String name = "cmbbench_" + UUID.randomUUID().toString().replace("-", "").substring(0, 10);
    try (Connection c = connect(admin); Statement s = c.createStatement()) {
      s.execute("CREATE DATABASE \"" + name + "\"");
    }
    return new BenchDatabase(admin, name);
  }

  /** The master database URL the server is given as DATABASE_URL. */
  String url() {
    String login = admin.user() + (admin.password() == null ? "" : ":" + admin.password());
    return "postgresql://" + login + "@" + admin.host() + ":" + admin.port() + "/" + name;
  }

  String name() {
    return name;
  }

  String tenantPrefix() {
    return tenantPrefix;
  }

  /** How many tenant databases the run has created so far. */
  int tenantDatabases() throws SQLException {
    try (Connection c = connect(admin); Statement s = c.createStatement();
         ResultSet rs = s.executeQuery("SELECT count(*) FROM pg_database WHERE datname LIKE '" + likePrefix() + "%'")) {
      rs.next();
      return rs.getInt(1);
    }
  }

  /** Drops the tenant databases, their roles and the master database; returns how many tenant databases went. */
  int drop() throws SQLException {
    try (Connection c = connect(admin); Statement s = c.createStatement()) {
      List<String> databases = names(s, "SELECT datname FROM pg_database WHERE datname LIKE '" + likePrefix() + "%'");
      for (String db : databases) {
        s.execute("DROP DATABASE IF EXISTS \"" + db + "\" WITH (FORCE)");
      }
      for (String role : names(s, "SELECT rolname FROM pg_roles WHERE rolname LIKE '" + likePrefix() + "%'")) {
        s.execute("DROP ROLE IF EXISTS \"" + role + "\"");
      }
      s.execute("DROP DATABASE IF EXISTS \"" + name + "\" WITH (FORCE)");
      return databases.size();
    }
  }

  @Override
  public void close() throws SQLException {
    drop();
  }

  /** The prefix as a LIKE pattern: its underscores are literal, not single-character wildcards. */
  private String likePrefix() {
    return tenantPrefix.replace("_", "\\_");
  }

  private static List<String> names(Statement s, String sql) throws SQLException {
    List<String> names = new ArrayList<>();
    try (ResultSet rs = s.executeQuery(sql)) {
      while (rs.next()) {
        names.add(rs.getString(1));
      }
    }
    return names;
  }

  private static Connection connect(DbTarget target) throws SQLException {
    return DriverManager.getConnection(target.jdbcUrl(), target.user(), target.password());
  }
}
