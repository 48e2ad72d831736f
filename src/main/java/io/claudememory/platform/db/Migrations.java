package io.claudememory.platform.db;

import org.flywaydb.core.Flyway;
import org.flywaydb.core.api.output.MigrateResult;

/**
 * Flyway migrations for the master database ({@code db/master}) and for tenant databases ({@code db/tenant}).
 * Flyway is JDBC and blocks: call these only from a worker thread or from {@code main} before Vert.x serves.
 */
public final class Migrations {
  /** The newest {@code db/tenant/V<n>__*.sql}; a test checks it matches the files. */
  public static final int TENANT_SCHEMA_VERSION = 6;

  private Migrations() {}

  public static MigrateResult migrateMaster(DbTarget target) {
    return migrate(target, "classpath:db/master", java.util.Map.of());
  }

  /** {@code searchLanguage} (a PostgreSQL text-search configuration) is used only when the database is created. */
  public static MigrateResult migrateTenant(DbTarget target, String searchLanguage) {
    return migrate(target, "classpath:db/tenant", java.util.Map.of("searchLanguage", searchLanguage));
  }

  private static MigrateResult migrate(DbTarget target, String location, java.util.Map<String, String> placeholders) {
    return Flyway.configure()
        .dataSource(target.jdbcUrl(), target.user(), target.password())
        .locations(location)
        .placeholders(placeholders)
        .connectRetries(3)
        .load()
        .migrate();
  }
}
