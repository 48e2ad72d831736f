package io.claudememory.auth;

import io.claudememory.audit.SecurityAudit;
import io.claudememory.platform.crypto.Tokens;
import io.claudememory.platform.http.Ids;
import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.SqlClient;
import io.vertx.sqlclient.Tuple;
import java.util.UUID;

/**
 * Refresh tokens after RFC 9700 §4.14: random, stored as SHA-256, rotated on every use. Each login starts a family;
 * presenting a token that was already rotated means it leaked (or the client replayed it), and since the server
 * cannot tell the thief from the owner, the whole family is revoked and the event audited.
 */
final class RefreshTokens {
  private final Pool master;
  private final SecurityAudit audit;
  private final int days;

  /** The outcome of a refresh: a new token for the user, or refusal (reused = a family was revoked). */
  record Rotation(UUID userId, String token, UUID family, boolean reused) {}

  /** A new refresh token and the family (the sign-in) it belongs to. */
  record Issued(String token, UUID family) {}

  RefreshTokens(Pool master, SecurityAudit audit, int days) {
    this.master = master;
    this.audit = audit;
    this.days = days;
  }

  /** Issues a token in {@code family} (a new family when null). */
  Future<Issued> issue(SqlClient client, UUID userId, UUID family) {
    String token = Tokens.random(32);
    UUID signIn = family == null ? Ids.newId() : family;
    return client.preparedQuery(AuthSql.INSERT_REFRESH)
        .execute(Tuple.of(Ids.newId(), userId, signIn, Tokens.sha256(token), days))
        .map(done -> new Issued(token, signIn));
  }

  /**
   * Finds, marks used and replaces a token in one transaction (the row lock makes concurrent uses of one token
   * count as reuse). Returns null for an unknown, expired or revoked token.
   */
  Future<Rotation> rotate(String token, SecurityAudit.Caller caller) {
    return master.withTransaction(conn -> conn.preparedQuery(AuthSql.REFRESH_FOR_UPDATE)
        .execute(Tuple.of(Tokens.sha256(token))).compose(rows -> {
          if (rows.size() == 0) {
            return Future.succeededFuture(null);
          }
          Row row = rows.iterator().next();
          UUID userId = row.getUUID("user_id");
          UUID family = row.getUUID("family_id");
          if (row.getValue("revoked_at") != null || row.getBoolean("expired")) {
            return Future.succeededFuture(null);
          }
          if (row.getValue("used_at") != null) {
            return conn.preparedQuery(AuthSql.REVOKE_FAMILY).execute(Tuple.of(family))
                .compose(done -> audit.record(conn, userId, null, "auth.refresh_reuse", caller,
                    new JsonObject().put("familyId", family.toString())))
                .map(done -> new Rotation(userId, null, family, true));
          }
          UUID successor = Ids.newId();
          String next = Tokens.random(32);
          return conn.preparedQuery(AuthSql.INSERT_REFRESH)
              .execute(Tuple.of(successor, userId, family, Tokens.sha256(next), days))
              .compose(done -> conn.preparedQuery(AuthSql.MARK_USED).execute(Tuple.of(row.getUUID("id"), successor)))
              .map(done -> new Rotation(userId, next, family, false));
        }));
  }

  /** Logout: revokes the family of {@code token} and answers its user; unknown tokens are ignored (null). */
  Future<UUID> revokeFamily(String token) {
    return master.preparedQuery(AuthSql.FAMILY_OF).execute(Tuple.of(Tokens.sha256(token))).compose(rows -> {
      if (rows.size() == 0) {
        return Future.succeededFuture(null);
      }
      Row row = rows.iterator().next();
      return master.preparedQuery(AuthSql.REVOKE_FAMILY).execute(Tuple.of(row.getUUID("family_id")))
          .map(done -> row.getUUID("user_id"));
    });
  }

  Future<Void> revokeAll(SqlClient client, UUID userId) {
    return client.preparedQuery(AuthSql.REVOKE_USER).execute(Tuple.of(userId)).mapEmpty();
  }
}
