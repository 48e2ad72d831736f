package io.claudememory.claude;

import io.claudememory.audit.DataChanges;
import io.claudememory.realtime.RoomEvents;
import io.claudememory.platform.EventAddresses;
import io.claudememory.platform.db.TenantPools;
import io.vertx.core.Future;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Tuple;
import java.util.UUID;

/**
 * Where an answer ends: written once as the assistant child of its user message (next seq under the conversation's
 * row lock, which also makes it the current leaf), and announced to its room. Used by the generation that produced
 * it and, for an answer whose node died, by the node that noticed.
 */
final class Answers {
  private final RoomEvents events;
  private final DataChanges changes;
  private final TenantPools pools;

  Answers(TenantPools pools, RoomEvents events, DataChanges changes) {
    this.events = events;
    this.changes = changes;
    this.pools = pools;
  }

  /** Which answer: its tenant, conversation, the user message it answers and its own id. */
  record Ref(UUID tenant, UUID conversationId, UUID userMessageId, UUID assistantMessageId) {}

  /**
   * Writes the assistant message, with its {@code message.created} and {@code assistant.completed} webhook events and
   * audit row in the same transaction; the answer is the API's message shape.
   */
  Future<JsonObject> persist(Ref ref, String content, JsonArray blocks, String model, String stopReason,
      JsonObject usage) {
    return pools.withPool(ref.tenant(), pool -> changes.transaction(ref.tenant(), pool, conn ->
        conn.preparedQuery(ClaudeSql.NEXT_SEQ).execute(Tuple.of(ref.conversationId(), ref.assistantMessageId()))
            .compose(rows -> {
              if (rows.size() == 0) {
                return Future.failedFuture("the conversation no longer exists");
              }
              long seq = rows.iterator().next().getLong(0);
              Tuple values = Tuple.tuple().addValue(ref.assistantMessageId()).addValue(ref.conversationId())
                  .addValue(ref.userMessageId()).addValue(seq).addValue(content).addValue(blocks).addValue(model)
                  .addValue(stopReason).addValue(usage);
              return conn.preparedQuery(ClaudeSql.INSERT_ASSISTANT).execute(values).map(inserted ->
                  new JsonObject().put("id", ref.assistantMessageId().toString())
                      .put("conversationId", ref.conversationId().toString())
                      .put("parentId", ref.userMessageId().toString())
                      .put("seq", seq).put("role", "assistant").put("content", content).put("model", model)
                      .put("stopReason", stopReason).put("usage", usage)
                      .put("createdAt", inserted.iterator().next().getOffsetDateTime(0).toInstant().toString()));
            })
            .compose(message -> changes.record(conn, "message.created", "message", ref.assistantMessageId(), message)
                .compose(done -> changes.record(conn, "assistant.completed", "message", ref.assistantMessageId(),
                    message))
                .map(message))));
  }

  /** {@code assistant.done}, then {@code message.created}. */
  void announceDone(Ref ref, JsonObject message) {
    events.publishAssistant(ref.tenant(), ref.conversationId(), "assistant.done",
        new JsonObject().put("message_id", ref.assistantMessageId().toString()).put("message", message));
    announceCreated(ref, message);
  }

  void announceCreated(Ref ref, JsonObject message) {
    events.publishMessageCreated(ref.tenant(), ref.conversationId(), message, null);
  }

  /** {@code assistant.error}; {@code message} is the stored partial answer, or null when nothing was kept. */
  void announceError(Ref ref, String code, String reason, JsonObject message) {
    events.publishAssistant(ref.tenant(), ref.conversationId(), "assistant.error", new JsonObject()
        .put("message_id", ref.assistantMessageId().toString()).put("code", code).put("reason", reason)
        .put("partial", message != null).put("message", message));
  }
}
