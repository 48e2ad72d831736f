package io.claudememory.scripts;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.claudememory.support.ApiClient.Reply;
import io.claudememory.support.TestServer;
import io.claudememory.support.Users;
import io.claudememory.support.Users.TestUser;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

@DisplayName("Operator scripts: --help everywhere, create-admin, api-key and seed against a running node")
class OperatorScriptsTest {
  static TestServer server;
  static Map<String, String> env;

  @BeforeAll
  static void start() {
    server = TestServer.start();
    env = Map.of("API_URL", "http://127.0.0.1:" + server.port(), "DATABASE_URL", TestServer.uri(server.master()));
  }

  @AfterAll
  static void stop() {
    server.close();
  }

  static void assumeTools() {
    Assumptions.assumeTrue(ScriptRunner.available("curl") && ScriptRunner.available("jq")
        && ScriptRunner.available("psql"), "SKIPPED: curl, jq or psql not installed");
  }

  @Test
  @DisplayName("every script answers --help with its usage and exit 0")
  void help() throws Exception {
    for (String script : List.of("run", "test", "backup", "restore", "create-admin", "api-key", "seed",
        "bench/ratelimit")) {
      ScriptRunner.Result help = ScriptRunner.run(Map.of(), "scripts/" + script, "--help");
      assertEquals(0, help.exit(), script + ": " + help.output());
      assertTrue(help.output().startsWith("Usage: scripts/" + script), script + ": " + help.output());
    }
  }

  @Test
  @DisplayName("create-admin registers a missing account and makes it admin; an existing one is promoted")
  void createAdmin() throws Exception {
    assumeTools();
    Map<String, String> withPassword = new java.util.HashMap<>(env);
    withPassword.put("ADMIN_PASSWORD", Users.PASSWORD);
    ScriptRunner.Result made = ScriptRunner.run(withPassword, "scripts/create-admin", "--email", "ops@example.com");
    assertEquals(0, made.exit(), made.output());
    String token = server.client().post("/api/v1/auth/login", null, new io.vertx.core.json.JsonObject()
        .put("email", "ops@example.com").put("password", Users.PASSWORD)).data().getString("accessToken");
    assertEquals("admin", server.client().get("/api/v1/auth/profile", token).data().getString("role"));

    TestUser existing = Users.register(server.client());
    ScriptRunner.Result promoted = ScriptRunner.run(env, "scripts/create-admin", "--email", existing.email());
    assertEquals(0, promoted.exit(), promoted.output());
    assertEquals("admin", server.client().get("/api/v1/auth/profile", existing.accessToken()).data()
        .getString("role"));
  }

  @Test
  @DisplayName("api-key prints a working key for the user")
  void apiKey() throws Exception {
    assumeTools();
    TestUser ann = Users.register(server.client());
    Map<String, String> withPassword = new java.util.HashMap<>(env);
    withPassword.put("CMB_PASSWORD", Users.PASSWORD);
    ScriptRunner.Result made = ScriptRunner.run(withPassword, "scripts/api-key", "--email", ann.email(), "--name",
        "ci", "--expires-days", "30");
    assertEquals(0, made.exit(), made.output());
    String key = made.output().lines().reduce((a, b) -> b).orElseThrow().trim();
    Reply profile = server.client().get("/api/v1/auth/profile", key);
    assertEquals(200, profile.status(), "the printed key authenticates: " + made.output());
    assertEquals(ann.id().toString(), profile.data().getString("id"));
    ScriptRunner.Result wrong = ScriptRunner.run(Map.of("API_URL", env.get("API_URL"), "CMB_PASSWORD", "nope"),
        "scripts/api-key", "--email", ann.email(), "--name", "x");
    assertNotEquals(0, wrong.exit());
    assertTrue(wrong.output().contains("401"), wrong.output());
  }

  @Test
  @DisplayName("seed fills the server through the API, or names the route that is missing")
  void seed() throws Exception {
    assumeTools();
    ScriptRunner.Result seeded = ScriptRunner.run(env, "scripts/seed", "--users", "1", "--projects", "1",
        "--conversations", "1", "--messages", "2");
    boolean dataRoutes = server.client().post("/api/v1/projects", Users.register(server.client()).accessToken(),
        new io.vertx.core.json.JsonObject().put("name", "probe")).status() != 404;
    if (dataRoutes) {
      assertEquals(0, seeded.exit(), seeded.output());
    } else {
      assertNotEquals(0, seeded.exit());
      assertTrue(seeded.output().contains("POST /api/v1/projects: the route is missing"), seeded.output());
    }
  }
}
