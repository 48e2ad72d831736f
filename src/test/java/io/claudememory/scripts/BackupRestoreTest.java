package io.claudememory.scripts;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.claudememory.support.TestDatabase;
import io.claudememory.support.TestServer;
import io.claudememory.support.Users;
import io.claudememory.support.Users.TestUser;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.util.Comparator;
import java.util.Map;
import java.util.UUID;
import java.util.stream.Stream;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/**
 * scripts/backup and scripts/restore end to end against the test PostgreSQL: a node with two users writes data,
 * stops; the backup is taken; every database and role is dropped; the restore brings them back and a new node on the
 * restored data lets the users in and finds their data.
 */
@DisplayName("Backup and restore: the master and every tenant database, verified, round trip")
class BackupRestoreTest {

  @Test
  @DisplayName("a backup restored after everything was dropped serves the same accounts and tenant data")
  void roundTrip() throws Exception {
    Assumptions.assumeTrue(ScriptRunner.available("pg_dump") && ScriptRunner.available("pg_restore"),
        "SKIPPED: pg_dump/pg_restore not installed");
    TestDatabase.Scope scope = TestDatabase.create();
    Path work = Files.createTempDirectory("cmb-backup");
    Path backup = work.resolve("backup");
    TestServer node = TestServer.start(scope, Map.of());
    TestUser ann;
    UUID projectId = UUID.randomUUID();
    try {
      ann = Users.register(node.client());
      Users.register(node.client());
      try (Connection c = TestDatabase.connect(TestDatabase.server().withDatabase(tenantOf(scope, ann.id())));
           PreparedStatement s = c.prepareStatement("INSERT INTO projects (id, name) VALUES (?, 'kept')")) {
        s.setObject(1, projectId);
        s.executeUpdate();
      }
    } finally {
      node.stopNode();
    }
    Map<String, String> env = Map.of("DATABASE_URL", TestServer.uri(scope.master()));
    try {
      ScriptRunner.Result made = ScriptRunner.run(env, "scripts/backup", "--out", backup.toString());
      assertEquals(0, made.exit(), made.output());
      String manifest = Files.readString(backup.resolve("MANIFEST"));
      assertTrue(manifest.contains("tenant_databases: 2"), manifest);
      assertTrue(manifest.contains("roles: included"), manifest);

      Path damaged = work.resolve("damaged");
      copy(backup, damaged);
      Path someDump;
      try (Stream<Path> dumps = Files.list(damaged.resolve("tenants"))) {
        someDump = dumps.findFirst().orElseThrow();
      }
      byte[] bytes = Files.readAllBytes(someDump);
      bytes[bytes.length / 2] ^= 0x5a;
      Files.write(someDump, bytes);
      ScriptRunner.Result refused = ScriptRunner.run(env, "scripts/restore", "--from", damaged.toString(),
          "--verify-only");
      assertNotEquals(0, refused.exit(), "a damaged backup is refused: " + refused.output());
      assertTrue(refused.output().contains("checksum"), refused.output());
      assertEquals(0, ScriptRunner.run(env, "scripts/restore", "--from", backup.toString(), "--verify-only").exit());

      scope.drop();
      ScriptRunner.Result restored = ScriptRunner.run(env, "scripts/restore", "--from", backup.toString());
      assertEquals(0, restored.exit(), restored.output());

      try (TestServer again = TestServer.start(scope, Map.of())) {
        var login = again.client().post("/api/v1/auth/login", null,
            new JsonObject().put("email", ann.email()).put("password", Users.PASSWORD));
        assertEquals(200, login.status(), login.body());
        try (Connection c = TestDatabase.connect(TestDatabase.server().withDatabase(tenantOf(scope, ann.id())));
             PreparedStatement s = c.prepareStatement("SELECT name FROM projects WHERE id = ?")) {
          s.setObject(1, projectId);
          ResultSet rs = s.executeQuery();
          assertTrue(rs.next(), "the tenant's rows are back");
          assertEquals("kept", rs.getString(1));
        }
      }
    } finally {
      scope.drop();
      deleteTree(work);
    }
  }

  @Test
  @DisplayName("backup and restore explain themselves with --help and refuse to run without a database")
  void help() throws Exception {
    for (String script : new String[] {"scripts/backup", "scripts/restore"}) {
      ScriptRunner.Result help = ScriptRunner.run(Map.of(), script, "--help");
      assertEquals(0, help.exit());
      assertTrue(help.output().startsWith("Usage: " + script), help.output());
    }
    ScriptRunner.Result none = ScriptRunner.run(Map.of("DATABASE_URL", ""), "scripts/backup");
    assertEquals(2, none.exit(), none.output());
  }

  static String tenantOf(TestDatabase.Scope scope, UUID userId) throws Exception {
    try (Connection c = TestDatabase.connect(scope.master());
         PreparedStatement s = c.prepareStatement("SELECT database FROM tenant_databases WHERE user_id = ?")) {
      s.setObject(1, userId);
      ResultSet rs = s.executeQuery();
      rs.next();
      return rs.getString(1);
    }
  }

  static void copy(Path from, Path to) throws IOException {
    try (Stream<Path> all = Files.walk(from)) {
      for (Path p : (Iterable<Path>) all::iterator) {
        Path target = to.resolve(from.relativize(p).toString());
        if (Files.isDirectory(p)) {
          Files.createDirectories(target);
        } else {
          Files.copy(p, target);
        }
      }
    }
  }

  static void deleteTree(Path root) throws IOException {
    if (!Files.exists(root)) {
      return;
    }
    try (Stream<Path> all = Files.walk(root)) {
      all.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
    }
  }
}
