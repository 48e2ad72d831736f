package io.claudememory.database;

import io.claudememory.audit.SecurityAudit;
import io.claudememory.jobs.Jobs;
import io.claudememory.platform.crypto.SecretBox;
import io.claudememory.platform.db.DbTarget;
import io.claudememory.platform.db.TenantDirectory;
import io.claudememory.platform.http.ApiException;
import io.claudememory.platform.http.Ids;
import io.claudememory.platform.net.AddressGuard;
import io.vertx.core.Future;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.pgclient.PgException;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.Tuple;
import java.util.UUID;

/**
 * A user's databases: the managed one and those they bring. Passwords are sealed with the row id as context and
 * never leave this class (answers say {@code passwordSet}); every host is checked by the {@link AddressGuard} when
 * added, tested and connected to. Activation is a {@code database.copy} job ({@link DatabaseCopy}).
 */
public final class TenantDatabases {
  private final Pool master;
  private final SecretBox secrets;
  private final TenantDirectory directory;
  private final AddressGuard guard;
  private final Jobs jobs;
  private final SecurityAudit audit;
  private final ConnectionTester tester;

  public TenantDatabases(io.vertx.core.Vertx vertx, Pool master, SecretBox secrets, TenantDirectory directory,
      AddressGuard guard, Jobs jobs, SecurityAudit audit, int connectTimeoutMs) {
    this.master = master;
    this.secrets = secrets;
    this.directory = directory;
    this.guard = guard;
    this.jobs = jobs;
    this.audit = audit;
    this.tester = new ConnectionTester(vertx, connectTimeoutMs);
  }

  /** For {@link TenantDirectory}: an external database's settings with its host replaced by the checked address. */
  public static java.util.function.Function<DbTarget, Future<DbTarget>> pinnedBy(AddressGuard guard) {
    return target -> guard.check(target.host()).map(checked -> new DbTarget(checked.ip(), target.port(),
        target.database(), target.user(), target.password(), target.sslMode()));
  }

  public Future<JsonArray> list(UUID userId) {
    return master.preparedQuery(DatabaseSql.LIST).execute(Tuple.of(userId)).map(rows -> {
      JsonArray list = new JsonArray();
      rows.forEach(row -> list.add(toJson(row)));
      return list;
    });
  }

  Future<JsonObject> add(UUID userId, String name, ConnectionSpec spec, String hostField,
      SecurityAudit.Caller caller) {
    UUID id = Ids.newId();
    return checkHost(spec.host(), hostField)
        .compose(checked -> master.preparedQuery(DatabaseSql.INSERT).execute(Tuple.from(new Object[] {id, userId,
            name, spec.host(), spec.port(), spec.database(), spec.user(), secrets.seal(spec.password(), id.toString()),
            spec.sslMode().value})))
        .recover(err -> Future.failedFuture(err instanceof PgException pg && "23505".equals(pg.getSqlState())
            ? ApiException.validation("name", "is already the name of one of your databases") : err))
        .map(rows -> {
          audit.recordQuietly(master, userId, "database.added", caller, new JsonObject().put("databaseId",
              id.toString()).put("host", spec.host()));
          return toJson(rows.iterator().next());
        });
  }

  Future<JsonObject> test(ConnectionSpec spec, String hostField) {
    return checkHost(spec.host(), hostField).compose(checked -> tester.test(spec.toTarget(checked.ip())));
  }

  Future<JsonObject> testSaved(UUID userId, UUID id) {
    return find(userId, id).compose(row -> directory.connectTarget(row)
        .recover(err -> Future.failedFuture(refusal(err, "id")))
        .compose(tester::test));
  }

  /** Starts the switch to database {@code id}: a queued {@code database.copy} job. */
  Future<JsonObject> activate(UUID userId, UUID id, SecurityAudit.Caller caller) {
    return find(userId, id).compose(row -> {
      if (row.getBoolean("active")) {
        return Future.failedFuture(ApiException.conflict("This database is already the active one."));
      }
      JsonObject params = new JsonObject().put("targetId", id.toString()).put("ip", caller.ip())
          .put("requestId", caller.requestId());
      return jobs.insert(master, userId, DatabaseCopy.KIND, params)
          .recover(err -> Future.failedFuture(err instanceof PgException pg && "23505".equals(pg.getSqlState())
              ? ApiException.conflict("A database switch is already under way.") : err))
          .onSuccess(jobs::kick);
    });
  }

  Future<Void> remove(UUID userId, UUID id, SecurityAudit.Caller caller) {
    return find(userId, id).compose(row -> {
      if (row.getBoolean("active")) {
        return Future.failedFuture(ApiException.conflict(
            "This database is the active one; activate another before removing it."));
      }
      if ("managed".equals(row.getString("kind"))) {
        return Future.failedFuture(ApiException.conflict("The managed database cannot be removed."));
      }
      return master.preparedQuery(DatabaseSql.COPY_UNDER_WAY).execute(Tuple.of(userId, id.toString()))
          .compose(jobsUnderWay -> jobsUnderWay.size() > 0
              ? Future.failedFuture(ApiException.conflict("Data is being copied to this database."))
              : master.preparedQuery(DatabaseSql.DELETE).execute(Tuple.of(id, userId)))
          .compose(deleted -> deleted.rowCount() == 0
              ? Future.<Void>failedFuture(ApiException.conflict("This database became active meanwhile."))
              : Future.<Void>succeededFuture())
          .onSuccess(done -> audit.recordQuietly(master, userId, "database.removed", caller,
              new JsonObject().put("databaseId", id.toString())));
    });
  }

  /** The caller's database row; anyone else's is not found. */
  Future<Row> find(UUID userId, UUID id) {
    return master.preparedQuery(DatabaseSql.FIND).execute(Tuple.of(id, userId)).compose(rows -> rows.size() == 0
        ? Future.failedFuture(ApiException.notFound("The database")) : Future.succeededFuture(rows.iterator().next()));
  }

  private Future<AddressGuard.Checked> checkHost(String host, String field) {
    return guard.check(host).recover(err -> Future.failedFuture(refusal(err, field)));
  }

  private static Throwable refusal(Throwable err, String field) {
    return err instanceof AddressGuard.RefusedHostException ? ApiException.validation(field, err.getMessage()) : err;
  }

  private JsonObject toJson(Row row) {
    boolean managed = "managed".equals(row.getString("kind"));
    String password = secrets.open(row.getString("password_sealed"), row.getUUID("id").toString());
    return new JsonObject()
        .put("id", row.getUUID("id").toString())
        .put("name", row.getString("name"))
        .put("kind", row.getString("kind"))
        .put("host", managed ? null : row.getString("host"))
        .put("port", managed ? null : row.getInteger("port"))
        .put("database", row.getString("database"))
        .put("user", managed ? null : row.getString("username"))
        .put("ssl", !"disable".equals(row.getString("ssl_mode")))
        .put("passwordSet", password != null && !password.isEmpty())
        .put("active", row.getBoolean("active"))
        .put("schemaVersion", row.getInteger("schema_version"))
        .put("createdAt", row.getOffsetDateTime("created_at").toInstant().toString())
        .put("updatedAt", row.getOffsetDateTime("updated_at").toInstant().toString());
  }
}
