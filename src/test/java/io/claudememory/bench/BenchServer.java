package io.claudememory.bench;

import java.io.IOException;
import java.net.HttpURLConnection;
import java.net.ServerSocket;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

/**
 * The server under measurement as a real separate process: {@code java -jar target/claude-memory-backend.jar} with a
 * clean environment (only what the bench sets, so a stray DATABASE_URL in the caller's shell cannot change what is
 * measured), bound to 127.0.0.1, its output in a log file. Times are taken from just before the launch.
 */
final class BenchServer {
  /** Readiness is polled this often; it bounds the start-time resolution. */
  private static final long POLL_MS = 10;
  private final Process process;
  private final long launchedAt;
  private final int port;
  private final Path log;

  /** The rate limit every bucket gets on a bench server (see {@link #start}). */
  static final String RAISED_RATE_LIMIT = "1000000000";

  private BenchServer(Process process, long launchedAt, int port, Path log) {
    this.process = process;
    this.launchedAt = launchedAt;
    this.port = port;
    this.log = log;
  }

  /**
   * JVM options for every server a bench starts, from {@code BENCH_SERVER_JAVA_OPTS} ({@code {node}} becomes the
   * node's name), e.g. {@code -XX:StartFlightRecording=filename=/tmp/{node}.jfr,settings=profile} to profile it.
   */
  static List<String> extraJvmOptions(String node) {
    String extra = System.getenv("BENCH_SERVER_JAVA_OPTS");
    return extra == null || extra.isBlank() ? List.of()
        : List.of(extra.replace("{node}", node).trim().split("\\s+"));
  }

  /** Launches the jar with {@code env} added to a minimal base environment (PORT and host are set here). */
  static BenchServer launch(Path jar, Map<String, String> env, Path log) throws IOException {
    return launch(jar, List.of(), env, log);
  }

  /** As {@link #launch(Path, Map, Path)}, with JVM options such as GC or safepoint logging before {@code -jar}. */
  static BenchServer launch(Path jar, List<String> jvmOptions, Map<String, String> env, Path log)
      throws IOException {
    int port = freePort();
    Files.createDirectories(log.getParent());
    List<String> command = new ArrayList<>();
    command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    command.addAll(jvmOptions);
    command.addAll(extraJvmOptions(log.getFileName().toString().replaceFirst("\\.log$", "")));
    command.addAll(List.of("-jar", jar.toString()));
    ProcessBuilder pb = new ProcessBuilder(command)
        .redirectErrorStream(true)
        .redirectOutput(log.toFile());
    Map<String, String> environment = pb.environment();
    Map<String, String> keep = new LinkedHashMap<>();
    for (String name : List.of("PATH", "HOME", "LANG", "TMPDIR", "TZ")) {
      String value = System.getenv(name);
      if (value != null) {
        keep.put(name, value);
      }
    }
    environment.clear();
    environment.putAll(keep);
    environment.put("PORT", Integer.toString(port));
    environment.put("CMB_HTTP_HOST", "127.0.0.1");
    // A bench drives one address far past the production rate limits; they are raised so it measures the server.
    for (String bucket : List.of("ADDRESS", "PRINCIPAL", "MESSAGES", "AUTH", "JOBS")) {
      environment.put("CMB_RATE_LIMIT_" + bucket + "_LIMIT", RAISED_RATE_LIMIT);
    }
    environment.putAll(env);
    long launchedAt = System.nanoTime();
    return new BenchServer(pb.start(), launchedAt, port, log);
  }

  /**
   * Polls {@code /api/v1/health/readiness} until it answers 200 and returns the time since launch; fails when the
   * process dies or {@code limit} passes.
   */
  Duration awaitReady(Duration limit) throws Exception {
    long deadline = launchedAt + limit.toNanos();
    URI uri = URI.create(baseUrl() + "/api/v1/health/readiness");
    while (System.nanoTime() < deadline) {
      if (!process.isAlive()) {
        throw new IllegalStateException("server exited with " + process.exitValue() + " before ready; see " + log);
      }
      if (status(uri) == 200) {
        return Duration.ofNanos(System.nanoTime() - launchedAt);
      }
      Thread.sleep(POLL_MS);
    }
    throw new IllegalStateException("server not ready within " + limit + "; see " + log);
  }

  /** What SIGTERM led to: how long until the process was gone, and its exit code. */
  record Stop(Duration elapsed, int exitCode) {}

  /** Sends SIGTERM ({@link Process#destroy()} on Linux) and waits for the exit; kills it after {@code limit}. */
  Stop terminate(Duration limit) throws InterruptedException {
    long start = System.nanoTime();
    process.destroy();
    if (!process.waitFor(limit.toMillis(), TimeUnit.MILLISECONDS)) {
      process.destroyForcibly().waitFor();
      throw new IllegalStateException("server did not exit within " + limit + " of SIGTERM; killed. See " + log);
    }
    return new Stop(Duration.ofNanos(System.nanoTime() - start), process.exitValue());
  }

  /** For a failed run: make sure nothing outlives the bench. */
  void kill() {
    if (process.isAlive()) {
      process.destroyForcibly();
    }
  }

  /** CPU time the server process has used so far, every thread (10 ms resolution: the kernel's clock ticks). */
  Duration cpu() {
    return process.info().totalCpuDuration().orElseThrow();
  }

  String baseUrl() {
    return "http://127.0.0.1:" + port;
  }

  int port() {
    return port;
  }

  long pid() {
    return process.pid();
  }

  Path log() {
    return log;
  }

  /** The first line of {@code DATA_DIR/pg/postmaster.pid}: the embedded PostgreSQL's pid, when it runs. */
  static Optional<Long> postmasterPid(Path dataDir) {
    try {
      List<String> lines = Files.readAllLines(dataDir.resolve("pg").resolve("postmaster.pid"));
      return lines.isEmpty() ? Optional.empty() : Optional.of(Long.parseLong(lines.get(0).trim()));
    } catch (IOException | NumberFormatException e) {
      return Optional.empty();
    }
  }

  /**
   * Whether {@code pid} still runs, waiting up to 5 s for it to go. A zombie counts as gone: the postmaster is
   * reparented to PID 1, which may reap it late, and {@code ProcessHandle.isAlive} reports zombies as alive.
   */
  static boolean processAlive(long pid) {
    long deadline = System.nanoTime() + 5_000_000_000L;
    while (running(pid) && System.nanoTime() < deadline) {
      try {
        Thread.sleep(50);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        break;
      }
    }
    return running(pid);
  }

  private static boolean running(long pid) {
    try {
      String stat = Files.readString(Path.of("/proc", Long.toString(pid), "stat"));
      return !stat.substring(stat.lastIndexOf(')') + 2).startsWith("Z");
    } catch (IOException gone) {
      return false;
    }
  }

  static int freePort() throws IOException {
    try (ServerSocket socket = new ServerSocket(0)) {
      socket.setReuseAddress(true);
      return socket.getLocalPort();
    }
  }

  private static int status(URI uri) {
    try {
      HttpURLConnection c = (HttpURLConnection) uri.toURL().openConnection();
      c.setConnectTimeout(200);
      c.setReadTimeout(2000);
      try {
        return c.getResponseCode();
      } finally {
        c.disconnect();
      }
    } catch (IOException e) {
      return -1;
    }
  }
}
