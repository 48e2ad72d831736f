package io.claudememory.webhooks;

import io.claudememory.audit.SecurityAudit;
import io.claudememory.platform.crypto.SecretBox;
import io.claudememory.platform.db.TenantPools;
import io.claudememory.platform.http.ApiException;
import io.claudememory.platform.http.Ids;
import io.claudememory.platform.net.AddressGuard;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.RowSet;
import io.vertx.sqlclient.Tuple;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;

/**
 * Webhook subscriptions (master) and their deliveries (tenant): create with a secret shown once and sealed with
 * {@link SecretBox}, update, delete, the delivery log, a test ping and redelivery. Target hosts pass the
 * {@link AddressGuard} when saved (and again on every send). Changes are audited.
 */
public final class Webhooks {
  private final Vertx vertx;
  private final Pool master;
  private final TenantPools pools;
  private final SecretBox secrets;
  private final AddressGuard guard;
  private final SecurityAudit audit;

  public Webhooks(Vertx vertx, Pool master, TenantPools pools, SecretBox secrets, AddressGuard guard,
      SecurityAudit audit) {
    this.vertx = vertx;
    this.master = master;
    this.pools = pools;
    this.secrets = secrets;
    this.guard = guard;
    this.audit = audit;
  }

  /** A validated change: null fields are left alone. */
  record Change(String url, List<String> events, boolean descriptionSet, String description, Boolean enabled) {}

  Future<JsonObject> create(UUID userId, Change change, SecurityAudit.Caller caller) {
    UUID id = Ids.newId();
    String secret = Signer.newSecret();
    return checkHost(change.url()).compose(ok -> master.withTransaction(conn -> conn.preparedQuery(WebhookSql.INSERT)
        .execute(Tuple.of(id, userId, change.url(), change.events().toArray(new String[0]), change.description(),
            secrets.seal(secret, id.toString())))
        .compose(rows -> audit.record(conn, userId, userId, "webhook.created", caller, new JsonObject()
            .put("webhookId", id.toString()).put("url", change.url())).map(rows))))
        .map(rows -> toJson(rows.iterator().next()).put("secret", secret));
  }

  Future<JsonArray> list(UUID userId) {
    return master.preparedQuery(WebhookSql.LIST).execute(Tuple.of(userId)).map(rows -> {
      JsonArray list = new JsonArray();
      rows.forEach(row -> list.add(toJson(row)));
      return list;
    });
  }

  Future<JsonObject> find(UUID userId, UUID id) {
    return master.preparedQuery(WebhookSql.FIND).execute(Tuple.of(id, userId)).compose(Webhooks::single);
  }

  Future<JsonObject> update(UUID userId, UUID id, Change change, SecurityAudit.Caller caller) {
    return checkHost(change.url()).compose(ok -> master.withTransaction(conn -> conn.preparedQuery(WebhookSql.UPDATE)
        .execute(Tuple.from(new Object[] {id, userId, change.url(), change.events() == null ? null
            : change.events().toArray(new String[0]), change.descriptionSet(), change.description(),
            change.enabled()}))
        .compose(Webhooks::single)
        .compose(hook -> audit.record(conn, userId, userId, "webhook.updated", caller, new JsonObject()
            .put("webhookId", id.toString()).put("enabled", hook.getBoolean("enabled"))).map(hook))));
  }

  Future<Void> delete(UUID userId, UUID id, SecurityAudit.Caller caller) {
    return master.withTransaction(conn -> conn.preparedQuery(WebhookSql.DELETE).execute(Tuple.of(id, userId))
        .compose(rows -> rows.rowCount() == 0 ? Future.failedFuture(ApiException.notFound("The webhook"))
            : audit.record(conn, userId, userId, "webhook.deleted", caller, new JsonObject()
                .put("webhookId", id.toString()))));
  }

  /** Queues a {@code webhook.ping} for this subscription alone. */
  Future<JsonObject> ping(UUID userId, UUID id) {
    UUID event = Ids.newId();
    UUID delivery = Ids.newId();
    return find(userId, id).compose(hook -> hook.getBoolean("enabled") ? Future.succeededFuture(hook)
            : Future.failedFuture(ApiException.conflict("The webhook is disabled; enable it first.")))
        .compose(hook -> pools.withPool(userId, pool -> pool.withTransaction(conn -> conn
            .preparedQuery(WebhookSql.INSERT_PING).execute(Tuple.of(event, new JsonObject()
                .put("webhookId", id.toString()).put("message", "This is a test delivery.")))
            .compose(v -> conn.preparedQuery(WebhookSql.INSERT_DELIVERY).execute(Tuple.of(delivery, event, id))))
            .compose(v -> delivery(pool, id, delivery))))
        .onSuccess(v -> Outbox.kick(vertx, userId));
  }

  Future<JsonObject> redeliver(UUID userId, UUID id, UUID deliveryId) {
    return find(userId, id).compose(hook -> pools.withPool(userId, pool -> pool.preparedQuery(WebhookSql.REDELIVER)
        .execute(Tuple.of(deliveryId, id)).compose(rows -> rows.size() > 0 ? delivery(pool, id, deliveryId)
            : delivery(pool, id, deliveryId).compose(d -> Future.failedFuture(ApiException.conflict(
                "The delivery is still scheduled; it will be attempted again on its own."))))))
        .onSuccess(v -> Outbox.kick(vertx, userId));
  }

  private Future<JsonObject> delivery(Pool pool, UUID webhookId, UUID deliveryId) {
    return pool.preparedQuery(WebhookSql.FIND_DELIVERY).execute(Tuple.of(deliveryId, webhookId))
        .compose(rows -> rows.size() == 0 ? Future.failedFuture(ApiException.notFound("The delivery"))
            : withAttempts(pool, rows).map(list -> list.getJsonObject(0)));
  }

  /** A page of deliveries, newest first, each with its attempts. */
  Future<JsonObject> deliveries(UUID userId, UUID id, int limit, String cursor) {
    Object[] after = decodeCursor(cursor);
    return find(userId, id).compose(hook -> pools.withPool(userId, pool -> pool
        .preparedQuery(WebhookSql.LIST_DELIVERIES).execute(Tuple.of(id, after[0], after[1], limit + 1))
        .compose(rows -> withAttempts(pool, rows))))
        .map(list -> {
          String next = null;
          if (list.size() > limit) {
            list.remove(limit);
            JsonObject last = list.getJsonObject(limit - 1);
            next = Base64.getUrlEncoder().withoutPadding().encodeToString((last.getString("createdAt") + "|"
                + last.getString("id")).getBytes());
          }
          return new JsonObject().put("data", list).put("nextCursor", next);
        });
  }

  private static Future<JsonArray> withAttempts(Pool pool, RowSet<Row> rows) {
    List<JsonObject> deliveries = new ArrayList<>();
    Map<UUID, JsonArray> logs = new HashMap<>();
    for (Row r : rows) {
      JsonArray log = new JsonArray();
      logs.put(r.getUUID("id"), log);
      deliveries.add(new JsonObject().put("id", r.getUUID("id").toString())
          .put("eventId", r.getUUID("event_id").toString()).put("type", r.getString("type"))
          .put("status", r.getString("status")).put("attempts", r.getInteger("attempts"))
          .put("nextAttemptAt", "pending".equals(r.getString("status")) ? instant(r.getOffsetDateTime(
              "next_attempt_at")) : null)
          .put("lastStatusCode", r.getInteger("last_status_code")).put("lastError", r.getString("last_error"))
          .put("createdAt", instant(r.getOffsetDateTime("created_at")))
          .put("updatedAt", instant(r.getOffsetDateTime("updated_at"))).put("attemptLog", log));
    }
    return pool.preparedQuery(WebhookSql.ATTEMPTS).execute(Tuple.of((Object) logs.keySet().toArray(new UUID[0])))
        .map(attempts -> {
          for (Row a : attempts) {
            logs.get(a.getUUID("delivery_id")).add(new JsonObject().put("attempt", a.getInteger("attempt"))
                .put("statusCode", a.getInteger("status_code")).put("error", a.getString("error"))
                .put("succeeded", a.getBoolean("succeeded")).put("durationMs", a.getInteger("duration_ms"))
                .put("createdAt", instant(a.getOffsetDateTime("created_at"))));
          }
          return new JsonArray(new ArrayList<>(deliveries));
        });
  }

  private static Object[] decodeCursor(String cursor) {
    if (cursor == null) {
      return new Object[] {null, null};
    }
    try {
      String[] parts = new String(Base64.getUrlDecoder().decode(cursor)).split("\\|");
      return new Object[] {OffsetDateTime.parse(parts[0]), UUID.fromString(parts[1])};
    } catch (RuntimeException e) {
      throw ApiException.validation("cursor", "is not a cursor this list gave");
    }
  }

  private Future<Void> checkHost(String url) {
    if (url == null) {
      return Future.succeededFuture();
    }
    return guard.check(WebhookUrl.parse(url).host()).<Void>mapEmpty().recover(err -> Future.failedFuture(
        err instanceof AddressGuard.RefusedHostException ? ApiException.validation("url", err.getMessage()) : err));
  }

  private static Future<JsonObject> single(RowSet<Row> rows) {
    return rows.size() == 0 ? Future.failedFuture(ApiException.notFound("The webhook"))
        : Future.succeededFuture(toJson(rows.iterator().next()));
  }

  static JsonObject toJson(Row row) {
    return new JsonObject().put("id", row.getUUID("id").toString()).put("url", row.getString("url"))
        .put("events", new JsonArray(List.of(row.getArrayOfStrings("events"))))
        .put("description", row.getString("description")).put("enabled", row.getBoolean("enabled"))
        .put("consecutiveFailures", row.getInteger("consecutive_failures"))
        .put("disabledAt", instant(row.getOffsetDateTime("disabled_at")))
        .put("disabledReason", row.getString("disabled_reason"))
        .put("createdAt", instant(row.getOffsetDateTime("created_at")))
        .put("updatedAt", instant(row.getOffsetDateTime("updated_at")));
  }

  static String instant(OffsetDateTime time) {
    return time == null ? null : time.toInstant().toString();
  }
}
