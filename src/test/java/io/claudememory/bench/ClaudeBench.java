package io.claudememory.bench;

import io.claudememory.claude.SseParser;
import io.claudememory.platform.EventAddresses;
import io.claudememory.realtime.RoomEvents;
import io.claudememory.support.FakeClaude;
import io.claudememory.support.TenantSeed;
import io.claudememory.support.TestPorts;
import io.claudememory.support.TestServer;
import io.claudememory.support.Users;
import io.vertx.core.Context;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.MessageConsumer;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.WebSocket;
import io.vertx.core.http.WebSocketConnectOptions;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.RequestOptions;

import io.vertx.core.json.JsonObject;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;

import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * {@code scripts/bench/claude}: the Claude path against the fake at a realistic token rate; the server in this JVM,
 * the fakes in child JVMs.
 * <ol>
 *   <li>latency: a token is stamped with {@code System.nanoTime()} as the fake writes it; the time until it reaches an
 *       event-bus consumer of the room (what the WebSocket relay listens to) and an SSE client is recorded;</li>
 *   <li>200 concurrent generations (through {@code claude.generate}, so all on the Claude verticle's event loop),
 *       with the event-loop delay of every loop sampled every 10 ms;</li>
 *   <li>memory: heap after GC with 200 generations held open mid-answer (on a second node whose fake stops every
 *       answer halfway), minus before, per generation.</li>
 * </ol>
 */
public final class ClaudeBench {
  private static final int CONCURRENT = Integer.getInteger("bench.concurrent", 200);
  private static final double RATE = Double.parseDouble(System.getProperty("bench.rate", "50"));
  private static final int TOKENS = Integer.getInteger("bench.tokens", 200);

  public static void main(String[] args) throws Exception {
    // The fake runs in its own JVM, so its CPU, garbage and pauses are not counted as the server's.
    // System.nanoTime() is CLOCK_MONOTONIC on Linux, shared by processes: its stamps compare across the two.
    int fakePort = TestPorts.free();
    Process fakeProcess = fake(fakePort, "--timestamps");
    int stallingPort = TestPorts.free();
    Process stallingFake = fake(stallingPort, "--stall-after", Integer.toString(TOKENS / 2));
    Map<String, String> env = Map.of("ANTHROPIC_API_KEY", "bench", "ANTHROPIC_BASE_URL", "http://127.0.0.1:" + fakePort,
        "CMB_CLAUDE_MAX_PER_NODE", "1000", "CMB_CLAUDE_MAX_PER_USER", "1000", "CMB_CLAUDE_TITLES", "false",
        "CMB_CLAUDE_SUMMARIES", "false", "LOG_LEVEL", "warn");
    TestServer server = TestServer.start(env);
    Vertx clientVertx = Vertx.vertx();
    JsonObject results = new JsonObject().put("tokenRatePerSecond", RATE).put("tokensPerAnswer", TOKENS)
        .put("cores", Runtime.getRuntime().availableProcessors());
    try {
      Vertx vertx = server.app().vertx();
      Users.TestUser user = Users.register(server.client());
      TenantSeed seed = new TenantSeed(server, user.id());

      // 1. latency, a few answers one after the other: to the event bus, a WebSocket client in the room, over SSE
      List<Long> busLatency = new ArrayList<>();
      List<Long> wsLatency = new ArrayList<>();
      List<Long> sseLatency = new ArrayList<>();
      HttpClient http = clientVertx.createHttpClient();
      for (int i = 0; i < 5; i++) {
        UUID conversation = seed.conversation(null, "bench", null);
        UUID question = seed.message(conversation, null, "user", "Go.");
        busLatency.addAll(oneAnswer(vertx, user.id(), conversation, question));
        wsLatency.addAll(wsAnswer(clientVertx, vertx, server.port(), user, conversation, question));
        sseLatency.addAll(sseAnswer(http, server.port(), user, conversation, question));
      }
      results.put("eventBusLatencyMicros", stats(busLatency)).put("webSocketLatencyMicros", stats(wsLatency))
          .put("sseLatencyMicros", stats(sseLatency));
      System.out.println("latency token→event bus (µs): " + stats(busLatency).encode());
      System.out.println("latency token→WebSocket client (µs): " + stats(wsLatency).encode());
      System.out.println("latency token→SSE client (µs): " + stats(sseLatency).encode());

      // 2. concurrency with event-loop delay
      List<UUID[]> targets = new ArrayList<>();
      for (int i = 0; i < CONCURRENT; i++) {
        UUID conversation = seed.conversation(null, "bench", null);
        targets.add(new UUID[] {conversation, seed.message(conversation, null, "user", "Go.")});
      }
      LoopProbe probe = new LoopProbe(vertx, 16);
      long started = System.nanoTime();
      long cpuBefore = processCpuNanos();
      List<Long> concurrentLatency = concurrent(vertx, user.id(), targets);
      long cpuNanos = processCpuNanos() - cpuBefore;
      long elapsedMs = (System.nanoTime() - started) / 1_000_000;
      probe.stop();
      results.put("concurrent", new JsonObject().put("generations", CONCURRENT).put("wallMs", elapsedMs)
          .put("deltasPerSecond", concurrentLatency.size() * 1000L / Math.max(1, elapsedMs))
          .put("eventBusLatencyMicros", stats(concurrentLatency))
          .put("eventLoopDelayMillis", probe.stats())
          .put("processCpuMicrosPerDelta", cpuNanos / 1000 / Math.max(1, concurrentLatency.size()))
          .put("loadAverage", ManagementFactory.getOperatingSystemMXBean().getSystemLoadAverage())
          .put("metersAfter", server.metrics().getMeters().size()));
      System.out.println(CONCURRENT + " concurrent: " + results.getJsonObject("concurrent").encode());

      // 3. memory per active generation: a second node whose fake stops every answer halfway and holds it open
      Map<String, String> stallingEnv = new java.util.HashMap<>(env);
      stallingEnv.put("ANTHROPIC_BASE_URL", "http://127.0.0.1:" + stallingPort);
      TestServer holder = TestServer.start(server.scope(), stallingEnv);
      try {
        Vertx holderVertx = holder.app().vertx();
        List<UUID[]> held = new ArrayList<>();
        for (int i = 0; i < CONCURRENT; i++) {
          UUID conversation = seed.conversation(null, "bench", null);
          held.add(new UUID[] {conversation, seed.message(conversation, null, "user", "Go.")});
        }
        AtomicInteger deltas = new AtomicInteger();
        List<MessageConsumer<JsonObject>> consumers = new ArrayList<>();
        for (UUID[] target : held) {
          consumers.add(holderVertx.eventBus().consumer(EventAddresses.room(user.id(), target[0]),
              m -> deltas.incrementAndGet()));
        }
        long before = usedHeapAfterGc();
        held.forEach(target -> request(holderVertx, user.id(), target[0], target[1]));
        long deadline = System.currentTimeMillis() + 60_000;
        while (deltas.get() < CONCURRENT * (TOKENS / 2) && System.currentTimeMillis() < deadline) {
          Thread.sleep(50);
        }
        long after = usedHeapAfterGc();
        results.put("memory", new JsonObject().put("activeGenerations", holder.app().generations().activeCount())
            .put("bytesPerGeneration", (after - before) / CONCURRENT)
            .put("textCharsPerGeneration", TOKENS / 2 * "tok100 ".length()));
        System.out.println("memory: " + results.getJsonObject("memory").encode());
        held.forEach(target -> holder.app().generations().cancel(user.id(), target[0]));
        while (holder.app().generations().activeCount() > 0 && System.currentTimeMillis() < deadline + 30_000) {
          Thread.sleep(50);
        }
        consumers.forEach(MessageConsumer::unregister);
      } finally {
        holder.stopNode();
      }
    } finally {
      Path out = Path.of("bench-results", "claude.json");
      Files.createDirectories(out.getParent());
      Files.writeString(out, results.encodePrettily());
      System.out.println("written " + out.toAbsolutePath());
      server.close();
      clientVertx.close();
      fakeProcess.destroy();
      stallingFake.destroy();
    }
  }

  private static void request(Vertx vertx, UUID tenant, UUID conversation, UUID question) {
    vertx.eventBus().request(EventAddresses.CLAUDE_GENERATE, new JsonObject().put("tenant", tenant.toString())
        .put("conversationId", conversation.toString()).put("userMessageId", question.toString()));
  }

  /** One answer; the latency of each of its tokens to a room consumer, in µs. */
  private static List<Long> oneAnswer(Vertx vertx, UUID tenant, UUID conversation, UUID question) throws Exception {
    ConcurrentLinkedQueue<Long> sink = new ConcurrentLinkedQueue<>();
    CountDownLatch done = new CountDownLatch(1);
    MessageConsumer<JsonObject> consumer = vertx.eventBus().consumer(EventAddresses.room(tenant, conversation), m -> {
      JsonObject event = RoomEvents.flatten(m.body());
      if ("assistant.delta".equals(event.getString("type"))) {
        sink.add(latencyMicros(event.getString("text")));
      } else if (!"message.created".equals(event.getString("type"))) {
        done.countDown();
      }
    });
    consumer.completion().await(5, TimeUnit.SECONDS);
    request(vertx, tenant, conversation, question);
    done.await(120, TimeUnit.SECONDS);
    vertx.setTimer(1000, t -> consumer.unregister()); // message.created is still on its way
    return new ArrayList<>(sink);
  }

  /** The same at a WebSocket client that joined the room, measured at the client. */
  private static List<Long> wsAnswer(Vertx vertx, Vertx node, int port, Users.TestUser user, UUID conversation,
      UUID question) throws Exception {
    ConcurrentLinkedQueue<Long> sink = new ConcurrentLinkedQueue<>();
    CountDownLatch joined = new CountDownLatch(1);
    CountDownLatch done = new CountDownLatch(1);
    WebSocket ws = vertx.createWebSocketClient().connect(new WebSocketConnectOptions().setHost("127.0.0.1")
        .setPort(port).setURI("/ws?token=" + user.accessToken())).await(10, TimeUnit.SECONDS);
    ws.textMessageHandler(text -> {
      JsonObject frame = new JsonObject(text);
      switch (frame.getString("type")) {
        case "joined" -> joined.countDown();
        case "assistant.delta" -> sink.add(latencyMicros(frame.getJsonObject("data").getString("text")));
        case "assistant.done", "assistant.error" -> done.countDown();
        default -> { }
      }
    });
    ws.writeTextMessage(new JsonObject().put("type", "join_room").put("data", new JsonObject()
        .put("room_id", conversation.toString())).encode());
    joined.await(10, TimeUnit.SECONDS);
    request(node, user.id(), conversation, question);
    done.await(120, TimeUnit.SECONDS);
    ws.close().await(10, TimeUnit.SECONDS);
    return new ArrayList<>(sink);
  }

  /** The same over SSE (regenerate with Accept: text/event-stream), measured at the client. */
  private static List<Long> sseAnswer(HttpClient http, int port, Users.TestUser user, UUID conversation,
      UUID question) throws Exception {
    ConcurrentLinkedQueue<Long> sink = new ConcurrentLinkedQueue<>();
    CountDownLatch done = new CountDownLatch(1);
    SseParser parser = new SseParser((name, data) -> {
      if ("assistant.delta".equals(name)) {
        sink.add(latencyMicros(new JsonObject(data).getString("text")));
      }
    });
    http.request(new RequestOptions().setMethod(HttpMethod.POST).setHost("127.0.0.1").setPort(port)
            .setURI("/api/v1/conversations/" + conversation + "/messages/" + question + "/regenerate")
            .putHeader("Authorization", "Bearer " + user.accessToken()).putHeader("Accept", "text/event-stream"))
        .compose(req -> req.send())
        .onSuccess(resp -> {
          resp.handler(parser::feed);
          resp.endHandler(v -> done.countDown());
        })
        .onFailure(err -> done.countDown());
    done.await(120, TimeUnit.SECONDS);
    return new ArrayList<>(sink);
  }

  private static List<Long> concurrent(Vertx vertx, UUID tenant, List<UUID[]> targets) throws Exception {
    ConcurrentLinkedQueue<Long> sink = new ConcurrentLinkedQueue<>();
    CountDownLatch done = new CountDownLatch(targets.size());
    List<MessageConsumer<JsonObject>> consumers = new ArrayList<>();
    Map<UUID, Boolean> ended = new ConcurrentHashMap<>();
    for (UUID[] target : targets) {
      MessageConsumer<JsonObject> consumer = vertx.eventBus().consumer(EventAddresses.room(tenant, target[0]), m -> {
        JsonObject event = RoomEvents.flatten(m.body());
        String type = event.getString("type");
        if ("assistant.delta".equals(type)) {
          sink.add(latencyMicros(event.getString("text")));
        } else if (("assistant.done".equals(type) || "assistant.error".equals(type))
            && ended.putIfAbsent(target[0], true) == null) {
          done.countDown();
        }
      });
      consumer.completion().await(5, TimeUnit.SECONDS);
      consumers.add(consumer);
    }
    targets.forEach(target -> request(vertx, tenant, target[0], target[1]));
    done.await(300, TimeUnit.SECONDS);
    vertx.setTimer(1000, t -> consumers.forEach(MessageConsumer::unregister));
    return new ArrayList<>(sink);
  }

  /** The fake Messages API in a child JVM, on {@code port}, once it listens. */
  private static Process fake(int port, String... extra) throws Exception {
    List<String> command = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
        "-cp", System.getProperty("java.class.path"), FakeClaude.class.getName(), "--port", Integer.toString(port),
        "--tokens", Integer.toString(TOKENS), "--rate", Double.toString(RATE)));
    command.addAll(List.of(extra));
    Process process = new ProcessBuilder(command).redirectErrorStream(true)
        .redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
    long deadline = System.currentTimeMillis() + 60_000;
    while (true) {
      try (java.net.Socket socket = new java.net.Socket("127.0.0.1", port)) {
        return process;
      } catch (java.io.IOException notYet) {
        if (!process.isAlive() || System.currentTimeMillis() > deadline) {
          throw new IllegalStateException("the fake did not start on port " + port);
        }
        Thread.sleep(100);
      }
    }
  }

  /** CPU time of the whole process (server, fake and consumers alike). */
  private static long processCpuNanos() {
    return ((com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean())
        .getProcessCpuTime();
  }

  private static long latencyMicros(String token) {
    String[] tokens = token.trim().split(" ");
    long sent = Long.parseLong(tokens[tokens.length - 1].substring(1)); // a snapshot carries several: the last
    return (System.nanoTime() - sent) / 1000;
  }

  private static JsonObject stats(List<Long> values) {
    long[] sorted = values.stream().mapToLong(Long::longValue).sorted().toArray();
    if (sorted.length == 0) {
      return new JsonObject().put("count", 0);
    }
    return new JsonObject().put("count", sorted.length).put("p50", pct(sorted, 50)).put("p90", pct(sorted, 90))
        .put("p99", pct(sorted, 99)).put("max", sorted[sorted.length - 1]);
  }

  private static long pct(long[] sorted, double p) {
    return sorted[Math.min(sorted.length - 1, (int) Math.ceil(p / 100 * sorted.length) - 1)];
  }

  private static long usedHeapAfterGc() throws InterruptedException {
    for (int i = 0; i < 3; i++) {
      System.gc();
      Thread.sleep(200);
    }
    return ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed();
  }

  /** Samples every event loop: a 10 ms periodic timer on contexts spread over the loops; lag = late firing. */
  private static final class LoopProbe {
    private final Vertx vertx;
    private final List<long[]> timers = new ArrayList<>();
    private final ConcurrentLinkedQueue<Long> lagMicros = new ConcurrentLinkedQueue<>();

    LoopProbe(Vertx vertx, int contexts) {
      this.vertx = vertx;
      for (int i = 0; i < contexts; i++) {
        Context context = ((io.vertx.core.internal.VertxInternal) vertx).createEventLoopContext();
        long[] state = {0, System.nanoTime()};
        context.runOnContext(v -> state[0] = vertx.setPeriodic(10, id -> {
          long now = System.nanoTime();
          lagMicros.add(Math.max(0, (now - state[1]) / 1000 - 10_000));
          state[1] = now;
        }));
        timers.add(state);
      }
    }

    void stop() {
      timers.forEach(state -> vertx.cancelTimer(state[0]));
    }

    JsonObject stats() {
      long[] sorted = lagMicros.stream().mapToLong(Long::longValue).sorted().toArray();
      return new JsonObject().put("samples", sorted.length).put("p50", pct(sorted, 50) / 1000.0)
          .put("p99", pct(sorted, 99) / 1000.0).put("max", sorted[sorted.length - 1] / 1000.0);
    }
  }

}
