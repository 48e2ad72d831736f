package io.claudememory.support;

import io.claudememory.platform.db.DbTarget;
import io.claudememory.platform.db.EmbeddedPostgres;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;

/**
 * The PostgreSQL server tests run against (DESIGN.md §12): {@code TEST_DATABASE_URL}, else the one on
 * 127.0.0.1:5432, else an embedded one started once for the whole test JVM. Each {@link #create()} makes a fresh
 * master database with its own tenant prefix, and {@link Scope#drop()} removes it with every tenant database and role
 * it spawned, so tests leave nothing behind and never see each other's data.
 */
public final class TestDatabase {
  private static DbTarget server;

  private TestDatabase() {}

  /** A master database for one test class, and the prefix its tenant databases get. */
  public record Scope(DbTarget master, String tenantPrefix) {

    /** Drops the master database and every tenant database and role created under the prefix. */
    public void drop() {
      try (Connection c = connect(server())) {
        List<String> names = new ArrayList<>();
        try (Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT datname FROM pg_database WHERE datname LIKE '"
                 + tenantPrefix + "%'")) {
          while (rs.next()) {
            names.add(rs.getString(1));
          }
        }
        try (Statement s = c.createStatement()) {
          for (String name : names) {
            s.execute("DROP DATABASE IF EXISTS \"" + name + "\" WITH (FORCE)");
          }
          try (ResultSet rs = c.createStatement().executeQuery("SELECT rolname FROM pg_roles WHERE rolname LIKE '"
              + tenantPrefix + "%'")) {
            while (rs.next()) {
              s.execute("DROP ROLE IF EXISTS \"" + rs.getString(1) + "\"");
            }
          }
          s.execute("DROP DATABASE IF EXISTS \"" + master.database() + "\" WITH (FORCE)");
        }
      } catch (SQLException e) {
        throw new IllegalStateException("could not clean up test databases: " + e.getMessage(), e);
      }
    }
  }

  public static synchronized Scope create() {
    String tag = "cmbtest" + UUID.randomUUID().toString().replace("-", "").substring(0, 10);
    try (Connection c = connect(server()); Statement s = c.createStatement()) {
      s.execute("CREATE DATABASE \"" + tag + "\"");
    } catch (SQLException e) {
      throw new IllegalStateException("could not create a test database: " + e.getMessage(), e);
    }
    return new Scope(server().withDatabase(tag), tag + "_t_");
  }

  /** A JDBC connection for assertions on what the server wrote. */
  public static Connection connect(DbTarget target) throws SQLException {
    return DriverManager.getConnection(target.jdbcUrl(), target.user(), target.password());
  }

  public static synchronized DbTarget server() {
    if (server == null) {
      server = locate();
    }
    return server;
  }

  private static DbTarget locate() {
    String url = System.getenv("TEST_DATABASE_URL");
    if (url != null && !url.isBlank()) {
      return DbTarget.fromUri(url);
    }
    if (reachable("127.0.0.1", 5432)) {
      return DbTarget.fromUri("postgresql://postgres@127.0.0.1:5432/postgres");
    }
    EmbeddedPostgres pg = EmbeddedPostgres.start(new EmbeddedPostgres.Settings(
        Path.of("target", "test-pg", "data").toAbsolutePath(), Path.of("target", "test-pg", "bin").toAbsolutePath(),
        TestPorts.free()));
    Runtime.getRuntime().addShutdownHook(new Thread(pg::close));
    return new DbTarget("127.0.0.1", pg.port(), pg.database(), pg.user(), pg.password(),
        io.vertx.pgclient.SslMode.DISABLE);
  }

  static boolean reachable(String host, int port) {
    try (Socket socket = new Socket()) {
      socket.connect(new InetSocketAddress(host, port), 500);
      return true;
    } catch (Exception e) {
      return false;
    }
  }
}
