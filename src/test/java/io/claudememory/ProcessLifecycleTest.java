package io.claudememory;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.claudememory.support.TestPorts;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

/**
 * The server as an operator runs it: a separate JVM started with {@code io.claudememory.Main} on the embedded default
 * (no DATABASE_URL), stopped with SIGTERM. Runs as root in CI, so the unprivileged PostgreSQL path is exercised.
 */
@DisplayName("The process: embedded default, restart on existing data, SIGTERM drain, clean failures")
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class ProcessLifecycleTest {
  static Path dataDir;
  static final int PG_PORT = TestPorts.free();
  static final String EMAIL = "process@example.com";
  static final String PASSWORD = "correct horse battery staple";
  static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();

  @BeforeAll
  static void dataDir() throws IOException {
    // PostgreSQL may run as 'nobody' here, which must be able to traverse to DATA_DIR.
    dataDir = Files.createTempDirectory("cmb-process");
    Files.setPosixFilePermissions(dataDir, PosixFilePermissions.fromString("rwxr-xr-x"));
  }

  @AfterAll
  static void cleanUp() throws IOException, InterruptedException {
    new ProcessBuilder("rm", "-rf", dataDir.toString()).start().waitFor(30, TimeUnit.SECONDS);
  }

  @Test
  @Order(1)
  @DisplayName("a bad setting stops start-up with one line naming it, exit code 2")
  void configurationError() throws Exception {
    Process process = launch(TestPorts.free(), Map.of("JWT_SECRET", "too-short"));
    assertTrue(process.waitFor(60, TimeUnit.SECONDS), "the process ends");
    assertEquals(2, process.exitValue());
    List<String> lines = new String(process.getErrorStream().readAllBytes(), StandardCharsets.UTF_8).lines()
        .filter(l -> !l.isBlank()).toList();
    assertEquals(List.of("Configuration error: JWT_SECRET must be at least 32 bytes"), lines);
  }

  @Test
  @Order(2)
  @DisplayName("first start initialises the embedded database; SIGTERM lets an in-flight request finish, exits 0 "
      + "and leaves no PostgreSQL behind")
  void firstStartAndDrain() throws Exception {
    int port = TestPorts.free();
    Process process = launch(port, Map.of());
    awaitReady(process, port);
    HttpResponse<String> registered = post(port, "/api/v1/auth/register",
        new JsonObject().put("email", EMAIL).put("password", PASSWORD));
    assertEquals(201, registered.statusCode(), registered.body());
    long postmaster = postmasterPid();
    if ("0".equals(run("id", "-u"))) {
      assertEquals(run("id", "-u", "nobody"), uidOf(postmaster), "PostgreSQL runs unprivileged when the JVM is root");
    }

    String body = new JsonObject().put("email", EMAIL).put("password", PASSWORD).encode();
    try (Socket socket = new Socket("127.0.0.1", port); Socket probe = new Socket("127.0.0.1", port)) {
      socket.setSoTimeout(30_000);
      probe.setSoTimeout(30_000);
      assertEquals("HTTP/1.1 200 OK", readiness(probe), "ready before SIGTERM");
      OutputStream out = socket.getOutputStream();
      out.write(("POST /api/v1/auth/login HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n"
          + "Content-Length: " + body.length() + "\r\n\r\n" + body.substring(0, 10)).getBytes(StandardCharsets.UTF_8));
      out.flush();
      awaitTrue(() -> activeRequests(port) >= 1, 10, "the server sees the request in flight");
      process.destroy();
      awaitTrue(() -> !canConnect(port), 10, "SIGTERM stops accepting new connections");
      // The drain closes idle keep-alive connections, so a balancer's open probe connection sees it end (or a 503).
      String probed = readinessOrClosed(probe);
      assertTrue(probed.isEmpty() || probed.startsWith("HTTP/1.1 503"),
          "after SIGTERM readiness is never 200, even on a connection opened before: " + probed);
      out.write(body.substring(10).getBytes(StandardCharsets.UTF_8));
      out.flush();
      String status = firstLine(socket.getInputStream());
      assertEquals("HTTP/1.1 200 OK", status, "the in-flight request completes during the drain");
    }
    assertTrue(process.waitFor(60, TimeUnit.SECONDS), "the process exits after draining");
    assertEquals(0, process.exitValue(), "SIGTERM is a clean exit");
    awaitTrue(() -> !alive(postmaster), 10, "the embedded PostgreSQL is stopped with the server");
  }

  @Test
  @Order(3)
  @DisplayName("a second start reuses the embedded database: the account is still there")
  void restartKeepsData() throws Exception {
    long initialised = Files.getLastModifiedTime(dataDir.resolve("pg/PG_VERSION")).toMillis();
    int port = TestPorts.free();
    Process process = launch(port, Map.of());
    awaitReady(process, port);
    HttpResponse<String> login = post(port, "/api/v1/auth/login",
        new JsonObject().put("email", EMAIL).put("password", PASSWORD));
    assertEquals(200, login.statusCode(), login.body());
    assertEquals(initialised, Files.getLastModifiedTime(dataDir.resolve("pg/PG_VERSION")).toMillis(),
        "initdb did not run again");
    long postmaster = postmasterPid();
    process.destroy();
    assertTrue(process.waitFor(60, TimeUnit.SECONDS));
    assertEquals(0, process.exitValue());
    awaitTrue(() -> !alive(postmaster), 10, "no PostgreSQL left after the second run");
  }

  @Test
  @Order(4)
  @DisplayName("a start that fails after the database started stops it again and exits 1")
  void failedStartLeavesNothing() throws Exception {
    try (ServerSocket taken = new ServerSocket(0)) {
      Process process = launch(taken.getLocalPort(), Map.of("CMB_HTTP_HOST", "0.0.0.0"));
      assertTrue(process.waitFor(120, TimeUnit.SECONDS), "the failed start ends the process");
      assertEquals(1, process.exitValue());
    }
    assertFalse(Files.exists(dataDir.resolve("pg/postmaster.pid")), "PostgreSQL was stopped: no postmaster.pid");
    assertTrue(run("sh", "-c", "ps -eo args | grep -F '" + dataDir + "' | grep -v grep || true").isEmpty(),
        "no process runs on the data directory");
  }

  private static Process launch(int port, Map<String, String> extra) throws IOException {
    String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
    ProcessBuilder builder = new ProcessBuilder(java, "-cp", System.getProperty("java.class.path"),
        "io.claudememory.Main");
    Map<String, String> env = builder.environment();
    List.of("DATABASE_URL", "MASTER_DATABASE_URL", "REDIS_URL", "APP_PROFILE", "NODE_ENV", "JWT_SECRET", "MASTER_KEY")
        .forEach(env::remove);
    env.put("PORT", Integer.toString(port));
    env.put("DATA_DIR", dataDir.toString());
    env.put("STORAGE_PATH", dataDir.resolve("storage").toString());
    env.put("CMB_DATABASE_EMBEDDED_PORT", Integer.toString(PG_PORT));
    env.put("CMB_AUTH_BCRYPT_COST", "4");
    env.put("CMB_HTTP_SHUTDOWN_GRACE_SECONDS", "10");
    env.putAll(extra);
    builder.redirectOutput(dataDir.resolve("server-" + port + ".log").toFile());
    return builder.start();
  }

  private static void awaitReady(Process process, int port) throws Exception {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(180);
    while (System.nanoTime() < deadline) {
      if (!process.isAlive()) {
        throw new AssertionError("the server exited with " + process.exitValue() + ": "
            + new String(process.getErrorStream().readAllBytes(), StandardCharsets.UTF_8));
      }
      try {
        if (HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/api/v1/health/readiness"))
            .build(), HttpResponse.BodyHandlers.ofString()).statusCode() == 200) {
          return;
        }
      } catch (IOException notYet) {
        // not listening yet
      }
      Thread.sleep(200);
    }
    process.destroyForcibly();
    throw new AssertionError("the server did not become ready in 180 s");
  }

  private static HttpResponse<String> post(int port, String path, JsonObject body) throws Exception {
    return HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
        .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(body.encode())).build(),
        HttpResponse.BodyHandlers.ofString());
  }

  private static double activeRequests(int port) {
    try {
      String metrics = HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port
          + "/api/v1/health/metrics")).build(), HttpResponse.BodyHandlers.ofString()).body();
      return metrics.lines().filter(l -> l.startsWith("vertx_http_server_active_requests"))
          .mapToDouble(l -> Double.parseDouble(l.substring(l.lastIndexOf(' ') + 1))).sum()
          - 1; // the scrape itself is active while it is answered
    } catch (Exception e) {
      return 0;
    }
  }

  private static boolean canConnect(int port) {
    try (Socket probe = new Socket("127.0.0.1", port)) {
      return true;
    } catch (IOException refused) {
      return false;
    }
  }

  private static long postmasterPid() throws IOException {
    return Long.parseLong(Files.readAllLines(dataDir.resolve("pg/postmaster.pid")).get(0).trim());
  }

  private static boolean alive(long pid) {
    try {
      // A zombie is gone for our purposes; /proc/<pid>/stat says Z for it.
      String stat = Files.readString(Path.of("/proc", Long.toString(pid), "stat"));
      return !stat.substring(stat.lastIndexOf(')') + 2).startsWith("Z");
    } catch (IOException gone) {
      return false;
    }
  }

  private static String uidOf(long pid) throws IOException {
    return Files.readAllLines(Path.of("/proc", Long.toString(pid), "status")).stream()
        .filter(l -> l.startsWith("Uid:")).findFirst().orElseThrow().split("\\s+")[1];
  }

  /** Asks for readiness on an open keep-alive connection; answers the status line, the body read and dropped. */
  private static String readiness(Socket socket) throws IOException {
    socket.getOutputStream().write("GET /api/v1/health/readiness HTTP/1.1\r\nHost: localhost\r\n\r\n"
        .getBytes(StandardCharsets.US_ASCII));
    socket.getOutputStream().flush();
    InputStream in = socket.getInputStream();
    String status = firstLine(in);
    int length = 0;
    for (String header = firstLine(in); !header.isEmpty(); header = firstLine(in)) {
      if (header.toLowerCase(java.util.Locale.ROOT).startsWith("content-length:")) {
        length = Integer.parseInt(header.substring(15).trim());
      }
    }
    in.readNBytes(length);
    return status;
  }

  /** {@link #readiness}, or an empty status when the server closed the connection instead. */
  private static String readinessOrClosed(Socket socket) {
    try {
      return readiness(socket);
    } catch (IOException closed) {
      return "";
    }
  }

  private static String firstLine(InputStream in) throws IOException {
    StringBuilder line = new StringBuilder();
    int c;
    while ((c = in.read()) != -1 && c != '\n') {
      if (c != '\r') {
        line.append((char) c);
      }
    }
    return line.toString();
  }

  private static String run(String... command) throws IOException, InterruptedException {
    Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
    p.waitFor(30, TimeUnit.SECONDS);
    return out;
  }

  private static void awaitTrue(BooleanSupplier condition, int seconds, String what) throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
    while (!condition.getAsBoolean()) {
      if (System.nanoTime() > deadline) {
        throw new AssertionError("not within " + seconds + " s: " + what);
      }
      Thread.sleep(50);
    }
  }
}
