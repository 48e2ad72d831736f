package io.claudememory.platform.http;

import io.vertx.core.Future;
import io.vertx.core.Handler;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.ext.web.RoutingContext;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.Tuple;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Route handler that makes a POST idempotent when the client sends {@code Idempotency-Key}; place it after the
 * authenticator. Keys are per user and kept 24 hours in the master table {@code idempotency_keys}.
 *
 * <ul>
 *   <li>first use: the key is reserved with a hash of method, path and body; the route runs; a 2xx answer is stored
 *       (by {@link Responses}, before it is sent) so a retry can be answered from it;</li>
 *   <li>same key, same request, answered: the stored status and body, with {@code Idempotent-Replayed: true};</li>
 *   <li>same key, another request: 422; same key while the first is still being served: 409;</li>
 *   <li>a first request that failed (4xx/5xx) frees the key, so the corrected request can use it again.</li>
 * </ul>
 * A reservation older than {@link #ABANDONED_SECONDS} that never got an answer (node crash) may be taken over.
 */
public final class Idempotency implements Handler<RoutingContext> {
  public static final String HEADER = "Idempotency-Key";
  public static final String REPLAYED = "Idempotent-Replayed";
  static final int ABANDONED_SECONDS = 60;
  private static final Logger LOG = LoggerFactory.getLogger(Idempotency.class);
  private static final Pattern KEY = Pattern.compile("^[\\x21-\\x7E]{1,255}$");
  private static final String RESERVATION = "idempotency.reservation";

  private static final String RESERVE = """
      INSERT INTO idempotency_keys (user_id, key, request_hash, expires_at)
      VALUES ($1, $2, $3, now() + interval '24 hours')
      ON CONFLICT (user_id, key) DO UPDATE
        SET request_hash = EXCLUDED.request_hash, status = NULL, body = NULL, created_at = now(),
            expires_at = EXCLUDED.expires_at
        WHERE idempotency_keys.expires_at < now()
           OR (idempotency_keys.status IS NULL AND idempotency_keys.created_at < now() - make_interval(secs => $4))
      RETURNING true AS reserved""";
  private static final String EXISTING = """
      SELECT request_hash, status, body FROM idempotency_keys WHERE user_id = $1 AND key = $2""";
  private static final String STORE = """
      UPDATE idempotency_keys SET status = $3, body = $4 WHERE user_id = $1 AND key = $2""";
  private static final String RELEASE = """
      DELETE FROM idempotency_keys WHERE user_id = $1 AND key = $2 AND status IS NULL""";
  private static final String SWEEP = "DELETE FROM idempotency_keys WHERE expires_at < now()";

  private final Pool master;

  public Idempotency(Pool master) {
    this.master = master;
  }

  private record Reservation(Pool master, Tuple key, boolean[] settled) {}

  @Override
  public void handle(RoutingContext ctx) {
    String key = ctx.request().getHeader(HEADER);
    if (key == null) {
      ctx.next();
      return;
    }
    if (!KEY.matcher(key).matches()) {
      ctx.fail(ApiException.validation(HEADER, "must be 1 to 255 visible ASCII characters"));
      return;
    }
    Principal principal = Principal.required(ctx);
    byte[] hash = requestHash(ctx);
    Tuple id = Tuple.of(principal.userId(), key);
    master.preparedQuery(RESERVE).execute(Tuple.of(principal.userId(), key, Buffer.buffer(hash), ABANDONED_SECONDS))
        .compose(rows -> rows.size() > 0 ? Future.succeededFuture((Row) null)
            : master.preparedQuery(EXISTING).execute(id).compose(found -> found.size() > 0
                ? Future.succeededFuture(found.iterator().next())
                // released between our two statements: the first request failed just now
                : Future.failedFuture(ApiException.conflict("A request with this Idempotency-Key has just "
                    + "failed; retry."))))
        .onSuccess(existing -> {
          if (existing == null) {
            reserve(ctx, id);
          } else {
            replay(ctx, existing, hash);
          }
        })
        .onFailure(ctx::fail);
  }

  private void reserve(RoutingContext ctx, Tuple id) {
    Reservation reservation = new Reservation(master, id, new boolean[1]);
    ctx.put(RESERVATION, reservation);
    // a safety net for answers that bypass Responses and the failure handler (e.g. a closed connection)
    ctx.addEndHandler(done -> release(ctx));
    ctx.next();
  }

  /**
   * Frees the request's key unless its answer was stored: called by {@link FailureHandler} before a problem is sent,
   * so the client may retry with the same key (a corrected body, or after a transient failure).
   */
  static Future<Void> release(RoutingContext ctx) {
    Reservation reservation = ctx.get(RESERVATION);
    if (reservation == null || reservation.settled()[0]) {
      return Future.succeededFuture();
    }
    reservation.settled()[0] = true;
    return reservation.master().preparedQuery(RELEASE).execute(reservation.key()).<Void>mapEmpty()
        .recover(err -> {
          LOG.warn("could not release an idempotency key: {}", err.getMessage());
          return Future.succeededFuture();
        });
  }

  private static void replay(RoutingContext ctx, Row existing, byte[] hash) {
    if (!MessageDigest.isEqual(existing.getBuffer("request_hash").getBytes(), hash)) {
      ctx.fail(new ApiException(422, "Idempotency Key Reused",
          "This Idempotency-Key was already used for a different request."));
      return;
    }
    Integer status = existing.getInteger("status");
    if (status == null) {
      ctx.fail(ApiException.conflict("A request with this Idempotency-Key is still being served; retry later."));
      return;
    }
    Buffer body = existing.getBuffer("body");
    var response = ctx.response().setStatusCode(status).putHeader(REPLAYED, "true");
    if (body == null || body.length() == 0) {
      response.end();
    } else {
      response.putHeader("Content-Type", "application/json").end(body);
    }
  }

  /**
   * Called by {@link Responses} before a success is sent: stores it under the request's key, if it has one. The
   * answer waits for the store, so a retry that follows it always finds it.
   */
  static Future<Void> record(RoutingContext ctx, int status, Buffer body) {
    Reservation reservation = ctx.get(RESERVATION);
    if (reservation == null || status >= 300) {
      return Future.succeededFuture();
    }
    reservation.settled()[0] = true;
    Tuple key = reservation.key();
    return reservation.master().preparedQuery(STORE)
        .execute(Tuple.of(key.getValue(0), key.getValue(1), status, body)).<Void>mapEmpty()
        .recover(err -> {
          LOG.warn("could not store an idempotent answer: {}", err.getMessage());
          return Future.succeededFuture();
        });
  }

  /** Deletes expired keys every {@code everyMillis}; returns the timer id to cancel on shutdown. */
  public long sweepEvery(Vertx vertx, long everyMillis) {
    return vertx.setPeriodic(everyMillis, t -> master.query(SWEEP).execute()
        .onFailure(err -> LOG.warn("idempotency sweep failed: {}", err.getMessage())));
  }

  private static byte[] requestHash(RoutingContext ctx) {
    try {
      MessageDigest digest = MessageDigest.getInstance("SHA-256");
      digest.update((ctx.request().method().name() + " " + ctx.request().path() + "\n")
          .getBytes(StandardCharsets.UTF_8));
      Buffer body = ctx.body().buffer();
      if (body != null) {
        digest.update(body.getBytes());
      }
      return digest.digest();
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }
}
