package io.claudememory.bench;

import io.claudememory.conversations.SearchFloor;
import io.claudememory.platform.db.DbTarget;
import io.claudememory.platform.http.QueryParams;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.PoolOptions;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpRequest;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.ext.web.client.WebClient;
import io.vertx.ext.web.client.WebClientOptions;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Supplier;

/**
 * The multi-tenant data plane under load, against an external PostgreSQL with a fresh master database (dropped at the
 * end with every tenant database and role of the run). Two parts, each with its own server process:
 *
 * <ol>
 *   <li><b>throughput</b>: one user; closed-loop requests at {@code --concurrency} for {@code --seconds} after an
 *       unrecorded warm-up, for GET one conversation, GET a 50-message page of a conversation with
 *       {@code --page-messages} messages (posted through the API), full-text search over {@code --search-messages}
 *       messages (inserted directly into the user's tenant database by {@link TenantSeed}), and POST a message.
 *   <li><b>pools</b>: {@code --users} users registered (each with one conversation), then GETs rotating across all of
 *       them with the tenant pool bound at {@code --max-tenant-pools} pools of {@code --tenant-pool-size} connections,
 *       while PostgreSQL's {@code pg_stat_activity} and the server's {@code cmb_tenant_pools_open} are sampled.
 * </ol>
 *
 * Rate limits are raised to 1,000,000,000 per window for the bench server (otherwise the limiter, not the data plane,
 * is measured). Run by {@code scripts/bench/dataplane}.
 */
public final class DataplaneBench {
  private static final Duration READY_LIMIT = Duration.ofMinutes(2);
  /** A mix for the search figure: common words, rarer ones, two-word queries and prefixes typed part-way. */
  static final List<String> SEARCH_QUERIES = List.of("database", "error timeout", "postgres", "kubernetes deploy",
      "galaxy", "perf", "memory cache", "serendipity", "query planner", "transf", "recipe", "lighthouse harbour",
      "json schema", "benchm", "the function", "quantum", "react component", "vacu", "invoice refund", "histo");

  private final WebClient client;
  private final String base;

  private DataplaneBench(WebClient client, String base) {
    this.client = client;
    this.base = base;
  }

  public static void main(String[] argv) throws Exception {
    BenchArgs args = new BenchArgs(argv);
    Path results = Path.of(args.text("results", "bench-results"));
    String parts = args.text("parts", "throughput,pools");
    JsonObject out = new JsonObject().put("bench", "dataplane").put("loadAverageAtStart", StartupBench.loadAverage())
        .put("cores", Runtime.getRuntime().availableProcessors())
        .put("rateLimits", "raised for the bench server: CMB_RATE_LIMIT_{ADDRESS,PRINCIPAL,MESSAGES,AUTH,JOBS}_LIMIT="
            + BenchServer.RAISED_RATE_LIMIT + " per window")
        .put("bcryptCost", args.number("bcrypt-cost", 4));
    if (parts.contains("throughput")) {
      out.put("throughput", throughput(args, results));
    }
    if (parts.contains("pools")) {
      out.put("tenantPools", pools(args, results));
    }
    out.put("loadAverageAtEnd", StartupBench.loadAverage());
    Path file = BenchResults.write(results, args.text("name", "dataplane"), out);
    print(out);
    System.out.println("results: " + file);
  }

  // ---------------------------------------------------------------------------------------------- throughput part

  private static JsonObject throughput(BenchArgs args, Path results) throws Exception {
    int concurrency = args.number("concurrency", 64);
    int seconds = args.number("seconds", 15);
    int warmup = args.number("warmup-seconds", 30);
    int pageMessages = args.number("page-messages", 200);
    int searchMessages = args.number("search-messages", 100_000);
    int perConversation = 100;
    TenantSeed.Corpus kind = TenantSeed.Corpus.of(args.text("search-corpus", "dense"));
    String masterKey = masterKey();
    Map<String, String> extra = new HashMap<>();
    if (args.text("throughput-tenant-pool-size", null) != null) {
      extra.put("CMB_DATABASE_TENANT_POOL_SIZE", args.text("throughput-tenant-pool-size", null));
    }
    if (args.text("search-candidates", null) != null) {
      extra.put("CMB_SEARCH_CANDIDATES", args.text("search-candidates", null));
    }
    JsonObject out = new JsonObject().put("concurrency", concurrency).put("seconds", seconds)
        .put("warmupSeconds", warmup).put("tenantPoolSize", extra.getOrDefault("CMB_DATABASE_TENANT_POOL_SIZE",
            "4 (configuration default)"))
        .put("searchCandidates", extra.getOrDefault("CMB_SEARCH_CANDIDATES", "100 (configuration default)"));
    BenchDatabase db = BenchDatabase.create(args.text("admin-url", "postgresql://postgres@127.0.0.1:5432/postgres"));
    Path dataDir = StartupBench.tempDir("cmb-bench-dataplane-");
    Vertx vertx = Vertx.vertx(new VertxOptions().setEventLoopPoolSize(1));
    Path log = results.resolve("logs").resolve("dataplane-throughput-server.log");
    BenchServer server = null;
    try {
      server = BenchServer.launch(Path.of(args.text("jar", "target/claude-memory-backend.jar")),
          serverEnv(db, dataDir, masterKey, args.number("bcrypt-cost", 4), extra), log);
      server.awaitReady(READY_LIMIT);
      System.out.println("throughput: server ready on " + server.baseUrl() + " (database " + db.name() + ")");
      DataplaneBench bench = new DataplaneBench(WebClient.create(vertx, new WebClientOptions().setKeepAlive(true),
          new PoolOptions().setHttp1MaxSize(concurrency)), server.baseUrl());

      JsonObject user = bench.register("bench-dataplane@example.com");
      String token = user.getString("accessToken");
      String userId = user.getJsonObject("user").getString("id");
      String single = bench.createConversation(token, "One conversation to read");
      String paged = bench.createConversation(token, "A long conversation to page");
      long seedStart = System.nanoTime();
      for (int i = 0; i < pageMessages; i++) {
        bench.expect(bench.request(HttpMethod.POST, "/api/v1/conversations/" + paged + "/messages", token,
            new JsonObject().put("content", "Message " + i + " of the long conversation about database paging")
                .put("generate", false)), 201);
      }
      out.put("pageConversationMessages", pageMessages)
          .put("pageSeedMs", (System.nanoTime() - seedStart) / 1_000_000);
      int pageSize = bench.expect(bench.request(HttpMethod.GET, "/api/v1/conversations/" + paged
          + "/messages?limit=50", token, null), 200).bodyAsJsonObject().getJsonArray("data").size();
      if (pageSize != 50) {
        throw new IllegalStateException("a page of the long conversation held " + pageSize + " messages, not 50");
      }
      List<String> postTargets = new ArrayList<>();
      for (int i = 0; i < concurrency; i++) {
        postTargets.add(bench.createConversation(token, "Posting target " + i));
      }

      seedStart = System.nanoTime();
      DbTarget tenant = TenantSeed.tenantTarget(DbTarget.fromUri(db.url()), masterKey, userId);
      long seeded = TenantSeed.seed(tenant, searchMessages / perConversation, perConversation, kind);
      long seedMs = (System.nanoTime() - seedStart) / 1_000_000;
      JsonObject corpus = corpus(tenant);
      out.put("searchSeed", corpus.put("corpus", kind.name().toLowerCase(Locale.ROOT)).put("inserted", seeded)
          .put("perConversation", perConversation).put("seedMs", seedMs)
          .put("method", "one INSERT ... SELECT generate_series as the tenant role"));
      System.out.printf("seeded %d messages in %d ms (%s)%n", seeded, seedMs, corpus.encode());

      JsonArray queries = new JsonArray();
      for (String q : SEARCH_QUERIES) {
        HttpResponse<Buffer> res = bench.expect(bench.request(HttpMethod.GET, searchPath(q), token, null), 200);
        queries.add(new JsonObject().put("q", q).put("firstPageHits", res.bodyAsJsonObject().getJsonArray("data")
            .size()).put("matchingMessages", matching(tenant, q)));
      }
      out.put("searchQueries", queries);
      // Each query alone (one request at a time, 5 rounds after the one above): what a query costs without queueing.
      for (Object o : queries) {
        JsonObject entry = (JsonObject) o;
        Latency alone = new Latency();
        for (int round = 0; round < 5; round++) {
          long sent = System.nanoTime();
          bench.expect(bench.request(HttpMethod.GET, searchPath(entry.getString("q")), token, null), 200);
          alone.record(sent);
        }
        entry.put("aloneMedianMs", alone.percentileMs(50)).put("aloneMaxMs", alone.percentileMs(100));
      }
      System.out.println("search queries, one at a time (median of 5): " + queries.stream().map(o -> (JsonObject) o)
          .map(q -> "'" + q.getString("q") + "' " + q.getLong("matchingMessages") + " hits "
              + q.getDouble("aloneMedianMs") + " ms").toList());

      String only = args.text("scenarios", "getConversation,getMessagePage,search,postMessage");
      if (only.contains("search")) {
        // PostgreSQL alone, the node idle: how many first pages, and how many bare windows of candidates, the
        // tenant's connections complete per second: a ceiling, since an HTTP search runs that statement and more.
        JsonObject alone = SearchFloor.measure(vertx, tenant, SEARCH_QUERIES, args.number("search-candidates", 100),
            QueryParams.DEFAULT_LIMIT, args.number("throughput-tenant-pool-size", 4), Duration.ofSeconds(5),
            Duration.ofSeconds(10));
        out.put("searchInPostgresAlone", alone);
        System.out.println("search in PostgreSQL alone: " + alone.encode());
      }

      JsonObject scenarios = new JsonObject();
      out.put("scenariosRun", only);
      String client = args.text("client", Wrk.available() ? "wrk" : "jvm");
      out.put("client", client);
      String base = server.baseUrl();
      Supplier<Duration> serverCpu = server::cpu;
      Scenario scenario = client.equals("wrk")
          ? (name, requests, expected) -> Wrk.measure(name, base, token, requests, concurrency, warmup, seconds,
              dataDir, serverCpu)
          : (name, requests, expected) -> bench.measure(name, concurrency, warmup, seconds, requests, token, expected,
              serverCpu);
      if (only.contains("getConversation")) {
        scenarios.put("getConversation", scenario.measure("GET one conversation",
            List.of(Wrk.Request.get("/api/v1/conversations/" + single)), 200));
      }
      if (only.contains("getMessagePage")) {
        scenarios.put("getMessagePage", scenario.measure("GET a 50-message page",
            List.of(Wrk.Request.get("/api/v1/conversations/" + paged + "/messages?limit=50")), 200));
      }
      if (only.contains("search")) {
        scenarios.put("search", scenario.measure("search over " + corpus.getLong("messages") + " messages",
            SEARCH_QUERIES.stream().map(q -> Wrk.Request.get(searchPath(q))).toList(), 200));
      }
      if (only.contains("postMessage")) {
        scenarios.put("postMessage", scenario.measure("POST a message", postTargets.stream()
            .map(id -> new Wrk.Request("POST", "/api/v1/conversations/" + id + "/messages",
                "{\"generate\":false,\"content\":\"Posted by the bench: how do I tune the database connection pool? ",
                "\"}"))
            .toList(), 201).put("conversations", postTargets.size()));
      }
      out.put("scenarios", scenarios);

      BenchServer.Stop stop = server.terminate(Duration.ofMinutes(1));
      out.put("shutdown", new JsonObject().put("sigtermToExitMs", stop.elapsed().toMillis())
          .put("exitCode", stop.exitCode()));
      out.put("serverLogWarnings", AuthBench.warnings(server.log())).put("serverLog", log.toString());
      // The server's own handling time per scenario, from its access log (whole run, warm-up and set-up included).
      Map<String, String> logged = Map.of(
          "getConversation", "GET /api/v1/conversations/" + single + " ",
          "getMessagePage", "GET /api/v1/conversations/" + paged + "/messages?limit=50 ",
          "search", "GET /api/v1/conversations/search?q=",
          "postMessage", "POST /api/v1/conversations/" + postTargets.get(0) + "/messages ");
      for (Map.Entry<String, String> entry : logged.entrySet()) {
        if (scenarios.containsKey(entry.getKey())) {
          scenarios.getJsonObject(entry.getKey()).put("serverHandlerMs",
              AuthBench.handlerTimes(server.log(), entry.getValue()));
        }
      }
    } finally {
      if (server != null) {
        server.kill();
      }
      vertx.close().await();
      out.put("tenantDatabasesDropped", db.drop());
      StartupBench.deleteTree(dataDir);
    }
    return out;
  }

  private static String searchPath(String q) {
    return "/api/v1/conversations/search?q=" + URLEncoder.encode(q, StandardCharsets.UTF_8);
  }

  private static JsonObject corpus(DbTarget tenant) throws SQLException {
    try (Connection c = TenantSeed.connect(tenant); Statement s = c.createStatement();
         ResultSet rs = s.executeQuery("SELECT (SELECT count(*) FROM messages), (SELECT count(*) FROM conversations),"
             + " (SELECT avg(length(content))::int FROM messages), (SELECT count(DISTINCT lexeme) FROM "
             + "(SELECT unnest(tsvector_to_array(search)) AS lexeme FROM messages) l)")) {
      rs.next();
      return new JsonObject().put("messages", rs.getLong(1)).put("conversations", rs.getLong(2))
          .put("avgContentChars", rs.getInt(3)).put("distinctLexemes", rs.getLong(4));
    }
  }

  /** How many messages a query matches, the way SearchSql matches (all words, the last as a prefix). */
  private static long matching(DbTarget tenant, String q) throws SQLException {
    String[] words = q.split(" ");
    String last = words[words.length - 1];
    String rest = String.join(" ", java.util.Arrays.copyOf(words, words.length - 1));
    try (Connection c = TenantSeed.connect(tenant);
         java.sql.PreparedStatement s = c.prepareStatement("SELECT count(*) FROM messages WHERE search @@ "
             + "(plainto_tsquery('english', ?) && to_tsquery('english', ?))")) {
      s.setString(1, rest);
      s.setString(2, last + ":*");
      try (ResultSet rs = s.executeQuery()) {
        rs.next();
        return rs.getLong(1);
      }
    }
  }

  // --------------------------------------------------------------------------------------------------- pools part

  private static JsonObject pools(BenchArgs args, Path results) throws Exception {
    int users = args.number("users", 1000);
    int maxPools = args.number("max-tenant-pools", 200);
    int poolSize = args.number("tenant-pool-size", 1);
    int concurrency = args.number("concurrency", 64);
    int seconds = args.number("pool-seconds", 20);
    int warmup = args.number("warmup-seconds", 10);
    int registerConcurrency = args.number("register-concurrency", 4);
    String adminUrl = args.text("pool-admin-url", args.text("admin-url",
        "postgresql://postgres@127.0.0.1:5432/postgres"));
    int masterPoolSize = 8;
    JsonObject out = new JsonObject().put("users", users).put("maxTenantPools", maxPools)
        .put("tenantPoolSize", poolSize).put("concurrency", concurrency).put("seconds", seconds)
        .put("warmupSeconds", warmup).put("bcryptCost", args.number("bcrypt-cost", 4));

    // Connection budget: every open tenant pool keeps its connections, so the bound times the pool size must fit.
    DbTarget adminTarget = DbTarget.fromUri(adminUrl);
    JsonObject budget = connectionBudget(adminTarget);
    int needed = maxPools * poolSize + masterPoolSize + 4;
    budget.put("neededByTheBench", needed);
    out.put("postgres", budget.put("adminUrlHost", adminTarget.host() + ":" + adminTarget.port()));
    if (needed > budget.getInteger("free") && !args.flag("ignore-connection-budget")) {
      String reason = "needs up to " + needed + " connections (" + maxPools + " pools x " + poolSize + " + master pool "
          + masterPoolSize + " + 4) but the PostgreSQL at " + adminTarget.host() + ":" + adminTarget.port()
          + " has only " + budget.getInteger("free") + " free (max_connections " + budget.getInteger("maxConnections")
          + ", in use " + budget.getInteger("inUse") + "): skipped so as not to exhaust a shared server. "
          + "Use --pool-admin-url for a server with room, or a smaller --max-tenant-pools.";
      System.out.println("pools: " + reason);
      return out.put("skipped", reason);
    }

    String masterKey = masterKey();
    BenchDatabase db = BenchDatabase.create(adminUrl);
    Path dataDir = StartupBench.tempDir("cmb-bench-pools-");
    Vertx vertx = Vertx.vertx(new VertxOptions().setEventLoopPoolSize(1));
    Path log = results.resolve("logs").resolve("dataplane-pools-server.log");
    BenchServer server = null;
    try {
      server = BenchServer.launch(Path.of(args.text("jar", "target/claude-memory-backend.jar")),
          serverEnv(db, dataDir, masterKey, args.number("bcrypt-cost", 4), Map.of(
              "CMB_DATABASE_MAX_TENANT_POOLS", Integer.toString(maxPools),
              "CMB_DATABASE_TENANT_POOL_SIZE", Integer.toString(poolSize))), log);
      server.awaitReady(READY_LIMIT);
      System.out.println("pools: server ready on " + server.baseUrl() + " (database " + db.name() + ", bound "
          + maxPools + " pools x " + poolSize + " connections)");
      DataplaneBench bench = new DataplaneBench(WebClient.create(vertx, new WebClientOptions().setKeepAlive(true),
          new PoolOptions().setHttp1MaxSize(concurrency)), server.baseUrl());

      // Setup: each user registers and creates one conversation (which opens, and migrates, its tenant pool).
      List<String[]> targets = new ArrayList<>();
      Latency registration = new Latency();
      AtomicInteger issued = new AtomicInteger();
      long setupStart = System.nanoTime();
      String tag = db.name().substring("cmbbench_".length());
      Workers.run(registerConcurrency, () -> issued.get() < users, () -> {
        int i = issued.getAndIncrement();
        long sent = System.nanoTime();
        return bench.request(HttpMethod.POST, "/api/v1/auth/register", null, new JsonObject()
                .put("email", "pools-" + tag + "-" + i + "@example.com").put("password", "bench password " + tag + i))
            .compose(res -> {
              if (res.statusCode() != 201) {
                return Future.failedFuture("register " + res.statusCode() + " " + res.bodyAsString());
              }
              registration.record(sent);
              String token = res.bodyAsJsonObject().getJsonObject("data").getString("accessToken");
              return bench.request(HttpMethod.POST, "/api/v1/conversations", token,
                  new JsonObject().put("title", "Conversation of user " + i)).compose(c -> {
                    if (c.statusCode() != 201) {
                      return Future.failedFuture("create conversation " + c.statusCode() + " " + c.bodyAsString());
                    }
                    targets.add(new String[] {token, c.bodyAsJsonObject().getJsonObject("data").getString("id")});
                    return Future.succeededFuture();
                  });
            }).onFailure(err -> {
              registration.fail();
              System.out.println("  setup failed: " + err.getMessage());
            });
      }).await();
      double setupSeconds = (System.nanoTime() - setupStart) / 1e9;
      out.put("setup", registration.summary().put("seconds", round(setupSeconds))
          .put("usersReady", targets.size()).put("registerConcurrency", registerConcurrency)
          .put("tenantDatabases", db.tenantDatabases()));
      System.out.printf("pools: %d users registered with a conversation each in %.1f s (%s)%n", targets.size(),
          setupSeconds, registration.line());

      double createdBefore = poolsCreated(server.baseUrl());
      Sampler sampler = new Sampler(adminTarget, db, server.baseUrl());
      Thread samplerThread = new Thread(sampler, "pool-sampler");
      samplerThread.start();
      AtomicLong next = new AtomicLong();
      JsonObject load;
      try {
        load = bench.measure("GET one conversation, rotating over " + targets.size() + " users", concurrency,
            warmup, seconds, () -> {
              String[] t = targets.get((int) (next.getAndIncrement() % targets.size()));
              return bench.request(HttpMethod.GET, "/api/v1/conversations/" + t[1], t[0], null);
            }, 200, server::cpu);
      } finally {
        sampler.stop = true;
        samplerThread.join();
      }
      double createdAfter = poolsCreated(server.baseUrl());
      out.put("load", load);
      out.put("samples", sampler.summary());
      // Counted from the warm-up on (the sampler's window), so a little more than the measured window.
      out.put("tenantPoolsCreatedDuringLoad", (long) (createdAfter - createdBefore));

      BenchServer.Stop stop = server.terminate(Duration.ofMinutes(1));
      out.put("shutdown", new JsonObject().put("sigtermToExitMs", stop.elapsed().toMillis())
          .put("exitCode", stop.exitCode()));
      out.put("serverLogWarnings", AuthBench.warnings(server.log())).put("serverLog", log.toString());
    } finally {
      if (server != null) {
        server.kill();
      }
      vertx.close().await();
      out.put("tenantDatabasesDropped", db.drop());
      StartupBench.deleteTree(dataDir);
    }
    return out;
  }

  private static JsonObject connectionBudget(DbTarget admin) throws SQLException {
    try (Connection c = TenantSeed.connect(admin); Statement s = c.createStatement();
         ResultSet rs = s.executeQuery("SELECT current_setting('max_connections')::int, "
             + "current_setting('superuser_reserved_connections')::int, (SELECT count(*) FROM pg_stat_activity "
             + "WHERE backend_type = 'client backend')")) {
      rs.next();
      int max = rs.getInt(1);
      int reserved = rs.getInt(2);
      int inUse = rs.getInt(3);
      return new JsonObject().put("maxConnections", max).put("superuserReserved", reserved).put("inUse", inUse)
          .put("free", max - reserved - inUse);
    }
  }

  /**
   * Samples every 200 ms until stopped: client connections on the whole PostgreSQL server, those of this run (master
   * database and tenant databases of its prefix), and the server's {@code cmb_tenant_pools_open}. Keeps the maxima.
   */
  private static final class Sampler implements Runnable {
    private final DbTarget admin;
    private final BenchDatabase db;
    private final String base;
    volatile boolean stop;
    private long samples;
    private long maxServer;
    private long maxRun;
    private double maxPoolsOpen;
    private double lastPoolsOpen;
    private final List<String> errors = new ArrayList<>();

    Sampler(DbTarget admin, BenchDatabase db, String base) {
      this.admin = admin;
      this.db = db;
      this.base = base;
    }

    @Override
    public void run() {
      String like = db.tenantPrefix().replace("_", "\\_") + "%";
      try (Connection c = TenantSeed.connect(admin)) {
        java.sql.PreparedStatement s = c.prepareStatement("SELECT count(*) FILTER (WHERE backend_type = "
            + "'client backend'), count(*) FILTER (WHERE datname = ? OR datname LIKE ?) FROM pg_stat_activity");
        s.setString(1, db.name());
        s.setString(2, like);
        while (!stop) {
          try (ResultSet rs = s.executeQuery()) {
            rs.next();
            maxServer = Math.max(maxServer, rs.getLong(1));
            maxRun = Math.max(maxRun, rs.getLong(2));
          }
          lastPoolsOpen = metric(base, "cmb_tenant_pools_open");
          maxPoolsOpen = Math.max(maxPoolsOpen, lastPoolsOpen);
          samples++;
          Thread.sleep(200);
        }
      } catch (Exception e) {
        errors.add(String.valueOf(e));
      }
    }

    JsonObject summary() {
      return new JsonObject().put("samples", samples).put("intervalMs", 200)
          .put("maxConnectionsOfThisRun", maxRun).put("maxClientConnectionsOnServer", maxServer)
          .put("maxTenantPoolsOpen", maxPoolsOpen).put("tenantPoolsOpenAtEnd", lastPoolsOpen)
          .put("errors", new JsonArray(errors));
    }
  }

  /**
   * {@code cmb_tenant_pools_created_total}: the Prometheus registry exposes that counter as
   * {@code cmb_tenant_pools_total} (a {@code _created} suffix is reserved there), so either name is read.
   */
  static double poolsCreated(String base) throws Exception {
    double created = metric(base, "cmb_tenant_pools_created_total");
    return Double.isNaN(created) ? metric(base, "cmb_tenant_pools_total") : created;
  }

  private static final HttpClient METRICS = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();

  /** One value from {@code /api/v1/health/metrics} (summed over label sets); NaN when absent. */
  static double metric(String base, String name) throws Exception {
    String body = METRICS.send(java.net.http.HttpRequest.newBuilder(URI.create(base + "/api/v1/health/metrics"))
        .timeout(Duration.ofSeconds(5)).build(), java.net.http.HttpResponse.BodyHandlers.ofString()).body();
    double sum = Double.NaN;
    for (String line : body.split("\n")) {
      if (line.startsWith(name + " ") || line.startsWith(name + "{")) {
        double v = Double.parseDouble(line.substring(line.lastIndexOf(' ') + 1));
        sum = Double.isNaN(sum) ? v : sum + v;
      }
    }
    return sum;
  }

  // -------------------------------------------------------------------------------------------------- shared bits

  private static String masterKey() {
    byte[] key = new byte[32];
    new SecureRandom().nextBytes(key);
    return Base64.getEncoder().encodeToString(key);
  }

  private static Map<String, String> serverEnv(BenchDatabase db, Path dataDir, String masterKey, int bcryptCost,
      Map<String, String> extra) {
    byte[] jwt = new byte[48];
    new SecureRandom().nextBytes(jwt);
    Map<String, String> env = new HashMap<>();
    env.put("DATABASE_URL", db.url());
    env.put("CMB_DATABASE_TENANT_PREFIX", db.tenantPrefix());
    env.put("CMB_AUTH_BCRYPT_COST", Integer.toString(bcryptCost));
    env.put("JWT_SECRET", Base64.getUrlEncoder().withoutPadding().encodeToString(jwt));
    env.put("MASTER_KEY", masterKey);
    env.put("DATA_DIR", dataDir.toString());
    env.put("STORAGE_PATH", dataDir.resolve("storage").toString());
    env.putAll(extra);
    return env;
  }

  private Future<HttpResponse<Buffer>> request(HttpMethod method, String path, String token, JsonObject body) {
    HttpRequest<Buffer> req = client.requestAbs(method, base + path);
    if (token != null) {
      req.putHeader("Authorization", "Bearer " + token);
    }
    return body == null ? req.send() : req.sendJsonObject(body);
  }

  private HttpResponse<Buffer> expect(Future<HttpResponse<Buffer>> call, int status) {
    HttpResponse<Buffer> res = call.await();
    if (res.statusCode() != status) {
      throw new IllegalStateException("expected " + status + ", got " + res.statusCode() + " " + res.bodyAsString());
    }
    return res;
  }

  private JsonObject register(String email) {
    return expect(request(HttpMethod.POST, "/api/v1/auth/register", null, new JsonObject().put("email", email)
        .put("password", "bench password for the data plane")), 201).bodyAsJsonObject().getJsonObject("data");
  }

  private String createConversation(String token, String title) {
    return expect(request(HttpMethod.POST, "/api/v1/conversations", token, new JsonObject().put("title", title)), 201)
        .bodyAsJsonObject().getJsonObject("data").getString("id");
  }

  /**
   * Closed loop at {@code concurrency}: an unrecorded warm-up, then {@code seconds} measured. A request counts when it
   * completes inside the window (so req/s is completions per second of the window); any other status than
   * {@code expected}, or a transport error, is a failure, and the first few are kept.
   */
  /** Measures one scenario: closed-loop requests cycling through {@code requests}, each expecting {@code expected}. */
  @FunctionalInterface
  private interface Scenario {
    JsonObject measure(String name, List<Wrk.Request> requests, int expected) throws Exception;
  }

  /** The JVM client's run of a scenario (see {@link Wrk} for the other): the same cycle and POST bodies. */
  private JsonObject measure(String name, int concurrency, int warmupSeconds, int seconds, List<Wrk.Request> cycle,
      String token, int expected, Supplier<Duration> serverCpu) {
    AtomicLong sentCount = new AtomicLong();
    Supplier<Future<HttpResponse<Buffer>>> request = () -> {
      long n = sentCount.incrementAndGet();
      Wrk.Request r = cycle.get((int) ((n - 1) % cycle.size()));
      return r.bodyPrefix() == null ? request(HttpMethod.valueOf(r.method()), r.path(), token, null)
          : request(HttpMethod.valueOf(r.method()), r.path(), token,
              new JsonObject(r.bodyPrefix() + n + r.bodySuffix()));
    };
    return measure(name, concurrency, warmupSeconds, seconds, request, expected, serverCpu);
  }

  /**
   * Closed loop at {@code concurrency} for {@code seconds} after {@code warmupSeconds}; with {@code serverCpu}, also the
   * server's CPU time per answered request over the measured run (from the first answer after the warm-up).
   */
  private JsonObject measure(String name, int concurrency, int warmupSeconds, int seconds,
      Supplier<Future<HttpResponse<Buffer>>> request, int expected, Supplier<Duration> serverCpu) {
    Latency latency = new Latency();
    AtomicReference<Duration> cpuAtStart = new AtomicReference<>();
    JsonArray failureSamples = new JsonArray();
    long warmupEnd = System.nanoTime() + Duration.ofSeconds(warmupSeconds).toNanos();
    long end = warmupEnd + Duration.ofSeconds(seconds).toNanos();
    AtomicLong warmupFailures = new AtomicLong();
    Workers.run(concurrency, () -> System.nanoTime() < end, () -> {
      long sent = System.nanoTime();
      return request.get().onComplete(res -> {
        long completed = System.nanoTime();
        boolean ok = res.succeeded() && res.result().statusCode() == expected;
        if (completed < warmupEnd) {
          if (!ok) {
            warmupFailures.incrementAndGet();
          }
          return;
        }
        if (completed > end) {
          return;
        }
        if (serverCpu != null && cpuAtStart.get() == null) {
          cpuAtStart.set(serverCpu.get());
        }
        if (ok) {
          latency.record(sent);
        } else {
          latency.fail();
          if (failureSamples.size() < 5) {
            failureSamples.add(res.succeeded() ? res.result().statusCode() + " " + res.result().bodyAsString()
                : String.valueOf(res.cause()));
          }
        }
      });
    }).await();
    double perSecond = latency.count() / (double) seconds;
    Long cpuMicros = cpuAtStart.get() == null || latency.count() == 0 ? null
        : Math.round(serverCpu.get().minus(cpuAtStart.get()).toNanos() / 1000.0 / latency.count());
    System.out.printf("  %-45s %8.0f req/s  %s, server CPU %s us/req%n", name, perSecond, latency.line(), cpuMicros);
    return latency.summary().put("serverCpuMicrosPerRequest", cpuMicros).put("name", name).put("client", "jvm").put("concurrency", concurrency).put("seconds", seconds)
        .put("warmupSeconds", warmupSeconds).put("perSecond", round(perSecond))
        .put("warmupFailures", warmupFailures.get()).put("failureSamples", failureSamples);
  }

  // ------------------------------------------------------------------------------------------------------- output

  private static void print(JsonObject out) {
    System.out.println();
    System.out.printf("data-plane bench (%d cores, load average %.2f at start, %.2f at end; %s; bcrypt cost %d)%n",
        out.getInteger("cores"), out.getDouble("loadAverageAtStart"), out.getDouble("loadAverageAtEnd"),
        out.getString("rateLimits"), out.getInteger("bcryptCost"));
    JsonObject t = out.getJsonObject("throughput");
    if (t != null && t.containsKey("scenarios")) {
      JsonObject s = t.getJsonObject("scenarios");
      System.out.printf("  %d connections, closed loop, %d s after %d s warm-up, tenant pool size %s%n",
          t.getInteger("concurrency"), t.getInteger("seconds"), t.getInteger("warmupSeconds"),
          t.getValue("tenantPoolSize"));
      JsonObject get = s.getJsonObject("getConversation");
      JsonObject page = s.getJsonObject("getMessagePage");
      JsonObject search = s.getJsonObject("search");
      JsonObject post = s.getJsonObject("postMessage");
      if (get != null) {
        line("GET one conversation", get, "goal >= 10000 req/s and p99 <= 20 ms: "
            + metOrNot(get.getDouble("perSecond") >= 10_000 && get.getDouble("p99Ms") <= 20));
      }
      if (page != null) {
        line("GET 50-message page (" + t.getInteger("pageConversationMessages") + " in conv.)", page,
            "goal >= 5000 req/s: " + metOrNot(page.getDouble("perSecond") >= 5_000));
      }
      if (search != null) {
        JsonObject seed = t.getJsonObject("searchSeed");
        line("search (" + seed.getLong("messages") + " messages, " + seed.getString("corpus") + ")", search,
            "goal p99 <= 50 ms: " + metOrNot(search.getDouble("p99Ms") <= 50));
        JsonObject alone = t.getJsonObject("searchInPostgresAlone");
        System.out.printf("    in PostgreSQL alone (%d connections, no node): %.0f first pages/s, %.0f windows of the "
                + "%d newest matches/s; a p99 of 50 ms at %d connections needs at least %d searches/s%n",
            alone.getInteger("connections"), alone.getDouble("searchPerSecond"),
            alone.getDouble("newestMatchesPerSecond"), alone.getInteger("candidates") + 1,
            t.getInteger("concurrency"), t.getInteger("concurrency") * 1000 / 50);
      }
      if (post != null) {
        line("POST a message (" + post.getInteger("conversations") + " conversations)", post, "no goal");
      }
      for (String name : s.fieldNames()) {
        System.out.println("    server handler time, " + name + ": " + s.getJsonObject(name)
            .getJsonObject("serverHandlerMs", new JsonObject()).encode());
      }
      System.out.println("  search corpus: " + t.getJsonObject("searchSeed").encode());
      warnings("throughput server", t);
    }
    JsonObject p = out.getJsonObject("tenantPools");
    if (p != null) {
      if (p.containsKey("skipped")) {
        System.out.println("  tenant pools: SKIPPED: " + p.getString("skipped"));
      } else if (p.containsKey("load")) {
        JsonObject load = p.getJsonObject("load");
        JsonObject samples = p.getJsonObject("samples");
        System.out.printf("  tenant pools: %d users in rotation, bound %d pools x %d connections (bcrypt cost %d for "
                + "setup: %.1f s, %d failed)%n", p.getJsonObject("setup").getInteger("usersReady"),
            p.getInteger("maxTenantPools"), p.getInteger("tenantPoolSize"), p.getInteger("bcryptCost"),
            p.getJsonObject("setup").getDouble("seconds"), p.getJsonObject("setup").getLong("failures"));
        line("GET one conversation, rotating users", load, load.getLong("failures") == 0
            ? "goal zero failed: met" : "goal zero failed: NOT met (" + load.getLong("failures") + " failed)");
        System.out.printf("    max cmb_tenant_pools_open %.0f; max connections of this run %d (whole server %d, "
                + "max_connections %d); %d pools created during warm-up + load%n",
            samples.getDouble("maxTenantPoolsOpen"), samples.getLong("maxConnectionsOfThisRun"),
            samples.getLong("maxClientConnectionsOnServer"),
            p.getJsonObject("postgres").getInteger("maxConnections"), p.getLong("tenantPoolsCreatedDuringLoad"));
        warnings("pools server", p);
      }
    }
  }

  private static void line(String name, JsonObject m, String verdict) {
    System.out.printf("  %-45s %8.0f req/s  p50 %6.2f ms  p99 %7.2f ms  max %7.1f ms  failed %d   %s%n", name,
        m.getDouble("perSecond"), m.getDouble("p50Ms"), m.getDouble("p99Ms"), m.getDouble("maxMs"),
        m.getLong("failures"), verdict);
  }

  private static void warnings(String which, JsonObject part) {
    JsonObject w = part.getJsonObject("serverLogWarnings");
    if (w != null) {
      System.out.println("    " + which + " log: " + w.getJsonArray("blockedThread").size()
          + " blocked-thread warnings, " + w.getJsonArray("otherWarnOrError").size() + " other WARN/ERROR lines ("
          + part.getString("serverLog") + ")");
    }
  }

  private static String metOrNot(boolean met) {
    return met ? "met" : "NOT met";
  }

  private static double round(double value) {
    return Math.round(value * 100) / 100.0;
  }
}
