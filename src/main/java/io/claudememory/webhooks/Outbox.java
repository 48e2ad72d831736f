package io.claudememory.webhooks;

import io.claudememory.platform.EventAddresses;
import io.claudememory.platform.http.Ids;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.SqlClient;
import io.vertx.sqlclient.Tuple;
import java.util.Set;
import java.util.UUID;

/**
 * The tenant's webhook outbox. {@link #write} is called <em>inside</em> the transaction of the change that caused the
 * event, so an event exists exactly when its change was committed (none lost, none for a rolled-back change); after
 * the commit the writer calls {@link #kick}, and a periodic sweep finds whatever a lost kick missed.
 */
public final class Outbox {
  /** Every event type a subscription may ask for. */
  public static final Set<String> EVENT_TYPES = Set.of("conversation.created", "conversation.updated",
      "conversation.deleted", "message.created", "assistant.completed", "project.created", "project.updated",
      "project.deleted", "export.completed", "import.completed", "database.activated");
  static final String INSERT = "INSERT INTO webhook_outbox (id, type, data) VALUES ($1, $2, $3)";

  private Outbox() {}

  /**
   * Records event {@code type} with payload {@code data} (keep it thin: ids and a few fields) on {@code conn}, which
   * must be the connection of the change's transaction. Completes with the event id.
   */
  public static Future<UUID> write(SqlClient conn, String type, JsonObject data) {
    if (!EVENT_TYPES.contains(type)) {
      return Future.failedFuture(new IllegalArgumentException("unknown webhook event type " + type));
    }
    UUID id = Ids.newId();
    return conn.preparedQuery(INSERT).execute(Tuple.of(id, type, data)).map(rows -> id);
  }

  /** Tells the webhook verticles that {@code tenant} has new outbox rows; call after the commit. */
  public static void kick(Vertx vertx, UUID tenant) {
    vertx.eventBus().publish(EventAddresses.WEBHOOKS_KICK, tenant.toString());
  }

  /** Records an event in a transaction of its own (for events that are not part of a data change) and kicks. */
  public static Future<UUID> emit(Vertx vertx, Pool pool, UUID tenant, String type, JsonObject data) {
    return pool.withTransaction(conn -> write(conn, type, data)).onSuccess(id -> kick(vertx, tenant));
  }
}
