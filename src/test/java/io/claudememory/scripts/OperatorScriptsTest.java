package io.claudememory.scripts;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.claudememory.portability.DecryptExport;
import io.claudememory.portability.PortabilityTestAccess;
import io.claudememory.support.ApiClient.Reply;
import io.claudememory.support.TenantData;
import io.claudememory.support.TestServer;
import io.claudememory.support.Users;
import io.claudememory.support.Users.TestUser;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.jar.Attributes;
import java.util.jar.JarOutputStream;
import java.util.jar.Manifest;
import java.util.zip.ZipEntry;
import java.util.zip.ZipInputStream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

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
  @DisplayName("decrypt-export turns an encrypted export into the ZIP an unencrypted export gives, and a wrong "
      + "passphrase into a clear error, a non-zero exit and no file")
  void decryptExport(@TempDir Path dir) throws Exception {
    TestUser ann = Users.register(server.client());
    TenantData.seedAccount(TenantData.of(server, ann.id()));
    PortabilityTestAccess portability = new PortabilityTestAccess(server.client());
    JsonObject csv = new JsonObject().put("format", "csv");
    Buffer plain = portability.download(ann.accessToken(), portability.export(ann.accessToken(), csv)
        .getString("id"));
    Buffer sealed = portability.download(ann.accessToken(), portability.export(ann.accessToken(), csv.copy()
        .put("passphrase", "correct horse 42")).getString("id"));
    Path encrypted = Files.write(dir.resolve("export.zip.cmbx"), sealed.getBytes());
    Map<String, String> scriptEnv = new java.util.HashMap<>(Map.of("CMB_JAR", classpathJar(dir).toString(),
        "PATH", Path.of(System.getProperty("java.home"), "bin") + ":" + System.getenv("PATH")));

    scriptEnv.put("EXPORT_PASSPHRASE", "correct horse 42");
    ScriptRunner.Result decrypted = ScriptRunner.run(scriptEnv, "scripts/decrypt-export", encrypted.toString(),
        dir.resolve("export.zip").toString());
    assertEquals(0, decrypted.exit(), decrypted.output());
    assertEquals(entries(plain.getBytes()), entries(Files.readAllBytes(dir.resolve("export.zip"))),
        "the same files with the same content as the unencrypted export");

    scriptEnv.put("EXPORT_PASSPHRASE", "wrong passphrase");
    ScriptRunner.Result wrong = ScriptRunner.run(scriptEnv, "scripts/decrypt-export", encrypted.toString(),
        dir.resolve("wrong.zip").toString());
    assertNotEquals(0, wrong.exit());
    assertTrue(wrong.output().contains("decrypt-export: The passphrase is wrong or the file was altered."),
        wrong.output());
    assertFalse(Files.exists(dir.resolve("wrong.zip")) || Files.exists(dir.resolve("wrong.zip.partial")),
        "nothing is left behind");
  }

  /**
   * What the script runs as its jar ({@code CMB_JAR}): a jar holding only a manifest whose {@code Class-Path} is the
   * compiled classes, so the test runs the script itself without the shaded jar being built.
   */
  private static Path classpathJar(Path dir) throws Exception {
    Manifest manifest = new Manifest();
    manifest.getMainAttributes().put(Attributes.Name.MANIFEST_VERSION, "1.0");
    manifest.getMainAttributes().put(Attributes.Name.CLASS_PATH, Path.of(DecryptExport.class.getProtectionDomain()
        .getCodeSource().getLocation().toURI()).toUri().toString());
    Path jar = dir.resolve("classpath.jar");
    new JarOutputStream(Files.newOutputStream(jar), manifest).close();
    return jar;
  }

  private static Map<String, String> entries(byte[] zip) throws Exception {
    Map<String, String> files = new TreeMap<>();
    try (ZipInputStream in = new ZipInputStream(new ByteArrayInputStream(zip))) {
      for (ZipEntry e = in.getNextEntry(); e != null; e = in.getNextEntry()) {
        files.put(e.getName(), new String(in.readAllBytes(), StandardCharsets.UTF_8));
      }
    }
    return files;
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
