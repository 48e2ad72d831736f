package io.claudememory.tenancy;

import io.claudememory.platform.crypto.SecretBox;
import io.claudememory.platform.crypto.Tokens;
import io.claudememory.platform.db.MasterDb;
import io.claudememory.platform.db.TenantDirectory;
import io.claudememory.platform.db.Migrations;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import java.util.UUID;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Creates a user's managed tenant database on the master's server: a login role and a database of the same name
 * ({@code <prefix><user id hex>}), owned by that role and closed to every other role, migrated to the current tenant
 * schema. Names are derived from the id and the password is random base64url, so nothing from a request is ever
 * spliced into these statements. {@link #drop} undoes it when registration fails later.
 */
public final class TenantProvisioner {
  private static final Logger LOG = LoggerFactory.getLogger(TenantProvisioner.class);
  private final Vertx vertx;
  private final MasterDb master;
  private final SecretBox secrets;
  private final String prefix;
  private final TenantDirectory directory;

  /** A created database, ready to be registered in {@code tenant_databases}. */
  public record ManagedDb(UUID registryId, String name, String sealedPassword) {}

  public TenantProvisioner(Vertx vertx, MasterDb master, SecretBox secrets, String prefix,
      TenantDirectory directory) {
    this.vertx = vertx;
    this.master = master;
    this.secrets = secrets;
    this.prefix = prefix;
    this.directory = directory;
  }

  public String databaseName(UUID userId) {
    return prefix + userId.toString().replace("-", "");
  }

  public Future<ManagedDb> create(UUID userId, UUID registryId) {
    String name = databaseName(userId);
    String password = Tokens.random(24);
    String quoted = '"' + name + '"';
    ManagedDb db = new ManagedDb(registryId, name, secrets.seal(password, registryId.toString()));
    return master.pool().query("CREATE ROLE " + quoted + " LOGIN PASSWORD '" + password + "'").execute()
        .compose(done -> master.pool().query("GRANT " + quoted + " TO CURRENT_USER").execute())
        .compose(done -> master.pool().query("CREATE DATABASE " + quoted + " OWNER " + quoted).execute())
        .compose(done -> master.pool().query("REVOKE ALL ON DATABASE " + quoted + " FROM PUBLIC").execute())
        .compose(done -> vertx.executeBlocking(() -> {
          directory.migrate(master.target().withDatabase(name).withLogin(name, password));
          return null;
        }, false))
        .map(done -> db)
        .recover(err -> drop(name).transform(ignored -> Future.failedFuture(err)));
  }

  /** Removes the database and its role; used to undo a failed registration. Succeeds when neither exists. */
  public Future<Void> drop(String name) {
    String quoted = '"' + name + '"';
    return master.pool().query("DROP DATABASE IF EXISTS " + quoted + " WITH (FORCE)").execute()
        .compose(done -> master.pool().query("DROP ROLE IF EXISTS " + quoted).execute())
        .onFailure(err -> LOG.error("could not remove tenant database {}: {}", name, err.getMessage()))
        .mapEmpty();
  }

  public int schemaVersion() {
    return Migrations.TENANT_SCHEMA_VERSION;
  }
}
