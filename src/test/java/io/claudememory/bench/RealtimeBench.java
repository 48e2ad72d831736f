package io.claudememory.bench;

import io.claudememory.support.TestDatabase;
import io.claudememory.support.TestPorts;
import io.claudememory.support.TestRedis;
import io.claudememory.support.TestServer;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.VerticleBase;
import io.vertx.core.http.WebSocket;
import io.vertx.core.http.WebSocketClient;
import io.vertx.core.http.WebSocketClientOptions;
import io.vertx.core.http.WebSocketConnectOptions;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.WebClient;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Load generator for {@code /ws} (run by {@code scripts/bench/realtime}, not by the test suite). Starts the server as
 * separate JVMs from the packaged jar (so its memory is measured alone), against a fresh master database and, when
 * available, Redis; then measures: idle authenticated sockets held by one node (RSS and heap per socket) and the
 * connection rate; deliveries per second and end-to-end latency for one room with a publisher at a fixed rate; the
 * latency added by relaying through Redis to a second node. Prints the figures and writes them as JSON.
 */
public final class RealtimeBench {
  private static final String MARK = "\"content\":\"bench:";
  private static final int CLIENT_LOOPS = 2;
  private static final int WARMUP_SECONDS = 5;
  private final Vertx vertx = Vertx.vertx(new VertxOptions().setEventLoopPoolSize(CLIENT_LOOPS));
  /** One context per client event loop: sockets are spread over them (a connection stays on its opener's loop). */
  private final List<Context> loops = new ArrayList<>();
  /** Close codes of sockets the server closed while a room run was measuring. */
  private final Map<Short, AtomicInteger> serverCloses = new ConcurrentHashMap<>();
  private volatile boolean measuring;
  private final List<Process> nodes = new ArrayList<>();
  private final JsonObject results = new JsonObject();
  private TestDatabase.Scope scope;
  private final String channelPrefix = "bench" + UUID.randomUUID().toString().substring(0, 6) + ":";

  public static void main(String[] args) throws Exception {
    Map<String, Integer> opts = new HashMap<>(Map.of("idle", 18_000, "room", 1000, "rate", 50, "seconds", 20));
    for (String arg : args) {
      String[] kv = arg.replaceFirst("^--", "").split("=", 2);
      opts.put(kv[0], Integer.parseInt(kv[1]));
    }
    RealtimeBench bench = new RealtimeBench();
    try {
      bench.run(opts);
    } finally {
      bench.shutdown();
    }
    System.exit(0);
  }

  private void run(Map<String, Integer> opts) throws Exception {
    for (int i = 0; i < CLIENT_LOOPS; i++) {
      vertx.deployVerticle(new VerticleBase() {
        @Override
        public Future<?> start() {
          synchronized (loops) {
            loops.add(context);
          }
          return Future.succeededFuture();
        }
      }).await(10, TimeUnit.SECONDS);
    }
    scope = TestDatabase.create();
    String redis = TestRedis.url();
    int portA = TestPorts.free();
    int portB = TestPorts.free();
    Process a = startNode("bench-a", portA, redis);
    Process b = redis == null ? null : startNode("bench-b", portB, redis);
    awaitReady(portA);
    if (b != null) {
      awaitReady(portB);
    }
    WebClient http = WebClient.create(vertx);
    JsonObject reg = http.post(portA, "127.0.0.1", "/api/v1/auth/register").sendJsonObject(new JsonObject()
        .put("email", "bench-" + UUID.randomUUID() + "@example.com").put("password", "correct horse battery staple"))
        .await(60, TimeUnit.SECONDS).bodyAsJsonObject().getJsonObject("data");
    String token = reg.getString("accessToken");
    String userId = reg.getJsonObject("user").getString("id");
    UUID room = createConversation(userId);
    results.put("conditions", new JsonObject().put("cores", Runtime.getRuntime().availableProcessors())
        .put("serverHeap", "-Xmx1g").put("redis", redis != null).put("loopback", true)
        .put("note", "load generator, both server JVMs, PostgreSQL and Redis share the same cores"));

    idleSockets(a, portA, token, opts.get("idle"));
    roomFanout("room_one_node", portA, portA, token, room, opts.get("room"), 0, opts.get("rate"),
        opts.get("seconds"));
    if (b != null) {
      UUID second = createConversation(userId);
      roomFanout("room_two_nodes", portA, portB, token, second, opts.get("room") / 2, opts.get("room") / 2,
          opts.get("rate"), opts.get("seconds"));
      JsonObject one = results.getJsonObject("room_two_nodes");
      one.put("addedP99MsThroughRedis", one.getDouble("p99MsNodeB") - one.getDouble("p99MsNodeA"));
    }
    String json = results.encodePrettily();
    System.out.println(json);
    Path out = Path.of("bench-results");
    Files.createDirectories(out);
    Path file = out.resolve("realtime-" + System.currentTimeMillis() + ".json");
    Files.writeString(file, json);
    System.out.println("written to " + file);
  }

  private Process startNode(String id, int port, String redis) throws IOException {
    Path data = Files.createTempDirectory("cmb-bench");
    List<String> command = new ArrayList<>(List.of("java", "-Xmx1g"));
    command.addAll(BenchServer.extraJvmOptions(id));
    command.addAll(List.of("-jar", "target/claude-memory-backend.jar"));
    ProcessBuilder pb = new ProcessBuilder(command);
    Map<String, String> env = pb.environment();
    env.put("DATABASE_URL", TestServer.uri(scope.master()));
    env.put("PORT", Integer.toString(port));
    env.put("NODE_ID", id);
    env.put("DATA_DIR", data.toString());
    env.put("STORAGE_PATH", data.resolve("storage").toString());
    env.put("JWT_SECRET", TestServer.SHARED_JWT_SECRET);
    env.put("MASTER_KEY", TestServer.SHARED_MASTER_KEY);
    env.put("CMB_AUTH_BCRYPT_COST", "4");
    env.put("CMB_DATABASE_TENANT_PREFIX", scope.tenantPrefix());
    env.put("CMB_REALTIME_PRESENCE_MAX_ROOM_SIZE", "100");
    env.put("CMB_REALTIME_MESSAGES_PER_SECOND", "1000");
    env.put("LOG_LEVEL", "warn");
    if (redis != null) {
      env.put("REDIS_URL", redis);
      env.put("CMB_REALTIME_REDIS_CHANNEL_PREFIX", channelPrefix);
    }
    pb.redirectErrorStream(true).redirectOutput(data.resolve("node.log").toFile());
    Process p = pb.start();
    nodes.add(p);
    return p;
  }

  private void awaitReady(int port) throws Exception {
    WebClient http = WebClient.create(vertx);
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
    while (System.nanoTime() < deadline) {
      try {
        if (http.get(port, "127.0.0.1", "/api/v1/health/readiness").send().await(5, TimeUnit.SECONDS)
            .statusCode() == 200) {
          return;
        }
      } catch (Exception notYet) {
        // starting
      }
      Thread.sleep(200);
    }
    throw new IllegalStateException("node on " + port + " did not become ready");
  }

  private UUID createConversation(String userId) throws Exception {
    UUID id = UUID.randomUUID();
    String db = scope.tenantPrefix() + userId.replace("-", "");
    try (var c = TestDatabase.connect(scope.master().withDatabase(db)); var s = c.prepareStatement(
        "INSERT INTO conversations (id, title) VALUES (?, 'bench')")) {
      s.setObject(1, id);
      s.executeUpdate();
    }
    return id;
  }

  /** Opens {@code count} sockets with at most 256 upgrades in flight; answers them once all said ready. */
  private List<WebSocket> open(WebSocketClient client, int port, String token, int count,
      java.util.function.BiConsumer<WebSocket, String> handler) throws Exception {
    ConcurrentLinkedQueue<WebSocket> opened = new ConcurrentLinkedQueue<>();
    AtomicInteger started = new AtomicInteger();
    AtomicInteger ready = new AtomicInteger();
    AtomicInteger failed = new AtomicInteger();
    Promise<Void> all = Promise.promise();
    Runnable[] next = new Runnable[1];
    next[0] = () -> {
      if (started.incrementAndGet() > count) {
        return;
      }
      var ws = client.webSocket();
      ws.closeHandler(v -> {
        if (measuring && ws.closeStatusCode() != null) {
          serverCloses.computeIfAbsent(ws.closeStatusCode(), code -> new AtomicInteger()).incrementAndGet();
        }
      });
      ws.textMessageHandler(text -> {
        if (text.startsWith("{\"type\":\"ready\"")) {
          if (ready.incrementAndGet() + failed.get() == count) {
            all.tryComplete();
          }
          next[0].run();
        } else if (handler != null) {
          handler.accept(ws, text);
        }
      });
      ws.connect(new WebSocketConnectOptions().setHost("127.0.0.1").setPort(port).setURI("/ws?token=" + token))
          .onSuccess(connected -> opened.add(ws))
          .onFailure(err -> {
            if (failed.incrementAndGet() == 1) {
              System.err.println("connect failed: " + err.getMessage());
            }
            if (ready.get() + failed.get() == count) {
              all.tryComplete();
            }
            next[0].run();
          });
    };
    for (int i = 0; i < Math.min(256, count); i++) {
      loops.get(i % loops.size()).runOnContext(v -> next[0].run());
    }
    all.future().await(600, TimeUnit.SECONDS);
    if (failed.get() > 0) {
      System.err.println(failed.get() + " of " + count + " sockets failed to open");
    }
    return new ArrayList<>(opened);
  }

  private void idleSockets(Process node, int port, String token, int count) throws Exception {
    System.gc();
    gc(node);
    long rssBefore = rssKb(node.pid());
    long heapBefore = heapUsed(node.pid());
    WebSocketClient client = vertx.createWebSocketClient(new WebSocketClientOptions().setMaxConnections(count + 10)
        .setConnectTimeout(30_000));
    long start = System.nanoTime();
    List<WebSocket> sockets = open(client, port, token, count, null);
    double seconds = (System.nanoTime() - start) / 1e9;
    gc(node);
    long rssAfter = rssKb(node.pid());
    long heapAfter = heapUsed(node.pid());
    int n = sockets.size();
    JsonObject r = new JsonObject().put("socketsRequested", count).put("socketsOpen", n)
        .put("connectSeconds", round(seconds)).put("connectionsPerSecond", round(n / seconds))
        .put("serverRssMbBefore", rssBefore / 1024).put("serverRssMbAfter", rssAfter / 1024)
        .put("rssKbPerSocket", round((rssAfter - rssBefore) / (double) n))
        .put("heapMbAfterGc", heapAfter / 1024 / 1024)
        .put("heapKbPerSocketAfterGc", round((heapAfter - heapBefore) / 1024.0 / n))
        .put("note", "each socket authenticated with a JWT in ?token=, 256 upgrades in flight; fd limit "
            + "20,000 per process bounds the count");
    r.put("metricsScrapeWithSocketsOpen", scrapeTimes(port, 10));
    results.put("idle_sockets", r);
    System.out.println("idle sockets: " + r.encode());
    Future.join(sockets.stream().map(WebSocket::close).toList()).await(120, TimeUnit.SECONDS);
    client.close().await(60, TimeUnit.SECONDS);
  }

  private void roomFanout(String name, int portA, int portB, String token, UUID room, int onA, int onB, int rate,
      int seconds) throws Exception {
    int members = onA + onB;
    Samples atA = new Samples(onA * rate * (seconds + 5));
    Samples atB = new Samples(onB * rate * (seconds + 5));
    AtomicInteger joined = new AtomicInteger();
    Promise<Void> allJoined = Promise.promise();
    String join = new JsonObject().put("type", "join_room").put("data", new JsonObject().put("room_id",
        room.toString())).encode();
    Map<WebSocket, AtomicInteger> perSocket = new ConcurrentHashMap<>();
    java.util.function.Function<Samples, java.util.function.BiConsumer<WebSocket, String>> handler =
        samples -> (ws, text) -> {
          int at = text.indexOf(MARK);
          if (at >= 0) {
            long now = System.nanoTime();
            int end = text.indexOf('"', at + MARK.length());
            samples.add(now - Long.parseLong(text.substring(at + MARK.length(), end)));
            perSocket.computeIfAbsent(ws, k -> new AtomicInteger()).incrementAndGet();
          } else if (text.startsWith("{\"type\":\"joined\"")) {
            if (joined.incrementAndGet() == members) {
              allJoined.tryComplete();
            }
          }
        };
    WebSocketClient client = vertx.createWebSocketClient(new WebSocketClientOptions().setMaxConnections(members + 10));
    List<WebSocket> a = open(client, portA, token, onA, handler.apply(atA));
    List<WebSocket> b = onB == 0 ? List.of() : open(client, portB, token, onB, handler.apply(atB));
    List<WebSocket> everyone = new ArrayList<>(a);
    everyone.addAll(b);
    everyone.forEach(ws -> ws.writeTextMessage(join));
    allJoined.future().await(300, TimeUnit.SECONDS);
    WebSocket publisher = open(client, portA, token, 1, null).get(0);
    // Warm-up, not measured: the same load for WARMUP_SECONDS, so JIT compilation and first-use costs of both the
    // nodes and this generator are not read as delivery latency.
    publish(publisher, room, rate, WARMUP_SECONDS);
    long warm = (long) rate * WARMUP_SECONDS * members;
    long settle = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    while (atA.count() + atB.count() < warm && System.nanoTime() < settle) {
      Thread.sleep(20);
    }
    atA.reset();
    atB.reset();
    perSocket.clear();
    serverCloses.clear();
    measuring = true;
    JsonObject serverBefore = serverCounters(portA, portB);
    int total = rate * seconds;
    long start = System.nanoTime();
    publish(publisher, room, rate, seconds);
    long expected = (long) total * members;
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    while (atA.count() + atB.count() < expected && System.nanoTime() < deadline) {
      Thread.sleep(20);
    }
    double elapsed = (System.nanoTime() - start) / 1e9;
    measuring = false;
    long complete = everyone.stream().filter(ws -> perSocket.getOrDefault(ws, new AtomicInteger()).get() >= total)
        .count();
    JsonObject closes = new JsonObject();
    serverCloses.forEach((code, n) -> closes.put(Short.toString(code), n.get()));
    JsonObject serverAfter = serverCounters(portA, portB);
    JsonObject serverDuring = new JsonObject();
    serverAfter.forEach(e -> serverDuring.put(e.getKey(), (Double) e.getValue() - serverBefore.getDouble(e.getKey(),
        0.0)));
    long[] all = Samples.merged(atA, atB);
    long received = atA.count() + atB.count();
    JsonObject r = new JsonObject().put("members", members).put("membersOnNodeA", onA).put("membersOnNodeB", onB)
        .put("publishRatePerSecond", rate).put("messagesPublished", total).put("deliveriesExpected", expected)
        .put("deliveriesReceived", received).put("seconds", round(elapsed))
        .put("deliveriesPerSecond", round(received / elapsed))
        .put("p50Ms", pct(all, 0.50)).put("p99Ms", pct(all, 0.99)).put("maxMs", pct(all, 1.0))
        .put("membersWithEveryMessage", complete).put("socketsClosedByServerDuringRun", closes)
        .put("serverCountersDuringRun", serverDuring);
    if (onB > 0) {
      long[] viaA = Samples.merged(atA);
      long[] viaB = Samples.merged(atB);
      r.put("p50MsNodeA", pct(viaA, 0.5)).put("p99MsNodeA", pct(viaA, 0.99))
          .put("p50MsNodeB", pct(viaB, 0.5)).put("p99MsNodeB", pct(viaB, 0.99));
    }
    r.put("note", "end-to-end: publisher's send_message (persisted in PostgreSQL, seq allocated) to each member's "
        + "message.created; one authenticated user, publisher on node A");
    results.put(name, r);
    System.out.println(name + ": " + r.encode());
    everyone.add(publisher);
    Future.join(everyone.stream().map(WebSocket::close).toList()).await(120, TimeUnit.SECONDS);
    client.close().await(60, TimeUnit.SECONDS);
  }

  /** Sends {@code rate} persisted messages a second for {@code seconds}, each carrying its send time; returns after. */
  private void publish(WebSocket publisher, UUID room, int rate, int seconds) throws Exception {
    int total = rate * seconds;
    AtomicLong published = new AtomicLong();
    long start = System.nanoTime();
    long periodNanos = 1_000_000_000L / rate;
    Promise<Void> done = Promise.promise();
    vertx.setPeriodic(1, 1, id -> {
      long due = Math.min(total, (System.nanoTime() - start) / periodNanos + 1);
      while (published.get() < due) {
        published.incrementAndGet();
        publisher.writeTextMessage(new JsonObject().put("type", "send_message").put("data", new JsonObject()
            .put("room_id", room.toString()).put("content", "bench:" + System.nanoTime())).encode());
      }
      if (published.get() >= total) {
        vertx.cancelTimer(id);
        done.complete();
      }
    });
    done.future().await(seconds + 60, TimeUnit.SECONDS);
  }

  /** Times {@code rounds} scrapes of the Prometheus endpoint, one at a time: what a scraper pays at this load. */
  private JsonObject scrapeTimes(int port, int rounds) throws Exception {
    WebClient http = WebClient.create(vertx);
    long[] ms = new long[rounds];
    int bytes = 0;
    for (int i = 0; i < rounds; i++) {
      long start = System.nanoTime();
      bytes = http.get(port, "127.0.0.1", "/api/v1/health/metrics").send().await(60, TimeUnit.SECONDS).body()
          .length();
      ms[i] = System.nanoTime() - start;
    }
    http.close();
    Arrays.sort(ms);
    return new JsonObject().put("rounds", rounds).put("medianMs", round(ms[rounds / 2] / 1e6))
        .put("maxMs", round(ms[rounds - 1] / 1e6)).put("bytes", bytes);
  }

  /** The nodes' realtime counters ({@code cmb_ws_*_total}), summed over both ports when they differ. */
  private JsonObject serverCounters(int portA, int portB) throws Exception {
    JsonObject sums = new JsonObject();
    WebClient http = WebClient.create(vertx);
    for (int port : portA == portB ? new int[] {portA} : new int[] {portA, portB}) {
      String text = http.get(port, "127.0.0.1", "/api/v1/health/metrics").send().await(30, TimeUnit.SECONDS)
          .bodyAsString();
      for (String line : text.split("\n")) {
        if (line.startsWith("cmb_ws_") && line.contains("_total ")) {
          String name = line.substring(0, line.indexOf(' '));
          double value = Double.parseDouble(line.substring(line.lastIndexOf(' ') + 1));
          sums.put(name, sums.getDouble(name, 0.0) + value);
        }
      }
    }
    http.close();
    return sums;
  }

  /** Latency samples recorded from client event loops. */
  private static final class Samples {
    private final long[] values;
    private final AtomicInteger next = new AtomicInteger();

    Samples(int capacity) {
      values = new long[Math.max(1, capacity)];
    }

    void add(long nanos) {
      int i = next.getAndIncrement();
      if (i < values.length) {
        values[i] = nanos;
      }
    }

    long count() {
      return next.get();
    }

    void reset() {
      next.set(0);
    }

    static long[] merged(Samples... all) {
      long[] out = new long[0];
      for (Samples s : all) {
        int n = (int) Math.min(s.count(), s.values.length);
        long[] grown = Arrays.copyOf(out, out.length + n);
        System.arraycopy(s.values, 0, grown, out.length, n);
        out = grown;
      }
      Arrays.sort(out);
      return out;
    }
  }

  private static double pct(long[] sorted, double p) {
    if (sorted.length == 0) {
      return -1;
    }
    int i = (int) Math.min(sorted.length - 1, Math.ceil(p * sorted.length) - 1);
    return round(sorted[Math.max(0, i)] / 1e6);
  }

  private static double round(double v) {
    return Math.round(v * 100) / 100.0;
  }

  private static long rssKb(long pid) throws IOException {
    for (String line : Files.readAllLines(Path.of("/proc/" + pid + "/status"))) {
      if (line.startsWith("VmRSS:")) {
        return Long.parseLong(line.replaceAll("[^0-9]", ""));
      }
    }
    return -1;
  }

  private static void gc(Process node) throws Exception {
    new ProcessBuilder("jcmd", Long.toString(node.pid()), "GC.run").redirectErrorStream(true)
        .redirectOutput(ProcessBuilder.Redirect.DISCARD).start().waitFor(60, TimeUnit.SECONDS);
  }

  /** Heap used after a full GC, in bytes, from {@code jcmd GC.heap_info} (the "used" of the whole heap). */
  private static long heapUsed(long pid) throws Exception {
    Process p = new ProcessBuilder("jcmd", Long.toString(pid), "GC.heap_info").redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes());
    p.waitFor(60, TimeUnit.SECONDS);
    java.util.regex.Matcher m = java.util.regex.Pattern.compile("used (\\d+)K").matcher(out);
    return m.find() ? Long.parseLong(m.group(1)) * 1024 : -1;
  }

  private void shutdown() {
    nodes.forEach(Process::destroy);
    for (Process p : nodes) {
      try {
        p.waitFor(30, TimeUnit.SECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
    if (scope != null) {
      scope.drop();
    }
    vertx.close();
  }
}
