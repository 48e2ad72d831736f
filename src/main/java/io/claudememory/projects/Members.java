package io.claudememory.projects;

import io.claudememory.platform.http.ApiException;
import io.vertx.core.Future;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.pgclient.PgException;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.RowSet;
import io.vertx.sqlclient.Tuple;
import java.util.List;
import java.util.UUID;

/**
 * Members of a project (master {@code project_shares}): the owner adds, re-roles and removes them; members may list
 * them and may leave. Changes apply to the very next request, since {@link Access} reads shares every time.
 */
public final class Members {
  private final Pool master;
  private final Access access;

  public Members(Pool master, Access access) {
    this.master = master;
    this.access = access;
  }

  public Future<JsonObject> add(UUID caller, UUID projectId, String email, String role) {
    return access.project(caller, projectId).map(grant -> grant.requireOwner("manage its members"))
        .compose(grant -> master.preparedQuery(SharesSql.USER_BY_EMAIL).execute(Tuple.of(email)))
        .compose(users -> {
          if (users.size() == 0) {
            return Future.failedFuture(new ApiException(404, "Not Found", "No account has this email.",
                List.of(new ApiException.FieldError("email", "is not the email of an account")), null));
          }
          UUID member = users.iterator().next().getUUID("id");
          if (member.equals(caller)) {
            return Future.failedFuture(ApiException.validation("email", "is the owner's own email"));
          }
          return master.preparedQuery(SharesSql.INSERT).execute(Tuple.of(projectId, caller, member, role))
              .recover(err -> Future.failedFuture(err instanceof PgException pg
                  && "23505".equals(pg.getSqlState())
                  ? ApiException.conflict("This user is already a member; change their role instead.") : err));
        })
        .map(Members::single);
  }

  public Future<JsonArray> list(UUID caller, UUID projectId) {
    return access.project(caller, projectId)
        .compose(grant -> master.preparedQuery(SharesSql.LIST).execute(Tuple.of(projectId)))
        .map(rows -> {
          JsonArray members = new JsonArray();
          rows.forEach(row -> members.add(toJson(row)));
          return members;
        });
  }

  public Future<JsonObject> setRole(UUID caller, UUID projectId, UUID member, String role) {
    return access.project(caller, projectId).map(grant -> grant.requireOwner("manage its members"))
        .compose(grant -> master.preparedQuery(SharesSql.SET_ROLE).execute(Tuple.of(projectId, member, role)))
        .compose(rows -> rows.size() == 0 ? Future.failedFuture(ApiException.notFound("The member"))
            : Future.succeededFuture(single(rows)));
  }

  /** The owner removes a member, or a member leaves. */
  public Future<Void> remove(UUID caller, UUID projectId, UUID member) {
    return access.project(caller, projectId)
        .map(grant -> member.equals(caller) ? grant : grant.requireOwner("manage its members"))
        .compose(grant -> master.preparedQuery(SharesSql.DELETE).execute(Tuple.of(projectId, member)))
        .compose(rows -> rows.rowCount() == 0 ? Future.failedFuture(ApiException.notFound("The member"))
            : Future.<Void>succeededFuture());
  }

  private static JsonObject single(RowSet<Row> rows) {
    return toJson(rows.iterator().next());
  }

  private static JsonObject toJson(Row row) {
    return new JsonObject()
        .put("userId", row.getUUID("member_id").toString())
        .put("email", row.getString("email"))
        .put("name", row.getString("name"))
        .put("role", row.getString("role"))
        .put("createdAt", row.getOffsetDateTime("created_at").toInstant().toString());
  }
}
