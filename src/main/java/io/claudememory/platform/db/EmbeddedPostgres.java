package io.claudememory.platform.db;

import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.util.Objects;
import java.util.Properties;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A real PostgreSQL server run from the bundled zonky binaries: the default database when no {@code DATABASE_URL}
 * is configured. The cluster lives in {@code Settings.dataDir} and survives restarts; the server listens on
 * 127.0.0.1 only, with no Unix socket, and the superuser's generated password is kept beside the data directory.
 *
 * <p>When the JVM runs as root, the PostgreSQL processes run as an unprivileged account (see {@link PgAccount}).
 *
 * <p>Every method blocks the calling thread (a worker or {@code main}, never an event loop). Nothing is registered
 * globally: the caller owns the lifecycle and must {@link #close()} it. A failed {@link #start} leaves no server
 * running, and a server left behind by a JVM that was killed is stopped by the next start.
 */
public final class EmbeddedPostgres implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(EmbeddedPostgres.class);
  private static final String DATABASE = "postgres";
  private static final int LOGIN_TIMEOUT_SECONDS = 10;

  private final ServerProcess server;
  private final int port;
  private final String password;
  private final long postmasterPid;
  private boolean closed;

  /**
   * Where and how to run the server.
   *
   * @param dataDir the cluster's directory ({@code DATA_DIR/pg}); its password, log and owner files go beside it
   * @param binariesDir where the binaries are unpacked, once per archive, into a subdirectory
   * @param port the TCP port on 127.0.0.1
   */
  public record Settings(Path dataDir, Path binariesDir, int port) {
    public Settings {
      Objects.requireNonNull(dataDir, "dataDir");
      Objects.requireNonNull(binariesDir, "binariesDir");
      if (port < 1 || port > 65_535) {
        throw new EmbeddedPostgresException("the embedded PostgreSQL port must be between 1 and 65535, not " + port);
      }
    }
  }

  private EmbeddedPostgres(ServerProcess server, int port, String password, long postmasterPid) {
    this.server = server;
    this.port = port;
    this.password = password;
    this.postmasterPid = postmasterPid;
  }

  /**
   * Unpacks the binaries if needed, runs initdb on first use, starts the server and returns once it accepts
   * connections with the superuser's password.
   *
   * @throws EmbeddedPostgresException saying what to fix; no server is left running
   */
  public static EmbeddedPostgres start(Settings settings) throws EmbeddedPostgresException {
    PgAccount account = PgAccount.detect();
    Path binariesDir = settings.binariesDir().toAbsolutePath().normalize();
    PostgresBinaries.Installation binaries = PostgresBinaries.unpack(binariesDir);
    account.requireReachable(binaries.home(), "unpack the binaries elsewhere");
    DataDirectory data = new DataDirectory(settings.dataDir(), binaries, account);
    String password = data.open();
    ServerProcess server = new ServerProcess(data, binaries, account);
    server.takeOver();
    long pid = server.start(settings.port());
    try {
      requireLogin(jdbcUrl(settings.port()), password, data);
    } catch (RuntimeException e) {
      try {
        server.stop(pid);
      } catch (RuntimeException cleanup) {
        e.addSuppressed(cleanup);
      }
      throw e;
    }
    return new EmbeddedPostgres(server, settings.port(), password, pid);
  }

  public int port() {
    return port;
  }

  /** The superuser's name. */
  public String user() {
    return DataDirectory.SUPERUSER;
  }

  /** The superuser's password, generated at initdb and read back from {@code <dataDir>-password} after that. */
  public String password() {
    return password;
  }

  public String database() {
    return DATABASE;
  }

  public String jdbcUrl() {
    return jdbcUrl(port);
  }

  /** Stops the server (fast shutdown: open sessions are rolled back) and waits for it to exit; idempotent. */
  @Override
  public synchronized void close() {
    if (!closed) {
      closed = true;
      boolean wasRunning = server.isRunning(postmasterPid);
      long began = System.nanoTime();
      if (server.stop(postmasterPid) && wasRunning) {
        LOG.info("embedded PostgreSQL stopped ({} ms)", (System.nanoTime() - began) / 1_000_000);
      } else if (!wasRunning) {
        LOG.info("embedded PostgreSQL (pid {}) had already stopped", postmasterPid);
      }
    }
  }

  @Override
  public String toString() {
    return "EmbeddedPostgres[" + jdbcUrl() + "]";
  }

  private static String jdbcUrl(int port) {
    return "jdbc:postgresql://127.0.0.1:" + port + "/" + DATABASE;
  }

  /** pg_ctl only waits for the server to be ready; logging in also proves the port and the saved password. */
  private static void requireLogin(String url, String password, DataDirectory data) {
    Properties props = new Properties();
    props.setProperty("user", DataDirectory.SUPERUSER);
    props.setProperty("password", password);
    props.setProperty("loginTimeout", String.valueOf(LOGIN_TIMEOUT_SECONDS));
    try (Connection ignored = DriverManager.getConnection(url, props)) {
      // Connected: nothing more to check.
    } catch (SQLException e) {
      if ("28P01".equals(e.getSQLState())) {
        throw new EmbeddedPostgresException("the password in " + data.passwordFile() + " does not match the cluster "
            + "in " + data.dir() + ": restore the right file, or remove both to start over with an empty database", e);
      }
      throw new EmbeddedPostgresException("embedded PostgreSQL started but refuses connections at " + url + ": "
          + e.getMessage(), e);
    }
  }
}
