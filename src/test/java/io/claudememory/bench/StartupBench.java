package io.claudememory.bench;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * Start-up and shutdown of the packaged server as a separate process. Per round: a cold start on the embedded default
 * (a fresh DATA_DIR, so unpacking the PostgreSQL binaries and initdb are included), a warm start on the same DATA_DIR,
 * and a start against an external PostgreSQL with a fresh database. Each is timed from launch to readiness 200, then
 * from SIGTERM to exit, with the exit code and (embedded) whether the postmaster is gone. Run by
 * {@code scripts/bench/startup}.
 */
public final class StartupBench {
  private static final Duration READY_LIMIT = Duration.ofMinutes(3);
  private static final Duration EXIT_LIMIT = Duration.ofMinutes(1);
  /** The embedded launcher's log lines that carry a phase's duration, e.g. "initialised in ... (953 ms)". */
  private static final Map<String, Pattern> PHASES = Map.of(
      "unpackMs", Pattern.compile("unpacked PostgreSQL binaries .*\\((\\d+) ms\\)"),
      "initdbMs", Pattern.compile("embedded PostgreSQL .* initialised .*\\((\\d+) ms\\)"),
      "postgresStartMs", Pattern.compile("embedded PostgreSQL started .*\\((\\d+) ms\\)"),
      "postgresStopMs", Pattern.compile("embedded PostgreSQL stopped \\((\\d+) ms\\)"));

  private final Path jar;
  private final Path logs;

  private StartupBench(Path jar, Path logs) {
    this.jar = jar;
    this.logs = logs;
  }

  public static void main(String[] argv) throws Exception {
    BenchArgs args = new BenchArgs(argv);
    Path results = Path.of(args.text("results", "bench-results"));
    int rounds = args.number("rounds", 3);
    String adminUrl = args.text("admin-url", "postgresql://postgres@127.0.0.1:5432/postgres");
    boolean external = !args.flag("skip-external");
    StartupBench bench = new StartupBench(Path.of(args.text("jar", "target/claude-memory-backend.jar")),
        results.resolve("logs"));
    double loadAtStart = loadAverage();

    JsonArray cold = new JsonArray();
    JsonArray warm = new JsonArray();
    JsonArray ext = new JsonArray();
    for (int round = 1; round <= rounds; round++) {
      Path dataDir = tempDir("cmb-bench-startup-");
      try {
        cold.add(bench.embedded("cold", round, dataDir));
        warm.add(bench.embedded("warm", round, dataDir));
      } finally {
        deleteTree(dataDir);
      }
      if (external) {
        ext.add(bench.external(round, adminUrl));
      }
    }

    JsonObject out = new JsonObject()
        .put("bench", "startup")
        .put("rounds", rounds)
        .put("loadAverageAtStart", loadAtStart)
        .put("cold", summary(cold))
        .put("warm", summary(warm));
    if (external) {
      out.put("external", summary(ext));
    }
    Path file = BenchResults.write(results, "startup", out);
    System.out.println();
    System.out.println("startup bench (" + rounds + " rounds, " + Runtime.getRuntime().availableProcessors()
        + " cores, load average " + loadAtStart + " at start)");
    print("cold (embedded, fresh DATA_DIR)", out.getJsonObject("cold"));
    print("warm (embedded, same DATA_DIR) ", out.getJsonObject("warm"));
    if (external) {
      print("external PostgreSQL           ", out.getJsonObject("external"));
    }
    System.out.println("results: " + file + "   server logs: " + bench.logs);
    boolean clean = Stream.of("cold", "warm", "external").map(out::getJsonObject).filter(o -> o != null)
        .allMatch(o -> o.getBoolean("allExitedZero") && o.getBoolean("allPostgresGone", true));
    if (!clean) {
      System.out.println("FAILED: a run did not exit 0 or left its PostgreSQL running");
      System.exit(1);
    }
  }

  private JsonObject embedded(String kind, int round, Path dataDir) throws Exception {
    Map<String, String> env = new HashMap<>();
    env.put("DATA_DIR", dataDir.toString());
    env.put("STORAGE_PATH", dataDir.resolve("storage").toString());
    env.put("CMB_DATABASE_EMBEDDED_PORT", Integer.toString(BenchServer.freePort()));
    BenchServer server = BenchServer.launch(jar, env, logs.resolve("startup-" + kind + "-" + round + ".log"));
    try {
      Duration ready = server.awaitReady(READY_LIMIT);
      Optional<Long> postmaster = BenchServer.postmasterPid(dataDir);
      BenchServer.Stop stop = server.terminate(EXIT_LIMIT);
      boolean gone = postmaster.map(pid -> !BenchServer.processAlive(pid)).orElse(false)
          && !Files.exists(dataDir.resolve("pg").resolve("postmaster.pid"));
      JsonObject run = run(round, ready, stop, server).put("postmasterPid", postmaster.orElse(null))
          .put("postgresGone", gone);
      System.out.printf("%-8s round %d: ready %6.0f ms, SIGTERM->exit %5.0f ms, exit %d, postgres gone: %s %s%n",
          kind, round, millis(ready), millis(stop.elapsed()), stop.exitCode(), gone, run.getJsonObject("phases"));
      return run;
    } finally {
      server.kill();
    }
  }

  private JsonObject external(int round, String adminUrl) throws Exception {
    BenchDatabase db = BenchDatabase.create(adminUrl);
    Path dataDir = tempDir("cmb-bench-startup-ext-");
    try {
      Map<String, String> env = new HashMap<>();
      env.put("DATABASE_URL", db.url());
      env.put("CMB_DATABASE_TENANT_PREFIX", db.tenantPrefix());
      env.put("DATA_DIR", dataDir.toString());
      env.put("STORAGE_PATH", dataDir.resolve("storage").toString());
      BenchServer server = BenchServer.launch(jar, env, logs.resolve("startup-external-" + round + ".log"));
      try {
        Duration ready = server.awaitReady(READY_LIMIT);
        BenchServer.Stop stop = server.terminate(EXIT_LIMIT);
        System.out.printf("%-8s round %d: ready %6.0f ms, SIGTERM->exit %5.0f ms, exit %d (database %s)%n",
            "external", round, millis(ready), millis(stop.elapsed()), stop.exitCode(), db.name());
        return run(round, ready, stop, server).put("database", db.name());
      } finally {
        server.kill();
      }
    } finally {
      db.drop();
      deleteTree(dataDir);
    }
  }

  private static JsonObject run(int round, Duration ready, BenchServer.Stop stop, BenchServer server)
      throws IOException {
    JsonObject phases = new JsonObject();
    String log = Files.readString(server.log());
    PHASES.forEach((name, pattern) -> {
      Matcher m = pattern.matcher(log);
      if (m.find()) {
        phases.put(name, Long.parseLong(m.group(1)));
      }
    });
    JsonArray blocked = new JsonArray();
    log.lines().filter(line -> line.contains("has been blocked for")).forEach(blocked::add);
    return new JsonObject()
        .put("round", round)
        .put("blockedThreadWarnings", blocked)
        .put("readyMs", millis(ready))
        .put("sigtermToExitMs", millis(stop.elapsed()))
        .put("exitCode", stop.exitCode())
        .put("phases", phases)
        .put("log", server.log().toString());
  }

  /** Min, median and max of the start and stop times, plus whether every run exited 0 and stopped its PostgreSQL. */
  private static JsonObject summary(JsonArray runs) {
    JsonObject s = new JsonObject()
        .put("readyMs", stats(runs, "readyMs"))
        .put("sigtermToExitMs", stats(runs, "sigtermToExitMs"))
        .put("allExitedZero", runs.stream().allMatch(r -> ((JsonObject) r).getInteger("exitCode") == 0))
        .put("blockedThreadWarnings", runs.stream()
            .mapToInt(r -> ((JsonObject) r).getJsonArray("blockedThreadWarnings").size()).sum());
    if (runs.stream().anyMatch(r -> ((JsonObject) r).containsKey("postgresGone"))) {
      s.put("allPostgresGone", runs.stream().allMatch(r -> ((JsonObject) r).getBoolean("postgresGone")));
    }
    return s.put("runs", runs);
  }

  private static JsonObject stats(JsonArray runs, String field) {
    List<Double> values = new ArrayList<>();
    runs.forEach(r -> values.add(((JsonObject) r).getDouble(field)));
    values.sort(Comparator.naturalOrder());
    return new JsonObject().put("min", values.get(0)).put("median", values.get(values.size() / 2))
        .put("max", values.get(values.size() - 1));
  }

  private static void print(String label, JsonObject s) {
    JsonObject ready = s.getJsonObject("readyMs");
    JsonObject stop = s.getJsonObject("sigtermToExitMs");
    System.out.printf("  %s ready median %6.0f ms (min %6.0f, max %6.0f) | SIGTERM->exit median %5.0f ms (max %5.0f)"
            + " | exit 0: %s%s | blocked-thread warnings: %d%n", label, ready.getDouble("median"),
        ready.getDouble("min"), ready.getDouble("max"), stop.getDouble("median"), stop.getDouble("max"),
        s.getBoolean("allExitedZero"),
        s.containsKey("allPostgresGone") ? " | postgres gone: " + s.getBoolean("allPostgresGone") : "",
        s.getInteger("blockedThreadWarnings"));
  }

  private static double millis(Duration d) {
    return Math.round(d.toNanos() / 100_000.0) / 10.0;
  }

  static double loadAverage() {
    try {
      return Double.parseDouble(Files.readString(Path.of("/proc/loadavg")).trim().split("\\s+")[0]);
    } catch (IOException | RuntimeException e) {
      return -1;
    }
  }

  /**
   * A fresh directory readable by others: when the bench runs as root, the embedded PostgreSQL runs as an
   * unprivileged account that must reach DATA_DIR/pg through it.
   */
  static Path tempDir(String prefix) throws IOException {
    Path dir = Files.createTempDirectory(prefix);
    Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwxr-xr-x"));
    return dir;
  }

  static void deleteTree(Path dir) throws IOException {
    if (!Files.exists(dir)) {
      return;
    }
    try (Stream<Path> paths = Files.walk(dir)) {
      for (Path p : paths.sorted(Comparator.reverseOrder()).toList()) {
        Files.deleteIfExists(p);
      }
    }
  }
}
