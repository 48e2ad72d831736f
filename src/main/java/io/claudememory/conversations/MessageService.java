package io.claudememory.conversations;

import io.claudememory.audit.DataChanges;
import io.claudememory.realtime.RoomEvents;
import io.claudememory.platform.db.TenantPools;
import io.claudememory.platform.http.ApiException;
import io.claudememory.platform.http.Ids;
import io.claudememory.platform.http.QueryParams;
import io.claudememory.projects.Access;
import io.claudememory.projects.Grant;
import io.vertx.core.Future;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.SqlClient;
import io.vertx.sqlclient.Tuple;
import java.util.HashSet;
import java.util.Set;
import java.util.UUID;

/**
 * Messages of a conversation, kept as a tree: each message has a parent (null for the first), so an edit in the
 * middle starts a branch and every branch stays intact.
 *
 * <p>Invariant: {@code seq} is unique and gap-free per conversation. It is allocated from
 * {@code conversations.last_seq} in the transaction that inserts the message, under the conversation's row lock, so
 * concurrent posts are serialised and a rolled-back post gives its number back. A parent always has a lower seq than
 * its children, so a branch read in seq order is read root to leaf.
 */
public final class MessageService {
  private final TenantPools tenants;
  private final Access access;
  private final DataChanges changes;
  private final RoomEvents events;

  public MessageService(TenantPools tenants, Access access, DataChanges changes, RoomEvents events) {
    this.tenants = tenants;
    this.access = access;
    this.changes = changes;
    this.events = events;
  }

  public record Page(JsonArray data, String nextCursor) {}

  /** Stores a message as the child of {@code parentId} (default: the current leaf) and makes it the current leaf. */
  public Future<JsonObject> post(UUID caller, UUID conversationId, String role, String content, UUID parentId) {
    return post(caller, conversationId, role, content, parentId, null);
  }

  /**
   * As {@link #post(UUID, UUID, String, String, UUID)}, then, once committed, announces {@code message.created} to the
   * room on every node; {@code clientId} is the WebSocket client's own id for the message, echoed in the event.
   */
  public Future<JsonObject> post(UUID caller, UUID conversationId, String role, String content, UUID parentId,
      String clientId) {
    UUID id = Ids.newId();
    return access.conversation(caller, conversationId).map(Grant::requireWrite)
        .compose(grant -> tenants.withPool(grant.tenant(), pool -> changes.transaction(grant.tenant(), pool, conn ->
            conn.preparedQuery(ConversationsSql.LOCK_CONVERSATION).execute(Tuple.of(conversationId))
                .compose(locked -> {
                  if (locked.size() == 0) {
                    return Future.failedFuture(ApiException.notFound("The conversation"));
                  }
                  if (parentId == null) {
                    return Future.succeededFuture(locked.iterator().next().getUUID("current_leaf_id"));
                  }
                  return conn.preparedQuery(ConversationsSql.MESSAGE_EXISTS).execute(Tuple.of(parentId,
                      conversationId)).compose(found -> found.size() == 0
                      ? Future.failedFuture(ApiException.validation("parentId",
                          "is not a message of this conversation"))
                      : Future.succeededFuture(parentId));
                })
                .compose(parent -> conn.preparedQuery(ConversationsSql.NEXT_SEQ).execute(Tuple.of(conversationId, id))
                    .compose(seq -> conn.preparedQuery(ConversationsSql.INSERT_MESSAGE).execute(Tuple.of(id,
                        conversationId, parent, seq.iterator().next().getLong("last_seq"), role, content))))
                .map(rows -> toJson(rows.iterator().next()))
                .compose(message -> changes.record(conn, "message.created", "message", id, message).map(message))))
            .onSuccess(message -> events.publishMessageCreated(grant.tenant(), conversationId, message, clientId)));
  }

  /** Whose database holds the conversation (the owner's, for a shared project), checking the caller may write. */
  public Future<UUID> writableTenant(UUID caller, UUID conversationId) {
    return access.conversation(caller, conversationId).map(Grant::requireWrite).map(Grant::tenant);
  }

  /** The branch ending at {@code leafId} (default: the current leaf), in seq order, after seq {@code afterSeq}. */
  public Future<Page> branch(UUID caller, UUID conversationId, UUID leafId, long afterSeq, int limit) {
    return LocatedConversation.find(tenants, access, caller, conversationId).compose(found ->
        tenants.withReads(found.tenant(), reads -> {
          Future<UUID> leaf = leafId != null
              ? reads.preparedQuery(ConversationsSql.MESSAGE_EXISTS).execute(Tuple.of(leafId, conversationId))
                  .compose(rows -> rows.size() == 0 ? Future.failedFuture(ApiException.notFound("The message"))
                      : Future.succeededFuture(leafId))
              : Future.succeededFuture(found.row().getUUID("current_leaf_id"));
          return leaf.compose(from -> from == null ? Future.succeededFuture(new Page(new JsonArray(), null))
              : readBranch(reads, found.row().getBoolean("branched"), conversationId, from, afterSeq, limit));
        }));
  }

  /**
   * A conversation read as linear stays linear up to the seq it had then: a later fork adds messages with higher seqs
   * than any before, beyond every page of a leaf read earlier.
   */
  private static Future<Page> readBranch(SqlClient reads, boolean branched, UUID conversationId, UUID leaf,
      long afterSeq, int limit) {
    return reads.preparedQuery(branched ? ConversationsSql.BRANCH_PAGE : ConversationsSql.LINEAR_PAGE)
        .execute(Tuple.of(conversationId, leaf, afterSeq,
        limit + 1)).map(rows -> {
          JsonArray data = new JsonArray();
          String next = null;
          for (Row row : rows) {
            if (data.size() == limit) {
              next = QueryParams.encodeCursor(new JsonArray().add(data.getJsonObject(limit - 1).getLong("seq")));
              break;
            }
            data.add(toJson(row));
          }
          return new Page(data, next);
        });
  }

  /** Makes {@code leafId} the conversation's current leaf: the branch clients show and new messages extend. */
  public Future<JsonObject> chooseLeaf(UUID caller, UUID conversationId, UUID leafId) {
    return access.conversation(caller, conversationId).map(Grant::requireWrite)
        .compose(grant -> tenants.withPool(grant.tenant(), pool -> pool.preparedQuery(ConversationsSql.SET_LEAF)
            .execute(Tuple.of(conversationId, leafId))))
        .compose(rows -> rows.size() == 0 ? Future.failedFuture(ApiException.validation("leafId",
            "is not a message of this conversation")) : ConversationService.single(rows));
  }

  /** Every message as a node (no content), the leaves, and the current leaf. */
  public Future<JsonObject> tree(UUID caller, UUID conversationId) {
    return access.conversation(caller, conversationId).compose(grant -> tenants.withPool(grant.tenant(), pool ->
        pool.preparedQuery(ConversationsSql.TREE).execute(Tuple.of(conversationId))
            .compose(nodes -> pool.preparedQuery(ConversationsSql.BY_ID).execute(Tuple.of(conversationId))
                .map(conversation -> {
                  JsonArray list = new JsonArray();
                  Set<UUID> parents = new HashSet<>();
                  nodes.forEach(row -> {
                    UUID parent = row.getUUID("parent_id");
                    if (parent != null) {
                      parents.add(parent);
                    }
                    list.add(new JsonObject().put("id", row.getUUID("id").toString())
                        .put("parentId", parent == null ? null : parent.toString())
                        .put("seq", row.getLong("seq"))
                        .put("role", row.getString("role"))
                        .put("createdAt", row.getOffsetDateTime("created_at").toInstant().toString()));
                  });
                  JsonArray leaves = new JsonArray();
                  nodes.forEach(row -> {
                    if (!parents.contains(row.getUUID("id"))) {
                      leaves.add(row.getUUID("id").toString());
                    }
                  });
                  UUID current = conversation.iterator().next().getUUID("current_leaf_id");
                  return new JsonObject().put("nodes", list).put("leaves", leaves)
                      .put("currentLeafId", current == null ? null : current.toString());
                }))));
  }

  static JsonObject toJson(Row row) {
    UUID parent = row.getUUID("parent_id");
    JsonObject message = new JsonObject()
        .put("id", row.getUUID("id").toString())
        .put("conversationId", row.getUUID("conversation_id").toString())
        .put("parentId", parent == null ? null : parent.toString())
        .put("seq", row.getLong("seq"))
        .put("role", row.getString("role"))
        .put("content", row.getString("content"));
    if (row.getString("model") != null) {
      message.put("model", row.getString("model"));
    }
    if (row.getString("stop_reason") != null) {
      message.put("stopReason", row.getString("stop_reason"));
    }
    Object usage = row.getValue("usage");
    if (usage != null) {
      message.put("usage", usage);
    }
    return message.put("createdAt", row.getOffsetDateTime("created_at").toInstant().toString());
  }
}
