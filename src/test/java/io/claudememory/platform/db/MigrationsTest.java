package io.claudememory.platform.db;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

@DisplayName("Migrations: the tenant schema version the registry records is the newest tenant migration")
class MigrationsTest {

  @Test
  @DisplayName("TENANT_SCHEMA_VERSION is the number of the newest db/tenant/V<n>__*.sql")
  void tenantVersionMatchesTheFiles() throws Exception {
    Path dir = Path.of(MigrationsTest.class.getResource("/db/tenant").toURI());
    try (Stream<Path> files = Files.list(dir)) {
      int newest = files.map(file -> file.getFileName().toString()).filter(name -> name.matches("V\\d+__.+\\.sql"))
          .mapToInt(name -> Integer.parseInt(name.substring(1, name.indexOf("__")))).max().orElseThrow();
      assertEquals(newest, Migrations.TENANT_SCHEMA_VERSION,
          "a new tenant migration must raise TENANT_SCHEMA_VERSION, or existing databases are never migrated to it");
    }
  }
}
