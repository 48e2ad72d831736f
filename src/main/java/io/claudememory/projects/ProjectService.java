package io.claudememory.projects;

import io.claudememory.audit.DataChanges;
import io.claudememory.platform.db.TenantPools;
import io.claudememory.platform.http.ApiException;
import io.claudememory.platform.http.Ids;
import io.claudememory.platform.http.QueryParams;
import io.vertx.core.Future;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.RowSet;
import io.vertx.sqlclient.Tuple;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;

/**
 * Projects: created in the caller's tenant; read, changed and deleted wherever {@link Access} finds them. A member
 * sees shared projects in their list, flagged with {@code role} and {@code ownerId}.
 */
public final class ProjectService {
  private final TenantPools tenants;
  private final Pool master;
  private final Access access;
  private final DataChanges changes;

  public ProjectService(TenantPools tenants, Pool master, Access access, DataChanges changes) {
    this.tenants = tenants;
    this.master = master;
    this.access = access;
    this.changes = changes;
  }

  /** Writable fields of a project; {@code set*} flags say which a PATCH touches. */
  public record Changes(boolean setName, String name, boolean setDescription, String description,
      boolean setInstructions, String instructions, boolean setArchived, Boolean archived) {}

  /** A page of projects and the cursor of the next one (null at the end). */
  public record Page(JsonArray data, String nextCursor) {}

  public Future<JsonObject> create(UUID caller, String name, String description, String instructions) {
    UUID id = Ids.newId();
    return tenants.withPool(caller, pool -> changes.transaction(caller, pool, conn -> conn
        .preparedQuery(ProjectsSql.INSERT).execute(Tuple.of(id, name, description, instructions))
        .map(rows -> toJson(rows.iterator().next(), caller, Role.OWNER))
        .compose(project -> changes.record(conn, "project.created", "project", id, project).map(project))));
  }

  public Future<JsonObject> get(UUID caller, UUID projectId) {
    return access.project(caller, projectId).compose(grant -> tenants.withPool(grant.tenant(), pool ->
        pool.preparedQuery(ProjectsSql.BY_ID).execute(Tuple.of(projectId)))
        .compose(rows -> single(rows, grant)));
  }

  public Future<JsonObject> update(UUID caller, UUID projectId, Changes c) {
    return access.project(caller, projectId).map(grant -> grant.requireOwner("change the project"))
        .compose(grant -> tenants.withPool(grant.tenant(), pool -> changes.transaction(grant.tenant(), pool, conn ->
            conn.preparedQuery(ProjectsSql.UPDATE).execute(Tuple.of(projectId, c.setName(), c.name(),
                    c.setDescription(), c.description(), c.setInstructions(), c.instructions(), c.setArchived(),
                    c.archived() != null && c.archived()))
                .compose(rows -> single(rows, grant))
                .compose(project -> changes.record(conn, "project.updated", "project", projectId, project)
                    .map(project)))));
  }

  /** Deletes a project; one with conversations only with {@code cascade} (they go with it). */
  public Future<Void> delete(UUID caller, UUID projectId, boolean cascade) {
    return access.project(caller, projectId).map(grant -> grant.requireOwner("delete the project"))
        .compose(grant -> tenants.withPool(grant.tenant(), pool -> changes.transaction(grant.tenant(), pool, conn ->
            conn.preparedQuery(ProjectsSql.LOCK).execute(Tuple.of(projectId))
                .compose(locked -> conn.preparedQuery(ProjectsSql.CONVERSATIONS_IN).execute(Tuple.of(projectId)))
                .compose(count -> {
                  long conversations = count.iterator().next().getLong(0);
                  if (conversations > 0 && !cascade) {
                    return Future.failedFuture(ApiException.conflict("The project has " + conversations
                        + " conversation(s); delete them first or send ?cascade=true to delete them with it."));
                  }
                  return conn.preparedQuery(ProjectsSql.DELETE).execute(Tuple.of(projectId))
                      .compose(deleted -> changes.record(conn, "project.deleted", "project", projectId,
                          new JsonObject().put("id", projectId.toString()).put("conversationsDeleted", conversations)));
                }))))
        .compose(deleted -> master.preparedQuery(SharesSql.DELETE_PROJECT).execute(Tuple.of(projectId, caller)))
        .mapEmpty();
  }

  /**
   * Own and shared projects, newest first. Both sources are read up to {@code limit + 1} past the cursor; when a
   * source has more, the page stops at its last row read, so no row of either source is ever skipped.
   */
  public Future<Page> list(UUID caller, UUID after, Boolean archived, int limit) {
    Future<RowSet<Row>> own = tenants.withPool(caller, pool -> pool.preparedQuery(ProjectsSql.PAGE)
        .execute(Tuple.of(after, archived, limit + 1)));
    Future<RowSet<Row>> shares = master.preparedQuery(SharesSql.SHARES_PAGE).execute(Tuple.of(caller, after,
        limit + 1));
    return Future.all(own, shares).compose(both -> sharedProjects(shares.result(), archived).map(shared -> {
      List<JsonObject> merged = new ArrayList<>();
      own.result().forEach(row -> merged.add(toJson(row, caller, Role.OWNER)));
      merged.addAll(shared);
      merged.sort(Comparator.comparing((JsonObject p) -> UUID.fromString(p.getString("id"))).reversed());
      UUID horizon = null;
      horizon = laterOf(horizon, own.result().size() > limit ? lastId(own.result(), "id") : null);
      horizon = laterOf(horizon, shares.result().size() > limit ? lastId(shares.result(), "project_id") : null);
      JsonArray data = new JsonArray();
      for (JsonObject project : merged) {
        UUID id = UUID.fromString(project.getString("id"));
        if (data.size() == limit || horizon != null && id.compareTo(horizon) < 0) {
          break;
        }
        data.add(project);
      }
      boolean more = horizon != null || merged.size() > data.size();
      String next = more && !data.isEmpty()
          ? QueryParams.encodeCursor(new JsonArray().add(data.getJsonObject(data.size() - 1).getString("id")))
          : more && horizon != null ? QueryParams.encodeCursor(new JsonArray().add(horizon.toString())) : null;
      return new Page(data, next);
    }));
  }

  private Future<List<JsonObject>> sharedProjects(RowSet<Row> shares, Boolean archived) {
    Map<UUID, Map<UUID, Role>> byOwner = new LinkedHashMap<>();
    shares.forEach(row -> byOwner.computeIfAbsent(row.getUUID("owner_id"), o -> new LinkedHashMap<>())
        .put(row.getUUID("project_id"), Role.ofShare(row.getString("role"))));
    List<Future<List<JsonObject>>> reads = new ArrayList<>();
    byOwner.forEach((owner, roles) -> reads.add(tenants.withPool(owner, pool -> pool.preparedQuery(ProjectsSql.BY_IDS)
        .execute(Tuple.of(roles.keySet().toArray(new UUID[0]))).map(rows -> {
          List<JsonObject> found = new ArrayList<>();
          rows.forEach(row -> {
            if (archived == null || archived == row.getBoolean("archived")) {
              found.add(toJson(row, owner, roles.get(row.getUUID("id"))));
            }
          });
          return found;
        }))));
    return Future.all(reads).map(all -> {
      List<JsonObject> projects = new ArrayList<>();
      reads.forEach(read -> projects.addAll(read.result()));
      return projects;
    });
  }

  private static UUID lastId(RowSet<Row> rows, String column) {
    UUID last = null;
    for (Row row : rows) {
      last = row.getUUID(column);
    }
    return last;
  }

  /** The later (larger) of two horizons: rows below either may hide unread rows of the other source. */
  private static UUID laterOf(UUID a, UUID b) {
    if (a == null) {
      return b;
    }
    return b == null || a.compareTo(b) >= 0 ? a : b;
  }

  private static Future<JsonObject> single(RowSet<Row> rows, Grant grant) {
    return rows.size() == 0 ? Future.failedFuture(ApiException.notFound("The project"))
        : Future.succeededFuture(toJson(rows.iterator().next(), grant.tenant(), grant.role()));
  }

  static JsonObject toJson(Row row, UUID owner, Role role) {
    return new JsonObject()
        .put("id", row.getUUID("id").toString())
        .put("name", row.getString("name"))
        .put("description", row.getString("description"))
        .put("instructions", row.getString("instructions"))
        .put("archived", row.getBoolean("archived"))
        .put("conversationCount", row.getLong("conversation_count"))
        .put("ownerId", owner.toString())
        .put("role", role.wire())
        .put("createdAt", row.getOffsetDateTime("created_at").toInstant().toString())
        .put("updatedAt", row.getOffsetDateTime("updated_at").toInstant().toString());
  }
}
