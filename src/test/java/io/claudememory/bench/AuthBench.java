package io.claudememory.bench;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.PoolOptions;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.ext.web.client.WebClient;
import io.vertx.ext.web.client.WebClientOptions;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Accounts under load against an external PostgreSQL with a fresh master database: registration latency (user, tenant
 * database, tenant migration) at a few concurrencies, then login throughput at the real bcrypt cost while a second
 * client on its own event loop probes {@code /api/v1/health} at a fixed rate. The probe's latency is the evidence
 * that password hashing stays off the event loops. Run by {@code scripts/bench/auth}.
 */
public final class AuthBench {
  private static final Duration READY_LIMIT = Duration.ofMinutes(2);
  private final WebClient client;
  private final String base;
  private final String runTag;
  private final List<JsonObject> accounts = new ArrayList<>();

  private AuthBench(WebClient client, String base, String runTag) {
    this.client = client;
    this.base = base;
    this.runTag = runTag;
  }

  public static void main(String[] argv) throws Exception {
    BenchArgs args = new BenchArgs(argv);
    Path results = Path.of(args.text("results", "bench-results"));
    int registrations = args.number("registrations", 30);
    List<Integer> registerConcurrency = new ArrayList<>();
    for (String c : args.text("register-concurrency", "1,4").split(",")) {
      registerConcurrency.add(Integer.parseInt(c.trim()));
    }
    int loginConcurrency = args.number("login-concurrency", 8);
    int loginSeconds = args.number("login-seconds", 20);
    int warmupSeconds = args.number("warmup-seconds", 3);
    int healthIntervalMs = args.number("health-interval-ms", 5);
    int bcryptCost = args.number("bcrypt-cost", 12);
    double loadAtStart = StartupBench.loadAverage();

    BenchDatabase db = BenchDatabase.create(args.text("admin-url", "postgresql://postgres@127.0.0.1:5432/postgres"));
    Path dataDir = StartupBench.tempDir("cmb-bench-auth-");
    Vertx loadVertx = Vertx.vertx(new VertxOptions().setEventLoopPoolSize(1));
    Vertx probeVertx = Vertx.vertx(new VertxOptions().setEventLoopPoolSize(1));
    BenchServer server = null;
    JsonObject out = new JsonObject().put("bench", "auth").put("bcryptCost", bcryptCost)
        .put("loadAverageAtStart", loadAtStart).put("database", db.name()).put("tenantPrefix", db.tenantPrefix());
    try {
      Path jvmLog = results.resolve("logs").resolve("auth-server-jvm.log");
      Files.deleteIfExists(jvmLog);
      // Safepoint and GC logging: a stall that no handler accounts for shows up there.
      server = BenchServer.launch(Path.of(args.text("jar", "target/claude-memory-backend.jar")),
          List.of("-Xlog:safepoint=info,gc=info:file=" + jvmLog + ":uptime"),
          serverEnv(db, dataDir, bcryptCost), results.resolve("logs").resolve("auth-server.log"));
      server.awaitReady(READY_LIMIT);
      System.out.println("server ready on " + server.baseUrl() + " (bcrypt cost " + bcryptCost + ", database "
          + db.name() + ")");

      int pool = Math.max(loginConcurrency, registerConcurrency.stream().max(Integer::compare).orElse(1));
      AuthBench bench = new AuthBench(WebClient.create(loadVertx, new WebClientOptions().setKeepAlive(true),
          new PoolOptions().setHttp1MaxSize(pool)), server.baseUrl(), db.name().substring("cmbbench_".length()));
      HealthProbe probe = new HealthProbe(probeVertx, server.baseUrl(), healthIntervalMs);

      JsonArray register = new JsonArray();
      for (int concurrency : registerConcurrency) {
        register.add(bench.register(registrations, concurrency));
      }
      out.put("registration", register);
      out.put("tenantDatabasesCreated", db.tenantDatabases());

      probe.measure(Duration.ofSeconds(2)); // warms the JIT on both sides; not recorded
      out.put("healthIdle", probe.measure(Duration.ofSeconds(3)).summary().put("intervalMs", healthIntervalMs)
          .put("probeTimerLateness", probe.timerLateness()));
      System.out.println("health, idle server:   " + probe.last().line());

      out.put("login", bench.loginUnderLoad(probe, loginConcurrency, warmupSeconds, loginSeconds, healthIntervalMs));

      BenchServer.Stop stop = server.terminate(Duration.ofMinutes(1));
      out.put("shutdown", new JsonObject().put("sigtermToExitMs", stop.elapsed().toMillis())
          .put("exitCode", stop.exitCode()));
      out.put("serverLogWarnings", warnings(server.log()));
      out.put("serverHealthHandlerMs", handlerTimes(server.log(), "GET /api/v1/health "));
      out.put("serverJvm", JvmLog.summary(jvmLog));
    } finally {
      if (server != null) {
        server.kill();
      }
      loadVertx.close().await();
      probeVertx.close().await();
      out.put("tenantDatabasesDropped", db.drop());
      StartupBench.deleteTree(dataDir);
    }
    Path file = BenchResults.write(results, "auth", out);
    print(out);
    System.out.println("results: " + file + "   server log: " + results.resolve("logs").resolve("auth-server.log"));
  }

  private static Map<String, String> serverEnv(BenchDatabase db, Path dataDir, int bcryptCost) {
    SecureRandom random = new SecureRandom();
    byte[] jwt = new byte[48];
    byte[] master = new byte[32];
    random.nextBytes(jwt);
    random.nextBytes(master);
    Map<String, String> env = new HashMap<>();
    env.put("DATABASE_URL", db.url());
    env.put("CMB_DATABASE_TENANT_PREFIX", db.tenantPrefix());
    env.put("CMB_AUTH_BCRYPT_COST", Integer.toString(bcryptCost));
    env.put("JWT_SECRET", Base64.getUrlEncoder().withoutPadding().encodeToString(jwt));
    env.put("MASTER_KEY", Base64.getEncoder().encodeToString(master));
    env.put("DATA_DIR", dataDir.toString());
    env.put("STORAGE_PATH", dataDir.resolve("storage").toString());
    return env;
  }

  /** {@code count} registrations at {@code concurrency}; every success is kept as a login for later. */
  private JsonObject register(int count, int concurrency) {
    Latency latency = new Latency();
    AtomicInteger issued = new AtomicInteger();
    int offset = accounts.size();
    long start = System.nanoTime();
    Workers.run(concurrency, () -> issued.get() < count, () -> {
      int i = offset + issued.getAndIncrement();
      JsonObject account = new JsonObject().put("email", "bench-" + runTag + "-" + i + "@example.com")
          .put("password", "bench password " + runTag + " " + i);
      long sent = System.nanoTime();
      return post("/api/v1/auth/register", account.copy().put("name", "Bench " + i))
          .onComplete(res -> {
            if (res.succeeded() && res.result().statusCode() == 201) {
              latency.record(sent);
              accounts.add(account);
            } else {
              latency.fail();
              System.out.println("  registration failed: " + describe(res));
            }
          });
    }).await();
    double seconds = (System.nanoTime() - start) / 1e9;
    System.out.printf("register, concurrency %d: %s  (%.1f/s)%n", concurrency, latency.line(), count / seconds);
    return latency.summary().put("concurrency", concurrency).put("perSecond", round(latency.count() / seconds));
  }

  /**
   * Logins at {@code concurrency} over the registered accounts, round robin: a warm-up that is not recorded, then
   * {@code seconds} measured, while {@code probe} records the health endpoint's latency over the same window. Logins
   * count when they complete inside the window, so req/s is completions per second of the window.
   */
  private JsonObject loginUnderLoad(HealthProbe probe, int concurrency, int warmupSeconds, int seconds,
      int intervalMs) {
    Latency latency = new Latency();
    AtomicLong nextAccount = new AtomicLong();
    long warmupEnd = System.nanoTime() + Duration.ofSeconds(warmupSeconds).toNanos();
    long end = warmupEnd + Duration.ofSeconds(seconds).toNanos();
    AtomicLong ok = new AtomicLong();
    Future<Void> load = Workers.run(concurrency, () -> System.nanoTime() < end, () -> {
      JsonObject account = accounts.get((int) (nextAccount.getAndIncrement() % accounts.size()));
      long sent = System.nanoTime();
      return post("/api/v1/auth/login", account).onComplete(res -> {
        long completed = System.nanoTime();
        if (completed < warmupEnd || completed > end) {
          return;
        }
        if (res.succeeded() && res.result().statusCode() == 200) {
          latency.record(sent);
          ok.incrementAndGet();
        } else {
          latency.fail();
          System.out.println("  login failed: " + describe(res));
        }
      });
    });
    sleepUntil(warmupEnd);
    long measuredFrom = System.nanoTime();
    double[] loopDelay = {0};
    Thread sampler = sampleServerLoopDelay(end, loopDelay);
    Latency health = probe.measure(Duration.ofNanos(end - measuredFrom));
    load.await();
    try {
      sampler.join();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    double window = (end - measuredFrom) / 1e9;
    double perSecond = ok.get() / window;
    System.out.printf("login, concurrency %d, %ds: %.2f req/s  %s%n", concurrency, seconds, perSecond,
        latency.line());
    System.out.println("health during login:   " + health.line());
    return new JsonObject().put("concurrency", concurrency).put("seconds", round(window))
        .put("warmupSeconds", warmupSeconds).put("perSecond", round(perSecond)).put("latency", latency.summary())
        .put("healthDuringLogin", health.summary().put("intervalMs", intervalMs)
            .put("probeTimerLateness", probe.timerLateness()))
        .put("serverEventLoopWorstDelayMs", loopDelay[0]);
  }

  /** The server's own event-loop delay check ({@code /api/v1/health/detailed}): worst timer lateness of ~5 s. */
  private double serverLoopDelayMs() {
    HttpResponse<Buffer> res = client.getAbs(base + "/api/v1/health/detailed").send().await();
    for (Object c : res.bodyAsJsonObject().getJsonArray("checks", new JsonArray())) {
      JsonObject check = (JsonObject) c;
      if ("event-loop".equals(check.getString("id"))) {
        return check.getJsonObject("data").getDouble("worstDelayMs");
      }
    }
    return -1;
  }

  /** Samples {@link #serverLoopDelayMs} every 4 s (its window is 5 s) until {@code end}; returns the worst. */
  private Thread sampleServerLoopDelay(long end, double[] worst) {
    Thread sampler = new Thread(() -> {
      while (System.nanoTime() < end) {
        sleepUntil(Math.min(end, System.nanoTime() + Duration.ofSeconds(4).toNanos()));
        worst[0] = Math.max(worst[0], serverLoopDelayMs());
      }
    }, "loop-delay-sampler");
    sampler.start();
    return sampler;
  }

  private Future<HttpResponse<Buffer>> post(String path, JsonObject body) {
    return client.postAbs(base + path).sendJsonObject(body);
  }

  /** Lines of the server log at WARN or ERROR, and Vert.x blocked-thread warnings in particular. */
  static JsonObject warnings(Path log) throws java.io.IOException {
    List<String> lines = Files.readAllLines(log);
    JsonArray blocked = new JsonArray();
    JsonArray other = new JsonArray();
    for (String line : lines) {
      if (line.contains("has been blocked for") || line.contains("BlockedThreadChecker")) {
        blocked.add(line);
      } else if (line.contains(" WARN ") || line.contains(" ERROR ")) {
        other.add(line);
      }
    }
    return new JsonObject().put("blockedThread", blocked).put("otherWarnOrError", other);
  }

  /**
   * The server's own handling time for {@code request} lines of the access log ("... GET /api/v1/health 200 3ms"; a
   * {@code request} may also end inside the path, e.g. {@code "GET /api/v1/conversations/search?q="}),
   * from the handler's start to the response: what the server itself accounts for, over the whole run.
   */
  static JsonObject handlerTimes(Path log, String request) throws java.io.IOException {
    List<Long> times = new ArrayList<>();
    for (String line : Files.readAllLines(log)) {
      int at = line.indexOf(request);
      if (at >= 0) {
        String[] rest = line.substring(at + request.length()).trim().split("\\s+");
        // The time is the first "<n>ms" token: right after the status, or one later when request ends mid-path.
        for (int i = 0; i < Math.min(3, rest.length); i++) {
          if (rest[i].matches("\\d+ms")) {
            times.add(Long.parseLong(rest[i].substring(0, rest[i].length() - 2)));
            break;
          }
        }
      }
    }
    times.sort(Long::compare);
    if (times.isEmpty()) {
      return new JsonObject().put("count", 0);
    }
    return new JsonObject().put("count", times.size()).put("p50Ms", times.get(times.size() / 2))
        .put("p99Ms", times.get((int) (times.size() * 0.99))).put("maxMs", times.get(times.size() - 1));
  }

  private static String describe(io.vertx.core.AsyncResult<HttpResponse<Buffer>> res) {
    return res.succeeded() ? res.result().statusCode() + " " + res.result().bodyAsString()
        : String.valueOf(res.cause());
  }

  private static void print(JsonObject out) {
    JsonObject logs = out.getJsonObject("serverLogWarnings", new JsonObject());
    System.out.println();
    System.out.println("auth bench (bcrypt cost " + out.getInteger("bcryptCost") + ", "
        + Runtime.getRuntime().availableProcessors() + " cores, load average " + out.getDouble("loadAverageAtStart")
        + " at start)");
    for (Object r : out.getJsonArray("registration", new JsonArray())) {
      JsonObject reg = (JsonObject) r;
      System.out.printf("  register  c=%d: p50 %.1f ms, p99 %.1f ms, max %.1f ms, %d ok, %d failed%n",
          reg.getInteger("concurrency"), reg.getDouble("p50Ms"), reg.getDouble("p99Ms"), reg.getDouble("maxMs"),
          reg.getLong("count"), reg.getLong("failures"));
    }
    JsonObject login = out.getJsonObject("login");
    if (login != null) {
      JsonObject l = login.getJsonObject("latency");
      JsonObject h = login.getJsonObject("healthDuringLogin");
      JsonObject idle = out.getJsonObject("healthIdle");
      System.out.printf("  login     c=%d: %.2f req/s over %.1f s (p50 %.1f ms, p99 %.1f ms, %d failed)%n",
          login.getInteger("concurrency"), login.getDouble("perSecond"), login.getDouble("seconds"),
          l.getDouble("p50Ms"), l.getDouble("p99Ms"), l.getLong("failures"));
      System.out.printf("  health during login: p50 %.2f ms, p99 %.2f ms, max %.2f ms (n=%d; idle: p50 %.2f, p99 %.2f,"
              + " max %.2f) -> goal p99 < 10 ms: %s%n", h.getDouble("p50Ms"), h.getDouble("p99Ms"),
          h.getDouble("maxMs"), h.getLong("count"), idle.getDouble("p50Ms"), idle.getDouble("p99Ms"),
          idle.getDouble("maxMs"), h.getDouble("p99Ms") < 10 ? "met" : "NOT met");
    }
    if (login != null) {
      System.out.println("  where health time went: probe timer lateness "
          + login.getJsonObject("healthDuringLogin").getJsonObject("probeTimerLateness").encode()
          + "; server handler time (whole run) " + out.getJsonObject("serverHealthHandlerMs", new JsonObject()).encode()
          + "; server event-loop worst delay during login " + login.getDouble("serverEventLoopWorstDelayMs")
          + " ms; server JVM " + out.getJsonObject("serverJvm", new JsonObject()).encode());
    }
    JsonObject shutdown = out.getJsonObject("shutdown");
    if (shutdown != null) {
      System.out.println("  shutdown: " + shutdown.encode());
    }
    System.out.println("  blocked-thread warnings in server log: "
        + logs.getJsonArray("blockedThread", new JsonArray()).size() + ", other WARN/ERROR lines: "
        + logs.getJsonArray("otherWarnOrError", new JsonArray()).size());
    System.out.println("  tenant databases created " + out.getInteger("tenantDatabasesCreated") + ", dropped "
        + out.getInteger("tenantDatabasesDropped"));
  }

  private static void sleepUntil(long nanoTime) {
    long remaining;
    while ((remaining = nanoTime - System.nanoTime()) > 0) {
      try {
        Thread.sleep(Math.max(1, remaining / 1_000_000));
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return;
      }
    }
  }

  private static double round(double value) {
    return Math.round(value * 100) / 100.0;
  }
}
