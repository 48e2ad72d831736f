package io.claudememory.auth;

import io.claudememory.audit.SecurityAudit;
import io.claudememory.audit.SecurityAudit.Caller;
import io.claudememory.platform.db.TenantPools;
import io.claudememory.platform.http.ApiException;
import io.claudememory.platform.http.Ids;
import io.claudememory.tenancy.TenantProvisioner;
import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;
import io.vertx.pgclient.PgException;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.SqlClient;
import io.vertx.sqlclient.Tuple;
import java.util.Locale;
import java.util.UUID;

/**
 * Accounts: registration (user plus managed tenant database, all or nothing), login, refresh, logout, profile and
 * password change. Every answer that carries tokens has the shape {@code {user, accessToken, refreshToken,
 * expiresIn}}.
 */
public final class AccountService {
  private static final String WRONG_CREDENTIALS = "The email or password is wrong.";
  private final Pool master;
  private final PasswordHasher hasher;
  private final AccessTokens accessTokens;
  private final RefreshTokens refreshTokens;
  private final UserStates states;
  private final UserInvalidations invalidations;
  private final TenantProvisioner provisioner;
  private final SecurityAudit audit;

  /**
   * {@code invalidations} makes an ended sign-in (logout, reuse, password change) take effect on every node at once,
   * not when their cached {@link UserStates} expire.
   */
  public AccountService(Pool master, PasswordHasher hasher, AccessTokens accessTokens, UserStates states,
      UserInvalidations invalidations, TenantProvisioner provisioner, SecurityAudit audit, int refreshDays) {
    this.master = master;
    this.hasher = hasher;
    this.accessTokens = accessTokens;
    this.refreshTokens = new RefreshTokens(master, audit, refreshDays);
    this.states = states;
    this.invalidations = invalidations;
    this.provisioner = provisioner;
    this.audit = audit;
  }

  /** A validated registration request. */
  public record Registration(String email, String password, String name, String username) {}

  public Future<JsonObject> register(Registration r, Caller caller) {
    String emailKey = r.email().toLowerCase(Locale.ROOT);
    UUID userId = Ids.newId();
    UUID registryId = Ids.newId();
    return master.preparedQuery(AuthSql.EMAIL_TAKEN).execute(Tuple.of(emailKey)).compose(rows -> {
      if (rows.size() > 0) {
        return Future.failedFuture(emailTaken());
      }
      Future<String> hash = hasher.hash(r.password());
      Future<TenantProvisioner.ManagedDb> db = provisioner.create(userId, registryId);
      // join, not all: both have settled before anything is undone, so a database created beside a failed hash is
      // dropped too (a failed create has already dropped what it made)
      return Future.join(hash, db)
          .compose(ready -> master.withTransaction(conn -> insertAccount(conn, r, userId, hash.result(), db.result(),
              caller)))
          .recover(err -> (db.succeeded() ? provisioner.drop(db.result().name()) : Future.<Void>succeededFuture())
              .transform(ignored -> Future.failedFuture(uniqueness(err))));
    });
  }

  /** The user and its tenant database's registry row, in one transaction; answers the first token pair. */
  private Future<JsonObject> insertAccount(SqlClient conn, Registration r, UUID userId, String hash,
      TenantProvisioner.ManagedDb db, Caller caller) {
    return conn.preparedQuery(AuthSql.INSERT_USER)
        .execute(Tuple.of(userId, r.email(), r.email().toLowerCase(Locale.ROOT), r.username(), r.name(), hash))
        .compose(users -> conn.preparedQuery(AuthSql.INSERT_MANAGED_DB)
            .execute(Tuple.of(db.registryId(), userId, db.name(), db.sealedPassword(), provisioner.schemaVersion()))
            .compose(done -> audit.record(conn, userId, userId, "auth.register", caller, null))
            .compose(done -> tokens(conn, users.iterator().next(), 0, null)));
  }

  public Future<JsonObject> login(String email, String password, Caller caller) {
    return master.preparedQuery(AuthSql.LOGIN).execute(Tuple.of(email.toLowerCase(Locale.ROOT))).compose(rows -> {
      Row row = rows.size() == 0 ? null : rows.iterator().next();
      return hasher.verify(password, row == null ? null : row.getString("password_hash")).compose(ok -> {
        UUID userId = row == null ? null : row.getUUID("id");
        if (!ok || !row.getBoolean("active")) {
          audit.recordQuietly(master, userId, "auth.login_failed", caller,
              new JsonObject().put("reason", row == null ? "unknown email" : ok ? "inactive" : "wrong password"));
          return Future.failedFuture(ApiException.unauthorized(WRONG_CREDENTIALS));
        }
        audit.recordQuietly(master, userId, "auth.login", caller, null);
        return master.preparedQuery(AuthSql.USER_BY_ID).execute(Tuple.of(userId))
            .compose(users -> tokens(master, users.iterator().next(), null, null));
      });
    });
  }

  public Future<JsonObject> refresh(String token, Caller caller) {
    return refreshTokens.rotate(token, caller).compose(rotation -> {
      if (rotation != null && rotation.reused()) {
        // the family is revoked: its access tokens must stop working too, on every node
        return invalidations.changed(rotation.userId(), false).transform(done -> Future.failedFuture(
            ApiException.unauthorized("The refresh token is invalid, expired or revoked.")));
      }
      if (rotation == null) {
        return Future.failedFuture(ApiException.unauthorized("The refresh token is invalid, expired or revoked."));
      }
      return master.preparedQuery(AuthSql.USER_BY_ID).execute(Tuple.of(rotation.userId())).compose(users -> {
        if (users.size() == 0) {
          return Future.failedFuture(ApiException.unauthorized("The account no longer exists."));
        }
        return states.get(rotation.userId()).compose(state -> {
          if (state == null || !state.active()) {
            return Future.failedFuture(ApiException.unauthorized("The account is deactivated."));
          }
          return Future.succeededFuture(respond(users.iterator().next(), state.tokenVersion(),
              new RefreshTokens.Issued(rotation.token(), rotation.family())));
        });
      });
    });
  }

  /** Ends the sign-in of {@code refreshToken}: its refresh tokens and the access tokens issued with them. */
  public Future<Void> logout(String refreshToken) {
    return refreshTokens.revokeFamily(refreshToken).compose(userId -> userId == null ? Future.succeededFuture()
        : invalidations.changed(userId, false));
  }

  public Future<JsonObject> profile(UUID userId) {
    return master.preparedQuery(AuthSql.USER_BY_ID).execute(Tuple.of(userId)).compose(rows -> rows.size() == 0
        ? Future.failedFuture(ApiException.notFound("The account"))
        : Future.succeededFuture(Users.toJson(rows.iterator().next())));
  }

  /** Sets only the fields present: a null value clears name or username. */
  public Future<JsonObject> updateProfile(UUID userId, boolean setName, String name, boolean setUsername,
      String username) {
    return master.preparedQuery(AuthSql.UPDATE_PROFILE)
        .execute(Tuple.of(userId, setName, name, setUsername, username))
        .map(rows -> Users.toJson(rows.iterator().next()))
        .recover(err -> Future.failedFuture(uniqueness(err)));
  }

  /**
   * Changes the password after checking the current one. Every refresh token and every access token issued before
   * stops working; the answer carries a fresh pair so this client stays signed in.
   */
  public Future<JsonObject> changePassword(UUID userId, String current, String next, Caller caller) {
    return master.preparedQuery(AuthSql.PASSWORD_OF).execute(Tuple.of(userId)).compose(rows -> {
      if (rows.size() == 0) {
        return Future.failedFuture(ApiException.unauthorized("The account no longer exists."));
      }
      return hasher.verify(current, rows.iterator().next().getString("password_hash"));
    }).compose(ok -> {
      if (!ok) {
        audit.recordQuietly(master, userId, "auth.password_change_failed", caller, null);
        return Future.failedFuture(ApiException.validation("currentPassword", "is wrong"));
      }
      return hasher.hash(next);
    }).compose(hash -> master.withTransaction(conn -> conn.preparedQuery(AuthSql.SET_PASSWORD)
        .execute(Tuple.of(userId, hash))
        .compose(rows -> refreshTokens.revokeAll(conn, userId)
            .compose(done -> audit.record(conn, userId, userId, "auth.password_changed", caller, null))
            .compose(done -> conn.preparedQuery(AuthSql.USER_BY_ID).execute(Tuple.of(userId)))
            .compose(users -> tokens(conn, users.iterator().next(), rows.iterator().next().getInteger(0), null)))))
        .compose(pair -> invalidations.changed(userId, false).map(pair));
  }

  /** Issues an access token and a refresh token (new family) for a user row. */
  private Future<JsonObject> tokens(SqlClient client, Row user, Integer knownVersion, UUID family) {
    UUID userId = user.getUUID("id");
    Future<Integer> version = knownVersion != null ? Future.succeededFuture(knownVersion)
        : client.preparedQuery(AuthSql.TOKEN_VERSION).execute(Tuple.of(userId))
            .map(rows -> rows.iterator().next().getInteger("token_version"));
    return version.compose(v -> refreshTokens.issue(client, userId, family).map(refresh -> respond(user, v, refresh)));
  }

  private JsonObject respond(Row user, int tokenVersion, RefreshTokens.Issued refresh) {
    return new JsonObject()
        .put("user", Users.toJson(user))
        .put("accessToken", accessTokens.issue(user.getUUID("id"), tokenVersion, refresh.family()))
        .put("refreshToken", refresh.token())
        .put("expiresIn", accessTokens.expiresInSeconds());
  }

  private static ApiException emailTaken() {
    return new ApiException(409, "Conflict", "An account with this email already exists.",
        java.util.List.of(new ApiException.FieldError("email", "is already registered")), null);
  }

  /** Unique violations on users become field-level conflicts; anything else passes through. */
  private static Throwable uniqueness(Throwable err) {
    if (err instanceof PgException pg && "23505".equals(pg.getSqlState())) {
      String constraint = String.valueOf(pg.getConstraint());
      if (constraint.contains("username")) {
        return new ApiException(409, "Conflict", "This username is taken.",
            java.util.List.of(new ApiException.FieldError("username", "is already taken")), null);
      }
      if (constraint.contains("email")) {
        return emailTaken();
      }
    }
    return err;
  }
}
