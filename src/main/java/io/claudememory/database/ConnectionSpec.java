package io.claudememory.database;

import io.claudememory.platform.db.DbTarget;
import io.claudememory.platform.http.Validation;
import io.vertx.pgclient.PgConnectOptions;
import io.vertx.pgclient.SslMode;
import java.util.Set;

/**
 * A user's own PostgreSQL database as a request describes it: either {@code {url}} or {@code {host, port, database,
 * user, password, ssl}}. Ports below 1024 are refused (a database is never on a well-known service port, and the
 * check keeps the feature from being a port scanner for them).
 */
record ConnectionSpec(String host, int port, String database, String user, String password, SslMode sslMode) {
  static final Set<String> FIELDS = Set.of("url", "host", "port", "database", "user", "password", "ssl");
  private static final Set<SslMode> SUPPORTED = Set.of(SslMode.DISABLE, SslMode.ALLOW, SslMode.PREFER,
      SslMode.REQUIRE);

  /** Reads the spec; field errors go to {@code v}, and the result is null when there were any. */
  static ConnectionSpec read(Validation v) {
    String url = v.optionalString("url", 1, 2048);
    if (url != null) {
      if (v.has("host") || v.has("port") || v.has("database") || v.has("user") || v.has("password")
          || v.has("ssl")) {
        v.error("url", "give either url or host, port, database, user and password, not both");
        return null;
      }
      return fromUrl(v, url);
    }
    String host = v.requiredString("host", 1, 253);
    Integer port = v.optionalInt("port", 1024, 65535);
    String database = v.requiredString("database", 1, 63);
    String user = v.requiredString("user", 1, 63);
    String password = v.has("password") ? v.requiredSecret("password") : "";
    if (password != null && password.length() > 1024) {
      v.error("password", "must be at most 1024 characters");
    }
    Boolean ssl = v.optionalBoolean("ssl");
    if (host == null || database == null || user == null || password == null || v.hasError("port")
        || v.hasError("ssl")) {
      return null;
    }
    return new ConnectionSpec(host, port == null ? 5432 : port, database, user, password,
        Boolean.TRUE.equals(ssl) ? SslMode.REQUIRE : SslMode.DISABLE);
  }

  private static ConnectionSpec fromUrl(Validation v, String url) {
    if (!url.startsWith("postgresql://") && !url.startsWith("postgres://")) {
      v.error("url", "must be a postgresql:// URL");
      return null;
    }
    PgConnectOptions options;
    try {
      options = PgConnectOptions.fromUri(url);
    } catch (RuntimeException e) {
      v.error("url", "is not a valid PostgreSQL URL");    // the parser's message may quote the password
      return null;
    }
    SslMode mode = options.getSslMode() == null ? SslMode.DISABLE : options.getSslMode();
    if (!SUPPORTED.contains(mode)) {
      v.error("url", "sslmode must be one of disable, allow, prefer, require");
      return null;
    }
    if (options.getPort() < 1024) {
      v.error("url", "the port must be between 1024 and 65535");
      return null;
    }
    if (options.getUser() == null || options.getDatabase() == null || options.getHost() == null) {
      v.error("url", "must name the host, the database and the user");
      return null;
    }
    return new ConnectionSpec(options.getHost(), options.getPort(), options.getDatabase(), options.getUser(),
        options.getPassword() == null ? "" : options.getPassword(), mode);
  }

  /** The field a refused host is reported on. */
  static String hostField(Validation v) {
    return v.has("url") ? "url" : "host";
  }

  DbTarget toTarget(String connectHost) {
    return new DbTarget(connectHost, port, database, user, password, sslMode);
  }

  /** Never prints the password. */
  @Override
  public String toString() {
    return "ConnectionSpec[" + user + "@" + host + ":" + port + "/" + database + "]";
  }
}
