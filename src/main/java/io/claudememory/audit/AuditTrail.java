package io.claudememory.audit;

import io.claudememory.platform.db.TenantPools;
import io.claudememory.platform.http.ApiException;
import io.vertx.core.Future;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.RowSet;
import io.vertx.sqlclient.Tuple;
import java.nio.charset.StandardCharsets;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Comparator;
import java.util.List;
import java.util.UUID;

/**
 * Reads the trail: a user's security events (master) merged with their data changes (their tenant database), newest
 * first, in cursor pages ordered by (time, id). The cursor is the last item's time and id, so pages never skip or
 * repeat an event whichever source it came from.
 */
public final class AuditTrail {
  static final String FILTERS = """
      ($2::text IS NULL OR action = $2) AND ($3::timestamptz IS NULL OR created_at >= $3)
        AND ($4::timestamptz IS NULL OR created_at < $4) AND ($5::timestamptz IS NULL OR (created_at, id) < ($5, $6))
      ORDER BY created_at DESC, id DESC LIMIT $7""";
  private static final String SECURITY_EVENTS = """
      SELECT id, user_id, actor_id, action, ip, request_id, NULL AS entity_type, NULL::uuid AS entity_id, details,
        created_at
      FROM audit_events WHERE""" + " ";
  static final String SECURITY = SECURITY_EVENTS + "user_id = $1 AND " + FILTERS;
  /** Every user's security events, those of no user included; $1 is null (no one's trail in particular). */
  static final String SECURITY_ALL = SECURITY_EVENTS + "$1::uuid IS NULL AND " + FILTERS;
  static final String DATA = """
      SELECT id, NULL::uuid AS user_id, NULL::uuid AS actor_id, action, NULL AS ip, NULL AS request_id, entity_type,
        entity_id, details, created_at
      FROM audit_events WHERE $1::uuid IS NOT NULL AND""" + " " + FILTERS;

  /**
   * What to read: whose trail ({@code userId} null: every user's security events), with its data changes or not,
   * filters, page size and position.
   */
  public record Query(UUID userId, boolean includeData, String action, OffsetDateTime from, OffsetDateTime to,
      int limit, String cursor) {}

  private final Pool master;
  private final TenantPools pools;

  public AuditTrail(Pool master, TenantPools pools) {
    this.master = master;
    this.pools = pools;
  }

  /** {@code {data: [...], nextCursor}}. */
  public Future<JsonObject> page(Query q) {
    Object[] after = decode(q.cursor());
    Tuple args = Tuple.from(new Object[] {q.userId(), q.action(), q.from(), q.to(), after[0], after[1],
        q.limit() + 1});
    Future<List<JsonObject>> security = master.preparedQuery(q.userId() == null ? SECURITY_ALL : SECURITY)
        .execute(args).map(rows -> items(rows, "security"));
    Future<List<JsonObject>> data = q.includeData() ? pools.withPool(q.userId(), pool -> pool
        .preparedQuery(DATA).execute(args)).map(rows -> items(rows, "data")) : Future.succeededFuture(List.of());
    return Future.all(security, data).map(both -> {
      List<JsonObject> merged = new ArrayList<>(security.result());
      merged.addAll(data.result());
      merged.sort(Comparator.comparing((JsonObject e) -> OffsetDateTime.parse(e.getString("createdAt")))
          .thenComparing(e -> UUID.fromString(e.getString("id"))).reversed());
      String next = null;
      if (merged.size() > q.limit()) {
        merged = merged.subList(0, q.limit());
        JsonObject last = merged.get(q.limit() - 1);
        next = Base64.getUrlEncoder().withoutPadding().encodeToString((last.getString("createdAt") + "|"
            + last.getString("id")).getBytes(StandardCharsets.UTF_8));
      }
      return new JsonObject().put("data", new JsonArray(new ArrayList<>(merged))).put("nextCursor", next);
    });
  }

  private static List<JsonObject> items(RowSet<Row> rows, String source) {
    List<JsonObject> items = new ArrayList<>();
    for (Row r : rows) {
      items.add(new JsonObject().put("id", r.getUUID("id").toString()).put("source", source)
          .put("action", r.getString("action")).put("userId", text(r.getUUID("user_id")))
          .put("actorId", text(r.getUUID("actor_id"))).put("ip", r.getString("ip"))
          .put("requestId", r.getString("request_id")).put("entityType", r.getString("entity_type"))
          .put("entityId", text(r.getUUID("entity_id"))).put("details", r.getJsonObject("details"))
          .put("createdAt", r.getOffsetDateTime("created_at").toInstant().toString()));
    }
    return items;
  }

  private static String text(UUID id) {
    return id == null ? null : id.toString();
  }

  private static Object[] decode(String cursor) {
    if (cursor == null) {
      return new Object[] {null, null};
    }
    try {
      String[] parts = new String(Base64.getUrlDecoder().decode(cursor), StandardCharsets.UTF_8).split("\\|");
      return new Object[] {OffsetDateTime.parse(parts[0]), UUID.fromString(parts[1])};
    } catch (RuntimeException e) {
      throw ApiException.validation("cursor", "is not a cursor this list gave");
    }
  }
}
