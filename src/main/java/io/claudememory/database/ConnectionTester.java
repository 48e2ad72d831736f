package io.claudememory.database;

import io.claudememory.platform.db.DbTarget;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.core.net.NetClientOptions;
import io.vertx.pgclient.PgBuilder;
import io.vertx.pgclient.PgException;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.PoolOptions;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * "Can this server reach that database?": connects (to an already checked address) under a hard timeout, reads the
 * server version and times one round trip. A failure becomes one of a few plain reasons; the driver's own message is
 * never shown, since it can describe the network behind the host (protocols.md §6.5).
 */
final class ConnectionTester {
  private static final Logger LOG = LoggerFactory.getLogger(ConnectionTester.class);
  private final Vertx vertx;
  private final int timeoutMs;

  ConnectionTester(Vertx vertx, int timeoutMs) {
    this.vertx = vertx;
    this.timeoutMs = timeoutMs;
  }

  /** {@code {ok: true, serverVersion, latencyMs}} or {@code {ok: false, reason}}; never fails. */
  Future<JsonObject> test(DbTarget target) {
    Pool pool = PgBuilder.pool()
        .with(new PoolOptions().setMaxSize(1).setConnectionTimeout(timeoutMs)
            .setConnectionTimeoutUnit(TimeUnit.MILLISECONDS))
        .with(new NetClientOptions().setConnectTimeout(timeoutMs))
        .connectingTo(target.connectOptions().setCachePreparedStatements(false))
        .using(vertx)
        .build();
    Promise<JsonObject> answer = Promise.promise();
    long timer = vertx.setTimer(timeoutMs + 1000L, id -> answer.tryComplete(failed(
        "The database did not answer in time.")));
    pool.query("SELECT current_setting('server_version')").execute().compose(version -> {
      long started = System.nanoTime();
      return pool.query("SELECT 1").execute().map(one -> new JsonObject().put("ok", true)
          .put("serverVersion", version.iterator().next().getString(0))
          .put("latencyMs", Math.max(0, Math.round((System.nanoTime() - started) / 1e6))));
    }).onComplete(done -> {
      vertx.cancelTimer(timer);
      answer.tryComplete(done.succeeded() ? done.result() : failed(reason(done.cause())));
      pool.close();
    });
    return answer.future();
  }

  private static JsonObject failed(String reason) {
    return new JsonObject().put("ok", false).put("reason", reason);
  }

  static String reason(Throwable err) {
    LOG.debug("connection test failed: {}", err.getClass().getName());
    for (Throwable t = err; t != null; t = t.getCause() == t ? null : t.getCause()) {
      if (t instanceof PgException pg && pg.getSqlState() != null) {
        String state = pg.getSqlState();
        if (state.equals("28P01") || state.equals("28000")) {
          return "The user name or password was not accepted.";
        }
        if (state.equals("3D000")) {
          return "The database does not exist on that server.";
        }
        if (state.equals("42501") || state.startsWith("28")) {
          return "The user may not connect to that database.";
        }
        if (state.startsWith("53") || state.startsWith("57P")) {
          return "The server is not accepting connections right now.";
        }
        return "The server refused the connection.";
      }
      if (t instanceof java.net.ConnectException) {
        return "Nothing accepted the connection at that host and port.";
      }
      if (t instanceof io.netty.channel.ConnectTimeoutException || t instanceof java.util.concurrent.TimeoutException
          || t.getClass().getSimpleName().contains("Timeout")) {
        return "The database did not answer in time.";
      }
      if (t instanceof javax.net.ssl.SSLException) {
        return "The secure (SSL) connection could not be established.";
      }
    }
    return "The server could not be reached or did not answer as PostgreSQL.";
  }
}
