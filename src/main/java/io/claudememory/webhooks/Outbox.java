package io.claudememory.webhooks;

import io.claudememory.platform.EventAddresses;
import io.claudememory.platform.http.Ids;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.SqlClient;
import io.vertx.sqlclient.Tuple;
import java.nio.charset.StandardCharsets;
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
  static final String INSERT_ONCE = INSERT + " ON CONFLICT (id) DO NOTHING";

  private Outbox() {}

  /**
   * Records event {@code type} with payload {@code data} (keep it thin: ids and a few fields) on {@code conn}, which
   * must be the connection of the change's transaction. Completes with the event id.
   */
  public static Future<UUID> write(SqlClient conn, String type, JsonObject data) {
    return insert(conn, INSERT, Ids.newId(), type, data);
  }

  /**
   * Records the one event {@code type} that {@code source} (a job) reports, under an id derived from both: writing it
   * again (a retried step, a job run again after an interruption) adds nothing, so a writer that cannot share the
   * transaction of what the event reports may simply repeat the write until it succeeds. Completes with the event id.
   */
  public static Future<UUID> writeOnce(SqlClient conn, String type, UUID source, JsonObject data) {
    UUID id = UUID.nameUUIDFromBytes((type + ":" + source).getBytes(StandardCharsets.UTF_8));
    return insert(conn, INSERT_ONCE, id, type, data);
  }

  private static Future<UUID> insert(SqlClient conn, String sql, UUID id, String type, JsonObject data) {
    if (!EVENT_TYPES.contains(type)) {
      return Future.failedFuture(new IllegalArgumentException("unknown webhook event type " + type));
    }
    return conn.preparedQuery(sql).execute(Tuple.of(id, type, data)).map(rows -> id);
  }

  /** Tells the webhook verticles that {@code tenant} has new outbox rows; call after the commit. */
  public static void kick(Vertx vertx, UUID tenant) {
    vertx.eventBus().publish(EventAddresses.WEBHOOKS_KICK, tenant.toString());
  }

  /** {@link #writeOnce} on its own (for events that are not part of a tenant data change), then kicks. */
  public static Future<UUID> emitOnce(Vertx vertx, Pool pool, UUID tenant, String type, UUID source,
      JsonObject data) {
    return writeOnce(pool, type, source, data).onSuccess(id -> kick(vertx, tenant));
  }
}
