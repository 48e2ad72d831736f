package io.claudememory.conversations;

import io.claudememory.audit.DataChanges;
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
import io.vertx.sqlclient.RowSet;
import io.vertx.sqlclient.Tuple;
import java.time.OffsetDateTime;
import java.util.Arrays;
import java.util.List;
import java.util.UUID;

/**
 * Conversations, in the caller's tenant or, for members of a shared project, in its owner's tenant (see
 * {@link Access}). Members with the editor role may create conversations in the project and change them; only the
 * owner deletes them or moves them between projects.
 */
public final class ConversationService {
  private final TenantPools tenants;
  private final Access access;
  private final DataChanges changes;

  public ConversationService(TenantPools tenants, Access access, DataChanges changes) {
    this.tenants = tenants;
    this.access = access;
    this.changes = changes;
  }

  /** A new conversation's fields. */
  public record NewConversation(String title, UUID projectId, String model, String systemPrompt, List<String> tags) {}

  /** Filters of a list; {@code after*} is the keyset of the last row of the previous page. */
  public record Filter(UUID projectId, Boolean archived, Boolean pinned, String tag, OffsetDateTime afterActivity,
      UUID afterId, int limit) {}

  /** Changed fields of a PATCH; a flag says whether its field was sent. */
  public record Changes(boolean setTitle, String title, boolean setTags, List<String> tags, boolean setPinned,
      Boolean pinned, boolean setArchived, Boolean archived, boolean setProject, UUID projectId,
      boolean setSystemPrompt, String systemPrompt, boolean setModel, String model) {}

  public record Page(JsonArray data, String nextCursor) {}

  public Future<JsonObject> create(UUID caller, NewConversation c) {
    Future<Grant> where = c.projectId() == null ? Future.succeededFuture(null)
        : access.project(caller, c.projectId()).map(Grant::requireWrite);
    UUID id = Ids.newId();
    return where.map(grant -> grant == null ? caller : grant.tenant()).compose(tenant -> tenants.withPool(tenant,
        pool -> changes.transaction(tenant, pool, conn -> conn.preparedQuery(ConversationsSql.INSERT)
            .execute(Tuple.of(id, c.projectId(), c.title(), c.model(), c.systemPrompt(),
                (c.tags() == null ? List.<String>of() : c.tags()).toArray(new String[0])))
            .map(rows -> toJson(rows.iterator().next()))
            .compose(created -> changes.record(conn, "conversation.created", "conversation", id, created)
                .map(created)))));
  }

  public Future<JsonObject> get(UUID caller, UUID id) {
    return LocatedConversation.find(tenants, access, caller, id).map(found -> toJson(found.row()));
  }

  /** Lists the caller's own conversations, or, filtered by a project shared with them, that project's. */
  public Future<Page> list(UUID caller, Filter f) {
    Future<UUID> tenant = f.projectId() == null ? Future.succeededFuture(caller)
        : access.project(caller, f.projectId()).map(Grant::tenant);
    return tenant.compose(t -> tenants.withPool(t, pool -> pool.preparedQuery(ConversationsSql.PAGE).execute(
        Tuple.of(f.projectId(), f.archived(), f.pinned(), f.tag(), f.afterActivity(), f.afterId(), f.limit() + 1))))
        .map(rows -> {
          JsonArray data = new JsonArray();
          String next = null;
          for (Row row : rows) {
            if (data.size() == f.limit()) {
              JsonObject last = data.getJsonObject(data.size() - 1);
              next = QueryParams.encodeCursor(new JsonArray().add(last.getString("lastActivityAt"))
                  .add(last.getString("id")));
              break;
            }
            data.add(toJson(row));
          }
          return new Page(data, next);
        });
  }

  public Future<JsonObject> update(UUID caller, UUID id, Changes c) {
    return access.conversation(caller, id).map(grant -> c.setProject()
            ? grant.requireOwner("move its conversations between projects") : grant.requireWrite())
        .compose(grant -> tenants.withPool(grant.tenant(), pool -> changes.transaction(grant.tenant(), pool, conn -> {
          Future<Void> projectExists = !c.setProject() || c.projectId() == null ? Future.succeededFuture()
              : conn.preparedQuery(ConversationsSql.PROJECT_EXISTS).execute(Tuple.of(c.projectId()))
                  .compose(rows -> rows.size() == 0 ? Future.failedFuture(ApiException.notFound("The project"))
                      : Future.<Void>succeededFuture());
          return projectExists.compose(ok -> conn.preparedQuery(ConversationsSql.UPDATE).execute(Tuple.from(
              Arrays.asList(id, c.setTitle(), c.title(), c.setTags(),
                  c.tags() == null ? new String[0] : c.tags().toArray(new String[0]), c.setPinned(),
                  Boolean.TRUE.equals(c.pinned()), c.setArchived(), Boolean.TRUE.equals(c.archived()),
                  c.setProject(), c.projectId(), c.setSystemPrompt(), c.systemPrompt(), c.setModel(), c.model()))))
              .compose(ConversationService::single)
              .compose(updated -> changes.record(conn, "conversation.updated", "conversation", id, updated)
                  .map(updated));
        })));
  }

  public Future<Void> delete(UUID caller, UUID id) {
    return access.conversation(caller, id).map(grant -> grant.requireOwner("delete its conversations"))
        .compose(grant -> tenants.withPool(grant.tenant(), pool -> changes.transaction(grant.tenant(), pool, conn ->
            conn.preparedQuery(ConversationsSql.DELETE).execute(Tuple.of(id))
                .compose(rows -> rows.rowCount() == 0 ? Future.failedFuture(ApiException.notFound("The conversation"))
                    : changes.record(conn, "conversation.deleted", "conversation", id,
                        new JsonObject().put("id", id.toString()))))))
        .mapEmpty();
  }

  static Future<JsonObject> single(RowSet<Row> rows) {
    return rows.size() == 0 ? Future.failedFuture(ApiException.notFound("The conversation"))
        : Future.succeededFuture(toJson(rows.iterator().next()));
  }

  static JsonObject toJson(Row row) {
    UUID project = row.getUUID("project_id");
    UUID leaf = row.getUUID("current_leaf_id");
    return new JsonObject()
        .put("id", row.getUUID("id").toString())
        .put("projectId", project == null ? null : project.toString())
        .put("title", row.getString("title"))
        .put("model", row.getString("model"))
        .put("systemPrompt", row.getString("system_prompt"))
        .put("tags", new JsonArray(List.of(row.getArrayOfStrings("tags"))))
        .put("pinned", row.getBoolean("pinned"))
        .put("archived", row.getBoolean("archived"))
        .put("messageCount", row.getInteger("message_count"))
        .put("lastSeq", row.getLong("last_seq"))
        .put("currentLeafId", leaf == null ? null : leaf.toString())
        .put("lastActivityAt", row.getOffsetDateTime("last_activity_at").toInstant().toString())
        .put("createdAt", row.getOffsetDateTime("created_at").toInstant().toString())
        .put("updatedAt", row.getOffsetDateTime("updated_at").toInstant().toString());
  }
}
