package io.claudememory.database;

import io.claudememory.audit.SecurityAudit;
import io.claudememory.database.TenantSchema.ForeignKey;
import io.claudememory.database.TenantSchema.Table;
import io.claudememory.jobs.JobContext;
import io.claudememory.jobs.JobFailure;
import io.claudememory.jobs.JobHandler;
import io.claudememory.platform.db.ClusterFreeze;
import io.claudememory.platform.db.DbTarget;
import io.claudememory.platform.db.Migrations;
import io.claudememory.platform.db.TenantDirectory;
import io.claudememory.platform.net.AddressGuard;
import io.claudememory.webhooks.Outbox;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.core.net.NetClientOptions;
import io.vertx.pgclient.PgBuilder;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.PoolOptions;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.Tuple;
import java.util.UUID;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The {@code database.copy} job: moves a tenant's data to another of their databases and makes it the active one,
 * losing nothing written meanwhile.
 *
 * <ol>
 *   <li>migrate the target to the current tenant schema; drop its foreign keys while it is being filled;</li>
 *   <li>bulk pass: every table synced from the source while the tenant keeps working ({@link TableSync});</li>
 *   <li>write freeze for this tenant only, on every node ({@link ClusterFreeze}: new work waits, work in flight
 *       drains);</li>
 *   <li>delta pass (only what changed since), sequences, foreign keys restored, row counts compared per table;</li>
 *   <li>every node confirms it still holds the freeze; {@code database.activated} is written into the target's
 *       webhook outbox; then, in one master transaction, the target becomes active and the activation is audited;
 *       every node retires the tenant's pool and opens its gate, so waiting work runs on the new database.</li>
 * </ol>
 * Every step is idempotent, so an interrupted job simply runs again; once the target is active it is done.
 */
public final class DatabaseCopy implements JobHandler {
  public static final String KIND = "database.copy";
  private static final Logger LOG = LoggerFactory.getLogger(DatabaseCopy.class);
  /** Work in flight normally takes milliseconds; a request still running after this fails the switch instead. */
  static final long DRAIN_MS = 10_000;

  private final Vertx vertx;
  private final Pool master;
  private final TenantDirectory directory;
  private final ClusterFreeze freezes;
  private final SecurityAudit audit;
  private final int connectTimeoutMs;

  public DatabaseCopy(Vertx vertx, Pool master, TenantDirectory directory, ClusterFreeze freezes, SecurityAudit audit,
      int connectTimeoutMs) {
    this.vertx = vertx;
    this.master = master;
    this.directory = directory;
    this.freezes = freezes;
    this.audit = audit;
    this.connectTimeoutMs = connectTimeoutMs;
  }

  @Override
  public String kind() {
    return KIND;
  }

  @Override
  public Future<JsonObject> run(JobContext ctx) {
    UUID tenant = ctx.userId();
    String targetId = ctx.params().getString("targetId");
    return master.preparedQuery(DatabaseSql.LIST).execute(Tuple.of(tenant)).compose(rows -> {
      Row source = null;
      Row target = null;
      for (Row row : rows) {
        source = row.getBoolean("active") ? row : source;
        target = row.getUUID("id").toString().equals(targetId) ? row : target;
      }
      if (target == null) {
        return Future.failedFuture(new JobFailure("The database was removed before the switch."));
      }
      if (target.getBoolean("active")) {
        return Future.succeededFuture(new JsonObject().put("databaseId", targetId).put("alreadyActive", true));
      }
      if (source == null) {
        return Future.failedFuture(new JobFailure("Your account has no active database to copy from."));
      }
      Row from = source;
      Row to = target;
      return connect(from).compose(sourceDb -> connect(to)
          .compose(targetDb -> copy(ctx, from, to, sourceDb, targetDb)));
    });
  }

  private Future<DbTarget> connect(Row row) {
    return directory.connectTarget(row).recover(err -> Future.failedFuture(
        err instanceof AddressGuard.RefusedHostException ? new JobFailure(err.getMessage()) : err));
  }

  private Future<JsonObject> copy(JobContext ctx, Row sourceRow, Row targetRow, DbTarget sourceDb, DbTarget targetDb) {
    UUID tenant = ctx.userId();
    LOG.info("tenant {}: copying data from database {} to {}", tenant, sourceRow.getUUID("id"),
        targetRow.getUUID("id"));
    return vertx.executeBlocking(() -> {
      directory.migrate(targetDb);
      return null;
    }, false)
        .recover(err -> {
          LOG.warn("tenant {}: migrating database {} failed: {}", tenant, targetRow.getUUID("id"), err.toString());
          return Future.failedFuture(new JobFailure(
              "The database could not be prepared: connecting to it or creating the tables failed."));
        })
        .compose(done -> ctx.progress(0.1, new JsonObject()))
        .compose(done -> {
          Pool source = pool(sourceDb);
          Pool target = pool(targetDb);
          return TenantSchema.read(target)
              .compose(schema -> dropForeignKeys(target, schema)
                  .compose(v -> pass(ctx, schema, source, target, 0.1, 0.8))
                  .compose(v -> frozen(tenant, freeze -> pass(ctx, schema, source, target, 0.8, 0.9)
                      .compose(v2 -> copySequences(source, target))
                      .compose(v2 -> restoreForeignKeys(target, schema))
                      .compose(v2 -> verify(schema, source, target))
                      .compose(counts -> ctx.progress(0.95, counts).map(counts))
                      .compose(counts -> freeze.confirm().map(counts))
                      .compose(counts -> recordActivated(ctx, sourceRow, targetRow, target).map(counts))
                      .compose(counts -> switchTo(ctx, sourceRow, targetRow, counts)))))
              .onSuccess(details -> Outbox.kick(vertx, tenant))
              .eventually(() -> Future.join(source.close(), target.close()));
        });
  }

  /** Runs {@code work} with the tenant's writes frozen on every node; the gates always open again. */
  private <T> Future<T> frozen(UUID tenant, java.util.function.Function<ClusterFreeze.Freeze, Future<T>> work) {
    return freezes.frozen(tenant, DRAIN_MS, work).recover(err -> Future.failedFuture(
        err instanceof ClusterFreeze.FreezeFailed ? new JobFailure(err.getMessage()) : err));
  }

  private Future<Void> pass(JobContext ctx, TenantSchema schema, Pool source, Pool target, double from, double to) {
    Future<JsonObject> chain = Future.succeededFuture(new JsonObject());
    int n = schema.tables().size();
    for (int i = 0; i < n; i++) {
      Table table = schema.tables().get(i);
      double progress = from + (to - from) * (i + 1) / Math.max(1, n);
      chain = chain.compose(counts -> {
        if (table.key().isEmpty()) {
          return Future.failedFuture(new JobFailure("Table " + table.name()
              + " has no primary key, so it cannot be copied safely."));
        }
        return new TableSync(table, source, target).run().compose(outcome -> outcome.conflicts() > 0
            ? Future.failedFuture(new JobFailure("Table " + table.name() + " could not be copied: its rows collide on"
                + " a unique key in the new database."))
            : ctx.progress(progress, counts.put(table.name(), outcome.rows())).map(counts));
      });
    }
    return chain.mapEmpty();
  }

  private Future<Void> dropForeignKeys(Pool target, TenantSchema schema) {
    Future<Void> chain = Future.succeededFuture();
    for (ForeignKey fk : schema.foreignKeys()) {
      chain = chain.compose(v -> target.query("ALTER TABLE " + TenantSchema.quote(fk.table())
          + " DROP CONSTRAINT IF EXISTS " + TenantSchema.quote(fk.name())).execute().mapEmpty());
    }
    return chain;
  }

  private Future<Void> restoreForeignKeys(Pool target, TenantSchema schema) {
    Future<Void> chain = Future.succeededFuture();
    for (ForeignKey fk : schema.foreignKeys()) {
      chain = chain.compose(v -> target.query("ALTER TABLE " + TenantSchema.quote(fk.table()) + " ADD CONSTRAINT "
          + TenantSchema.quote(fk.name()) + " " + fk.definition()).execute().mapEmpty());
    }
    return chain;
  }

  private Future<Void> copySequences(Pool source, Pool target) {
    return source.query("SELECT sequencename, last_value FROM pg_sequences WHERE schemaname = 'public' "
        + "AND last_value IS NOT NULL").execute().compose(rows -> {
          Future<Void> chain = Future.succeededFuture();
          for (Row row : rows) {
            chain = chain.compose(v -> target.preparedQuery("SELECT setval($1::regclass, $2)")
                .execute(Tuple.of(TenantSchema.quote(row.getString(0)), row.getLong(1))).mapEmpty());
          }
          return chain;
        });
  }

  /** Row counts per table, which must match on both sides. */
  private Future<JsonObject> verify(TenantSchema schema, Pool source, Pool target) {
    Future<JsonObject> chain = Future.succeededFuture(new JsonObject());
    for (Table table : schema.tables()) {
      chain = chain.compose(counts -> TableSync.count(source, table).compose(here -> TableSync.count(target, table)
          .compose(there -> here.equals(there) ? Future.succeededFuture(counts.put(table.name(), here))
              : Future.failedFuture(new JobFailure("The copy could not be verified: table " + table.name()
                  + " has " + here + " rows in the current database and " + there + " in the new one.")))));
    }
    return chain;
  }

  private Future<JsonObject> switchTo(JobContext ctx, Row sourceRow, Row targetRow, JsonObject counts) {
    UUID tenant = ctx.userId();
    UUID targetId = targetRow.getUUID("id");
    JsonObject details = new JsonObject().put("databaseId", targetId.toString())
        .put("previousDatabaseId", sourceRow.getUUID("id").toString()).put("kind", targetRow.getString("kind"))
        .put("jobId", ctx.jobId().toString()).put("counts", counts);
    SecurityAudit.Caller caller = new SecurityAudit.Caller(ctx.params().getString("ip"),
        ctx.params().getString("requestId"));
    return master.withTransaction(conn -> conn.preparedQuery(DatabaseSql.DEACTIVATE).execute(Tuple.of(tenant))
            .compose(v -> conn.preparedQuery(DatabaseSql.ACTIVATE)
                .execute(Tuple.of(targetId, tenant, Migrations.TENANT_SCHEMA_VERSION)))
            .compose(updated -> updated.rowCount() == 1 ? Future.succeededFuture()
                : Future.failedFuture(new JobFailure("The database was removed before the switch.")))
            .compose(v -> audit.record(conn, tenant, tenant, "database.activated", caller, details)))
        .map(v -> {
          // Every node's pool to the old database is retired as the freeze ends (ClusterFreeze).
          LOG.info("tenant {}: database {} is now active", tenant, targetId);
          return details;
        });
  }

  /**
   * Writes {@code database.activated} into the target's outbox, writes still frozen, just before the master
   * transaction that makes the target active. The switch and its event live in two databases, so they cannot share a
   * transaction; written first, the event is in the database that becomes active before it does, so a committed switch
   * always has it (delivered once the kick, or the deliverer's sweep, reaches the new database). A switch that does
   * not commit leaves it in a database that is not active, where nothing delivers it, and the next copy into that
   * database removes it (the target is made equal to the source). Its id comes from the job: a re-run adds none.
   */
  private Future<Void> recordActivated(JobContext ctx, Row sourceRow, Row targetRow, Pool target) {
    return Outbox.writeOnce(target, "database.activated", ctx.jobId(), new JsonObject()
        .put("databaseId", targetRow.getUUID("id").toString())
        .put("previousDatabaseId", sourceRow.getUUID("id").toString())).mapEmpty();
  }

  private Pool pool(DbTarget db) {
    return PgBuilder.pool()
        .with(new PoolOptions().setMaxSize(2).setConnectionTimeout(connectTimeoutMs)
            .setConnectionTimeoutUnit(java.util.concurrent.TimeUnit.MILLISECONDS))
        .with(new NetClientOptions().setConnectTimeout(connectTimeoutMs))
        .connectingTo(db.connectOptions())
        .using(vertx)
        .build();
  }
}
