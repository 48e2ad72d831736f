package io.claudememory.realtime;

import io.claudememory.platform.db.TenantPools;
import io.vertx.core.Future;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.Tuple;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;

/** Reads persisted room events (messages, in seq order) back from the tenant database for replay and catch-up. */
public final class MessageHistory {
  private final TenantPools tenants;

  public MessageHistory(TenantPools tenants) {
    this.tenants = tenants;
  }

  /** The conversation's newest seq. */
  public Future<Long> lastSeq(RoomGrant room) {
    return tenants.withPool(room.tenant(), pool -> pool.preparedQuery(RealtimeSql.CONVERSATION_EXISTS)
        .execute(Tuple.of(room.conversation()))
        .map(rows -> rows.size() == 0 ? 0L : rows.iterator().next().getLong(0)));
  }

  /** Up to {@code limit} messages with seq greater than {@code afterSeq}, in seq order. */
  public Future<List<JsonObject>> after(RoomGrant room, long afterSeq, int limit) {
    return tenants.withPool(room.tenant(), pool -> pool.preparedQuery(RealtimeSql.MESSAGES_AFTER)
        .execute(Tuple.of(room.conversation(), afterSeq, limit))
        .map(rows -> {
          List<JsonObject> messages = new ArrayList<>(rows.size());
          rows.forEach(row -> messages.add(toJson(row)));
          return messages;
        }));
  }

  /** A message as DESIGN.md section 7 shapes it. */
  static JsonObject toJson(Row row) {
    JsonObject message = new JsonObject()
        .put("id", row.getUUID("id").toString())
        .put("conversationId", row.getUUID("conversation_id").toString())
        .put("parentId", row.getUUID("parent_id") == null ? null : row.getUUID("parent_id").toString())
        .put("seq", row.getLong("seq"))
        .put("role", row.getString("role"))
        .put("content", row.getString("content"))
        .put("createdAt", row.getOffsetDateTime("created_at").toInstant().toString());
    putIfPresent(message, "model", row.getString("model"));
    putIfPresent(message, "stopReason", row.getString("stop_reason"));
    Object usage = row.getValue("usage");
    if (usage instanceof JsonObject || usage instanceof JsonArray) {
      message.put("usage", usage);
    }
    return message;
  }

  static JsonObject userMessage(UUID id, UUID conversation, UUID parent, long seq, String content,
      OffsetDateTime createdAt) {
    return new JsonObject().put("id", id.toString()).put("conversationId", conversation.toString())
        .put("parentId", parent == null ? null : parent.toString()).put("seq", seq).put("role", "user")
        .put("content", content).put("createdAt", createdAt.toInstant().toString());
  }

  private static void putIfPresent(JsonObject json, String key, String value) {
    if (value != null) {
      json.put(key, value);
    }
  }
}
