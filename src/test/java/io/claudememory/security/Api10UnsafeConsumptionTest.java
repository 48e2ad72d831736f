package io.claudememory.security;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.claudememory.support.ApiClient;
import io.claudememory.support.ApiClient.Reply;
import io.claudememory.support.Awaits;
import io.claudememory.support.FakeClaude;
import io.claudememory.support.RoomEvents;
import io.claudememory.support.TestServer;
import io.claudememory.support.Users;
import io.claudememory.support.Users.TestUser;
import io.vertx.core.Handler;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Queue;
import java.util.UUID;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * OWASP API10:2023: what Claude, an n8n workflow or a webhook endpoint sends back is not trusted to keep to its
 * protocol. The fake Claude of the suite's node breaks the Messages API's stream in each way below, an n8n fake on a
 * node of this class's own answers what no workflow should, and webhook endpoints keep sending: each answer must end
 * in a plain error within the limits (never a hang, an unbounded buffer or a 5xx), and the node keeps serving.
 */
@ExtendWith(SecuritySuite.class)
@DisplayName("API10:2023 Unsafe Consumption of APIs: Claude, n8n and webhook answers are bounded and checked")
class Api10UnsafeConsumptionTest {
  static final String BIG = "x".repeat(64 * 1024);
  static TestServer shared;
  static FakeClaude claude;
  static ApiClient api;
  static Vertx vertx;
  static HttpServer upstream;
  static final Queue<Handler<HttpServerRequest>> n8nAnswers = new ConcurrentLinkedQueue<>();
  static final AtomicInteger closedEarly = new AtomicInteger();
  static final AtomicInteger internalHits = new AtomicInteger();
  static TestServer n8nNode;
  static final Map<TestServer, TestUser> USERS = new java.util.HashMap<>();
  static ApiClient n8nApi;

  @BeforeAll
  static void start() {
    shared = SecuritySuite.shared().server();
    claude = SecuritySuite.shared().claude();
    api = SecuritySuite.shared().client();
    vertx = Vertx.vertx();
    upstream = vertx.createHttpServer().requestHandler(Api10UnsafeConsumptionTest::upstream)
        .listen(0, "127.0.0.1").await();
    n8nNode = SecuritySuite.start(Map.of("N8N_WEBHOOK_URL", base() + "/n8n", "CMB_CLAUDE_MAX_RETRIES", "0",
        "CMB_CLAUDE_TITLES", "false", "CMB_CLAUDE_SUMMARIES", "false", "CMB_WEBHOOKS_TIMEOUT_MS", "1000"));
    n8nApi = SecuritySuite.observe(n8nNode.client());
  }

  @AfterAll
  static void stop() throws Exception {
    if (n8nNode != null) {
      n8nNode.close();
    }
    vertx.close().await(10, TimeUnit.SECONDS);
  }

  @Test
  @DisplayName("a Claude stream that breaks the protocol (block indexes out of range or of the wrong type, events that "
      + "are not JSON, a line without end, an answer far past max_tokens, HTML, an endless error) ends in an error")
  void claudeStreamsAreUntrusted() {
    String start = sse("message_start", new JsonObject().put("type", "message_start").put("message", new JsonObject()
        .put("id", "msg_x").put("type", "message").put("role", "assistant").put("model", "claude-x")
        .put("content", new JsonArray()).put("usage", new JsonObject().put("input_tokens", 1))));
    String block = sse("content_block_start", new JsonObject().put("type", "content_block_start").put("index", 0)
        .put("content_block", new JsonObject().put("type", "text").put("text", "")));
    Map<String, FakeClaude.Script> breaches = new LinkedHashMap<>();
    breaches.put("a block index of 2^31-1", FakeClaude.raw(start, sse("content_block_start", new JsonObject()
        .put("type", "content_block_start").put("index", Integer.MAX_VALUE).put("content_block", new JsonObject()
            .put("type", "text").put("text", "")))));
    breaches.put("a negative block index", FakeClaude.raw(start, block, delta(-1, "text")));
    breaches.put("a block index that is text", FakeClaude.raw(start, sse("content_block_start", new JsonObject()
        .put("type", "content_block_start").put("index", "zero").put("content_block", new JsonObject()))));
    breaches.put("a delta that is not an object", FakeClaude.raw(start, block, sse("content_block_delta",
        new JsonObject().put("type", "content_block_delta").put("index", 0).put("delta", "boom"))));
    breaches.put("an event that is not JSON", FakeClaude.raw(start, "event: content_block_delta\ndata: {oops\n\n"));
    breaches.put("a line that never ends", FakeClaude.endless(200, start + "event: content_block_delta\ndata: ", BIG));
    breaches.put("an answer far past max_tokens", FakeClaude.endless(200, start + block, delta(0, BIG)));
    breaches.put("an HTML page", FakeClaude.raw("<html><body>Gateway</body></html>"));
    breaches.put("an error body that never ends", FakeClaude.endless(400,
        "{\"type\":\"error\",\"error\":{\"type\":\"invalid_request_error\",\"message\":\"", BIG));
    for (Map.Entry<String, FakeClaude.Script> breach : breaches.entrySet()) {
      claude.enqueue(breach.getValue());
      JsonObject end = generate(shared, api);
      assertEquals("assistant.error", end.getString("type"), breach.getKey() + ": " + end.encode());
      assertFalse(end.encode().contains("Exception"), breach.getKey() + " says nothing of the server's insides");
      JsonObject kept = end.getJsonObject("message");
      assertTrue(kept == null || kept.getString("content", "").length() <= (1 << 20) + BIG.length(),
          breach.getKey() + ": what is kept stays within the bound");
    }
    Awaits.until(() -> claude.closedByClient() >= 3, 10_000, "the three endless answers were cut off");
    assertEquals("assistant.done", generate(shared, api).getString("type"), "the node still answers normally");
  }

  @Test
  @DisplayName("an n8n answer that is not JSON, endless, or a redirect to an internal address ends in an error; "
      + "the redirect is not followed")
  void n8nAnswersAreUntrusted() {
    n8nAnswers.add(req -> req.response().putHeader("content-type", "application/json").end("{not json"));
    n8nAnswers.add(req -> {
      HttpServerResponse response = req.response().putHeader("content-type", "application/json").setChunked(true);
      response.write("{\"output\":\"");
      endless(response);
    });
    n8nAnswers.add(req -> req.response().setStatusCode(302).putHeader("Location", base() + "/internal").end());
    for (int i = 0; i < 3; i++) {
      JsonObject end = generate(n8nNode, n8nApi);
      assertEquals("assistant.error", end.getString("type"), end.encode());
      assertEquals("upstream_error", end.getString("code"), end.encode());
      assertFalse(end.getString("reason").contains("Exception") || end.getString("reason").contains("decode"),
          "the reason is plain: " + end.getString("reason"));
    }
    assertEquals(0, internalHits.get(), "the redirect was not followed");
    Awaits.until(() -> closedEarly.get() >= 1, 10_000, "the endless answer's connection was closed");
    n8nAnswers.add(req -> req.response().putHeader("content-type", "application/json")
        .end(new JsonObject().put("output", "a proper answer").encode()));
    assertEquals("assistant.done", generate(n8nNode, n8nApi).getString("type"), "a proper answer still works");
  }

  @Test
  @DisplayName("a webhook endpoint that keeps sending, fast or slowly, does not hold the node: the attempt ends and "
      + "its connection is closed")
  void webhookEndpointsCannotHoldTheNode() {
    TestUser ann = Users.register(n8nApi);
    int before = closedEarly.get();
    for (String path : List.of("/hook-endless", "/hook-trickle")) {
      Reply hook = n8nApi.post("/api/v1/webhooks", ann.accessToken(), new JsonObject().put("url", base() + path)
          .put("events", new JsonArray().add("import.completed")));
      assertEquals(201, hook.status(), hook.body());
      String id = hook.data().getString("id");
      assertEquals(202, n8nApi.post("/api/v1/webhooks/" + id + "/test", ann.accessToken(), null).status());
      Awaits.until(() -> !n8nApi.get("/api/v1/webhooks/" + id + "/deliveries", ann.accessToken()).list()
          .getJsonObject(0).getJsonArray("attemptLog").isEmpty(), 15_000, path + ": the attempt ended");
    }
    Awaits.until(() -> closedEarly.get() >= before + 2, 10_000, "both endpoints' connections were closed");
  }

  /** One answer in a new conversation of the node's test user (registered once per node). */
  private static JsonObject generate(TestServer node, ApiClient client) {
    TestUser user = USERS.computeIfAbsent(node, n -> Users.register(client));
    String conversation = client.post("/api/v1/conversations", user.accessToken(), new JsonObject()).data()
        .getString("id");
    try (RoomEvents room = new RoomEvents(node.app().vertx(), user.id(), UUID.fromString(conversation))) {
      Reply sent = client.post("/api/v1/conversations/" + conversation + "/messages", user.accessToken(),
          new JsonObject().put("content", "tell me"));
      assertEquals(201, sent.status(), sent.body());
      return room.end(20_000);
    }
  }

  /** The n8n fake, the internal address it redirects to, and webhook endpoints that never stop sending. */
  private static void upstream(HttpServerRequest req) {
    switch (req.path()) {
      case "/n8n" -> {
        Handler<HttpServerRequest> answer = n8nAnswers.poll();
        req.body().onSuccess(ignored -> (answer == null ? (Handler<HttpServerRequest>) r -> r.response()
            .setStatusCode(500).end() : answer).handle(req));
      }
      case "/internal" -> {
        internalHits.incrementAndGet();
        req.response().end("{\"output\":\"internal\"}");
      }
      case "/hook-endless" -> req.body().onSuccess(ignored -> endless(req.response().setChunked(true)));
      case "/hook-trickle" -> req.body().onSuccess(ignored -> {
        HttpServerResponse response = req.response().setChunked(true);
        response.write("t");
        long timer = vertx.setPeriodic(100, t -> {
          if (!response.closed()) {
            response.write("t");
          }
        });
        response.closeHandler(v -> {
          vertx.cancelTimer(timer);
          closedEarly.incrementAndGet();
        });
      });
      default -> req.response().setStatusCode(404).end();
    }
  }

  /** Writes without end, as fast as the reader reads; counts the connection when the reader closes it. */
  private static void endless(HttpServerResponse response) {
    boolean[] closed = {false};
    response.closeHandler(v -> {
      closed[0] = true;
      closedEarly.incrementAndGet();
    });
    Runnable[] pump = new Runnable[1];
    pump[0] = () -> {
      while (!closed[0] && !response.writeQueueFull()) {
        response.write(BIG);
      }
      if (!closed[0]) {
        response.drainHandler(v -> pump[0].run());
      }
    };
    pump[0].run();
  }

  private static String base() {
    return "http://127.0.0.1:" + upstream.actualPort();
  }

  private static String delta(int index, String text) {
    return sse("content_block_delta", new JsonObject().put("type", "content_block_delta").put("index", index)
        .put("delta", new JsonObject().put("type", "text_delta").put("text", text)));
  }

  private static String sse(String event, JsonObject data) {
    return "event: " + event + "\ndata: " + data.encode() + "\n\n";
  }
}
