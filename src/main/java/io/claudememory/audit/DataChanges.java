package io.claudememory.audit;

import io.claudememory.webhooks.Outbox;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.SqlClient;
import io.vertx.sqlclient.SqlConnection;
import java.util.UUID;
import java.util.function.Function;

/**
 * What every change to a tenant's data leaves behind, written on the change's own transaction: a row in the tenant's
 * {@code audit_events} and the webhook event in its {@code webhook_outbox}. So a committed change always has both and
 * a rolled-back one has neither. After the commit the webhook deliverer is kicked; if that is lost, its sweep finds
 * the event anyway.
 */
public final class DataChanges {
  private final Vertx vertx;

  public DataChanges(Vertx vertx) {
    this.vertx = vertx;
  }

  /** Runs {@code work} in a transaction of {@code tenant}'s pool and kicks webhook delivery once it committed. */
  public <T> Future<T> transaction(UUID tenant, Pool pool, Function<SqlConnection, Future<T>> work) {
    return pool.withTransaction(work).onSuccess(done -> Outbox.kick(vertx, tenant));
  }

  /** Records {@code event} (a webhook event type such as {@code conversation.created}) with its payload. */
  public Future<Void> record(SqlClient conn, String event, String entityType, UUID entityId, JsonObject data) {
    return DataAudit.write(conn, event, entityType, entityId, null)
        .compose(done -> Outbox.write(conn, event, data))
        .mapEmpty();
  }
}
