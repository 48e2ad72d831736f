package io.claudememory.platform.db;

import io.claudememory.platform.crypto.SecretBox;
import io.claudememory.platform.http.ApiException;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.pgclient.SslMode;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.Tuple;
import java.util.UUID;
import java.util.function.Function;

/**
 * Finds a tenant's active database in the master registry and makes sure it is migrated to the current tenant schema
 * before anyone uses it. Managed databases live on the master's server; their password is sealed with MASTER_KEY.
 */
public final class TenantDirectory {
  static final String ACTIVE = """
      SELECT id, kind, host, port, database, username, password_sealed, ssl_mode, schema_version
      FROM tenant_databases WHERE user_id = $1 AND active""";
  static final String SET_VERSION = "UPDATE tenant_databases SET schema_version = $2, updated_at = now() WHERE id = $1";

  private final Vertx vertx;
  private final MasterDb master;
  private final SecretBox secrets;
  private final Function<DbTarget, Future<DbTarget>> pinExternal;
  private final String searchLanguage;

  /**
   * {@code pinExternal} checks the host of a user's own database and answers settings that connect to the checked
   * address (see {@code AddressGuard}); it runs before every connection to an external database.
   * {@code searchLanguage} is the text-search configuration a tenant database is created with.
   */
  public TenantDirectory(Vertx vertx, MasterDb master, SecretBox secrets,
      Function<DbTarget, Future<DbTarget>> pinExternal, String searchLanguage) {
    this.vertx = vertx;
    this.master = master;
    this.secrets = secrets;
    this.pinExternal = pinExternal;
    this.searchLanguage = searchLanguage;
  }

  /** Brings a tenant database to the current schema (blocking: Flyway; call on a worker). */
  public void migrate(DbTarget target) {
    Migrations.migrateTenant(target, searchLanguage);
  }

  /** A tenant database, ready to connect to. */
  public record TenantDb(UUID id, DbTarget target) {}

  public Future<TenantDb> activeDatabase(UUID tenant) {
    return master.pool().preparedQuery(ACTIVE).execute(Tuple.of(tenant)).compose(rows -> {
      if (rows.size() == 0) {
        return Future.failedFuture(ApiException.unavailable("Your account has no active database.", 5));
      }
      Row row = rows.iterator().next();
      return connectTarget(row).compose(target -> ready(row, new TenantDb(row.getUUID("id"), target)));
    });
  }

  /** Migrates the database to the current tenant schema first when its registry row says it is behind. */
  private Future<TenantDb> ready(Row row, TenantDb db) {
    if (row.getInteger("schema_version") >= Migrations.TENANT_SCHEMA_VERSION) {
      return Future.succeededFuture(db);
    }
    return vertx.executeBlocking(() -> {
      migrate(db.target());
      return null;
    }, false)
        .compose(done -> master.pool().preparedQuery(SET_VERSION)
            .execute(Tuple.of(db.id(), Migrations.TENANT_SCHEMA_VERSION)))
        .map(done -> db);
  }

  /** Settings to connect with: {@link #target} with an external host replaced by its checked address. */
  public Future<DbTarget> connectTarget(Row row) {
    DbTarget target = target(row);
    return "managed".equals(row.getString("kind")) ? Future.succeededFuture(target) : pinExternal.apply(target);
  }

  /** Connection settings of a registry row; the master's server for managed databases. */
  public DbTarget target(Row row) {
    String password = secrets.open(row.getString("password_sealed"), row.getUUID("id").toString());
    if ("managed".equals(row.getString("kind"))) {
      return master.target().withDatabase(row.getString("database")).withLogin(row.getString("username"), password);
    }
    return new DbTarget(row.getString("host"), row.getInteger("port"), row.getString("database"),
        row.getString("username"), password, SslMode.of(row.getString("ssl_mode")));
  }
}
