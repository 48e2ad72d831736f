package io.claudememory.ops;

import io.claudememory.audit.SecurityAudit;
import io.claudememory.auth.UserInvalidations;
import io.claudememory.platform.http.ApiException;
import io.vertx.core.Future;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.Tuple;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.UUID;

/**
 * Administration of accounts: a cursor-paged list, and changes of role and status. Deactivating an account bumps
 * its token version and revokes its refresh tokens in the same transaction, then {@link UserInvalidations} makes
 * every node refuse its access tokens and API keys at once.
 */
public final class AdminUsers {
  static final String COLUMNS = "id, email, name, username, role, active, created_at";
  static final String PAGE = "SELECT " + COLUMNS
      + " FROM users WHERE ($1::uuid IS NULL OR id > $1) ORDER BY id LIMIT $2";
  static final String UPDATE = """
      UPDATE users SET role = COALESCE($2, role), active = COALESCE($3, active),
                       token_version = token_version + CASE WHEN $3 = false THEN 1 ELSE 0 END, updated_at = now()
      WHERE id = $1
      RETURNING""" + " " + COLUMNS;
  static final String REVOKE_REFRESH = """
      UPDATE refresh_tokens SET revoked_at = now() WHERE user_id = $1 AND revoked_at IS NULL""";
  private final Pool master;
  private final SecurityAudit audit;
  private final UserInvalidations invalidations;

  /** A page: users and the cursor of the next page (null on the last). */
  public record Page(JsonArray users, String nextCursor) {}

  /** A validated change; a null member is left as it is. */
  public record Change(String role, Boolean active) {}

  public AdminUsers(Pool master, SecurityAudit audit, UserInvalidations invalidations) {
    this.master = master;
    this.audit = audit;
    this.invalidations = invalidations;
  }

  public Future<Page> list(String cursor, int limit) {
    UUID after = cursor == null ? null : decodeCursor(cursor);
    return master.preparedQuery(PAGE).execute(Tuple.of(after, limit + 1)).map(rows -> {
      JsonArray users = new JsonArray();
      UUID last = null;
      for (Row row : rows) {
        if (users.size() == limit) {
          return new Page(users, encodeCursor(last));
        }
        users.add(toJson(row));
        last = row.getUUID("id");
      }
      return new Page(users, null);
    });
  }

  public Future<JsonObject> update(UUID adminId, UUID userId, Change change, SecurityAudit.Caller caller) {
    if (adminId.equals(userId)) {
      return Future.failedFuture(ApiException.conflict("Admins cannot change their own role or status."));
    }
    boolean deactivating = Boolean.FALSE.equals(change.active());
    return master.withTransaction(conn -> conn.preparedQuery(UPDATE)
        .execute(Tuple.of(userId, change.role(), change.active())).compose(rows -> {
          if (rows.size() == 0) {
            return Future.failedFuture(ApiException.notFound("The user"));
          }
          Future<?> revoked = deactivating
              ? conn.preparedQuery(REVOKE_REFRESH).execute(Tuple.of(userId)) : Future.succeededFuture();
          JsonObject details = new JsonObject().put("role", change.role()).put("active", change.active());
          return revoked.compose(done -> audit.record(conn, userId, adminId, "admin.user_updated", caller, details))
              .map(done -> toJson(rows.iterator().next()));
        }))
        .compose(user -> invalidations.changed(userId, deactivating).map(user));
  }

  static JsonObject toJson(Row row) {
    return new JsonObject()
        .put("id", row.getUUID("id").toString())
        .put("email", row.getString("email"))
        .put("name", row.getString("name"))
        .put("username", row.getString("username"))
        .put("role", row.getString("role"))
        .put("active", row.getBoolean("active"))
        .put("createdAt", row.getOffsetDateTime("created_at").toInstant().toString());
  }

  private static String encodeCursor(UUID last) {
    return Base64.getUrlEncoder().withoutPadding().encodeToString(last.toString().getBytes(StandardCharsets.UTF_8));
  }

  private static UUID decodeCursor(String cursor) {
    try {
      return UUID.fromString(new String(Base64.getUrlDecoder().decode(cursor), StandardCharsets.UTF_8));
    } catch (IllegalArgumentException e) {
      throw ApiException.validation("cursor", "is not a cursor this server returned");
    }
  }
}
