package io.claudememory;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.claudememory.support.TestPorts;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/**
 * The shaded jar as {@code ./scripts/run} starts it, with only its own classpath: a dependency that tests have but
 * the jar lacks fails here, not in production.
 */
@DisplayName("The packaged jar starts on the embedded default, serves, and stops cleanly")
class PackagedJarIT {

  @Test
  @DisplayName("java -jar: ready, registers an account, SIGTERM exits 0")
  void packagedJarRuns() throws Exception {
    Path jar = Path.of(System.getProperty("jar.path", "target/claude-memory-backend.jar"));
    assertTrue(Files.exists(jar), "the shaded jar was built: " + jar);
    Path dataDir = Files.createTempDirectory("cmb-jar");
    Files.setPosixFilePermissions(dataDir, PosixFilePermissions.fromString("rwxr-xr-x"));
    int port = TestPorts.free();
    ProcessBuilder builder = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
        "-jar", jar.toAbsolutePath().toString());
    List.of("DATABASE_URL", "MASTER_DATABASE_URL", "REDIS_URL", "APP_PROFILE", "NODE_ENV")
        .forEach(builder.environment()::remove);
    builder.environment().put("PORT", Integer.toString(port));
    builder.environment().put("DATA_DIR", dataDir.toString());
    builder.environment().put("STORAGE_PATH", dataDir.resolve("storage").toString());
    builder.environment().put("CMB_DATABASE_EMBEDDED_PORT", Integer.toString(TestPorts.free()));
    builder.environment().put("CMB_AUTH_BCRYPT_COST", "4");
    builder.redirectErrorStream(true).redirectOutput(dataDir.resolve("server.log").toFile());
    Process process = builder.start();
    try {
      HttpClient http = HttpClient.newHttpClient();
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(180);
      int status = 0;
      while (status != 200 && System.nanoTime() < deadline && process.isAlive()) {
        try {
          status = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port
              + "/api/v1/health/readiness")).build(), HttpResponse.BodyHandlers.discarding()).statusCode();
        } catch (java.io.IOException notYet) {
          Thread.sleep(200);
        }
      }
      assertEquals(200, status, () -> "ready; server log: " + read(dataDir.resolve("server.log")));
      HttpResponse<String> registered = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port
          + "/api/v1/auth/register")).header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers
          .ofString("{\"email\":\"jar@example.com\",\"password\":\"correct horse battery staple\"}")).build(),
          HttpResponse.BodyHandlers.ofString());
      assertEquals(201, registered.statusCode(), registered.body());
      process.destroy();
      assertTrue(process.waitFor(60, TimeUnit.SECONDS), "exits after SIGTERM");
      assertEquals(0, process.exitValue());
    } finally {
      process.destroyForcibly();
      new ProcessBuilder("rm", "-rf", dataDir.toString()).start().waitFor(30, TimeUnit.SECONDS);
    }
  }

  private static String read(Path log) {
    try {
      return Files.readString(log);
    } catch (java.io.IOException e) {
      return "(no log)";
    }
  }
}
