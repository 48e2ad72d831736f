package io.claudememory.platform.db;

import io.vertx.core.net.ClientSSLOptions;
import io.vertx.pgclient.PgConnectOptions;
import io.vertx.pgclient.SslMode;

/**
 * Where a PostgreSQL database is and how to log in: the one description from which both the reactive client's
 * options and Flyway's JDBC URL are derived, so the two never disagree.
 */
public record DbTarget(String host, int port, String database, String user, String password, SslMode sslMode) {
  /**
   * Starts a statement that is not kept prepared: each call sends it as PostgreSQL's unnamed statement, which is
   * planned with that call's values. For a statement whose best plan depends on its values (how common the searched
   * words are): a kept statement soon gets a generic plan, blind to them.
   */
  public static final String PLANNED_PER_CALL = "/* planned per call */ ";
  private static final int CACHED_SQL_LIMIT = 4096;

  public static DbTarget fromUri(String uri) {
    PgConnectOptions o = PgConnectOptions.fromUri(uri);
    return new DbTarget(o.getHost(), o.getPort(), o.getDatabase(), o.getUser(), o.getPassword(),
        o.getSslMode() == null ? SslMode.DISABLE : o.getSslMode());
  }

  public DbTarget withDatabase(String name) {
    return new DbTarget(host, port, name, user, password, sslMode);
  }

  public DbTarget withLogin(String newUser, String newPassword) {
    return new DbTarget(host, port, database, newUser, newPassword, sslMode);
  }

  public PgConnectOptions connectOptions() {
    PgConnectOptions options = new PgConnectOptions()
        .setHost(host).setPort(port).setDatabase(database).setUser(user)
        .setSslMode(sslMode)
        .setCachePreparedStatements(true)
        .setPreparedStatementCacheMaxSize(256)
        .setPreparedStatementCacheSqlFilter(sql -> sql.length() <= CACHED_SQL_LIMIT
            && !sql.startsWith(PLANNED_PER_CALL));
    if (password != null) {
      options.setPassword(password);
    }
    if (sslMode != SslMode.DISABLE && sslMode != SslMode.ALLOW && sslMode != SslMode.PREFER) {
      // PgConnectOptions holds no SSL options until given some: getSslOptions() is null by default
      options.setSslOptions(new ClientSSLOptions().setTrustAll(sslMode == SslMode.REQUIRE));
    }
    return options;
  }

  public String jdbcUrl() {
    String host6 = host.contains(":") ? "[" + host + "]" : host;
    return "jdbc:postgresql://" + host6 + ":" + port + "/" + database + "?sslmode=" + sslMode.value
        + "&ApplicationName=claude-memory-migrate";
  }

  /** Never prints the password. */
  @Override
  public String toString() {
    return "postgresql://" + user + "@" + host + ":" + port + "/" + database;
  }
}
