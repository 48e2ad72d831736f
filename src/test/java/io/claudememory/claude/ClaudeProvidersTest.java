package io.claudememory.claude;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.claudememory.platform.EventAddresses;
import io.claudememory.support.ApiClient;
import io.claudememory.support.Awaits;
import io.claudememory.support.RoomEvents;
import io.claudememory.support.TenantSeed;
import io.claudememory.support.TestServer;
import io.claudememory.support.Users;
import io.claudememory.support.Users.TestUser;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpServer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

@DisplayName("Claude providers: an n8n workflow answers in one piece; with none, sending says how to configure one")
class ClaudeProvidersTest {
  static Vertx standInVertx;
  static HttpServer n8n;
  static final List<JsonObject> received = new CopyOnWriteArrayList<>();
  static TestServer n8nServer;
  static TestServer noneServer;

  @BeforeAll
  static void start() throws Exception {
    standInVertx = Vertx.vertx();
    // A stand-in for Webhook → Claude → Respond to Webhook ("All Incoming Items": a list of items).
    n8n = standInVertx.createHttpServer().requestHandler(req -> req.body().onSuccess(body -> {
      JsonObject json = body.toJsonObject();
      received.add(json);
      String answer = "title".equals(json.getString("task")) ? new JsonObject().put("text", "N8n title").encode()
          : new JsonArray().add(new JsonObject().put("output", "Hi from n8n")).encode();
      req.response().putHeader("content-type", "application/json").end(answer);
    })).listen(0, "127.0.0.1").await(10, TimeUnit.SECONDS);
    n8nServer = TestServer.start(Map.of("N8N_WEBHOOK_URL", "http://127.0.0.1:" + n8n.actualPort()
        + "/webhook/claude"));
    noneServer = TestServer.start(Map.of("CLAUDE_PROVIDER", "none"));
  }

  @AfterAll
  static void stop() {
    n8nServer.close();
    noneServer.close();
    n8n.close();
    standInVertx.close();
  }

  @Test
  @DisplayName("the n8n provider posts the conversation, system prompt, messages and model, and delivers the answer "
      + "as one delta")
  void n8nAnswers() {
    TestUser ann = Users.register(n8nServer.client());
    TenantSeed seed = new TenantSeed(n8nServer, ann.id());
    UUID conversation = seed.conversation(seed.project("P", "Project rules."), null, "Be kind.");
    UUID question = seed.message(conversation, null, "user", "Hello workflow");
    try (RoomEvents room = new RoomEvents(n8nServer.app().vertx(), ann.id(), conversation)) {
      JsonObject reply = n8nServer.app().vertx().eventBus().<JsonObject>request(EventAddresses.CLAUDE_GENERATE,
          new JsonObject().put("tenant", ann.id().toString()).put("conversationId", conversation.toString())
              .put("userMessageId", question.toString())).await(20, TimeUnit.SECONDS).body();
      assertTrue(reply.getBoolean("accepted"), reply::encode);
      JsonObject done = room.end(10_000);
      assertEquals("assistant.done", done.getString("type"), done::encode);
      assertEquals(List.of("Hi from n8n"), room.seen("assistant.delta").stream().map(d -> d.getString("text"))
          .toList(), "one delta");
      assertEquals("Hi from n8n", done.getJsonObject("message").getString("content"));
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
    JsonObject body = received.stream().filter(b -> "answer".equals(b.getString("task"))).findFirst().orElseThrow();
    assertEquals(conversation.toString(), body.getString("conversation_id"));
    assertEquals("claude-sonnet-4-5", body.getString("model"));
    assertEquals("Project rules.\n\nBe kind.", body.getString("system"));
    assertEquals("Hello workflow", body.getJsonArray("messages").getJsonObject(0).getString("content"));
    assertEquals("end_turn", seed.messages(conversation).get(1).stopReason());
    Awaits.until(() -> "N8n title".equals(seed.conversationRow(conversation).getString("title")), 10_000,
        "the workflow also writes the title");
  }

  @Test
  @DisplayName("the answer shapes of a Respond to Webhook node are all understood")
  void n8nShapes() {
    assertEquals("a", N8nAnswers.parse(Buffer.buffer("{\"output\":\"a\"}"), null).text(), "AI Agent");
    assertEquals("b", N8nAnswers.parse(Buffer.buffer("[{\"text\":\"b\"}]"), null).text(), "all items, LLM chain");
    assertEquals("c", N8nAnswers.parse(Buffer.buffer("{\"json\":{\"response\":\"c\"}}"), null).text(), "item");
    assertEquals("d", N8nAnswers.parse(Buffer.buffer("{\"data\":{\"answer\":\"d\"}}"), null).text(), "in a field");
    N8nAnswers.Parsed api = N8nAnswers.parse(Buffer.buffer("{\"content\":[{\"type\":\"text\",\"text\":\"e\"}],"
        + "\"stop_reason\":\"max_tokens\",\"usage\":{\"input_tokens\":3,\"output_tokens\":1}}"), null);
    assertEquals("e", api.text(), "the Messages API response itself");
    assertEquals("max_tokens", api.stopReason());
    assertEquals(3, api.usage().getInteger("input_tokens"));
    assertEquals("plain", N8nAnswers.parse(Buffer.buffer("plain"), "text/plain").text(), "Text");
  }

  @Test
  @DisplayName("with no provider, a generation is refused with 503 and a reason that says how to configure one")
  void noneRefuses() throws Exception {
    TestUser ann = Users.register(noneServer.client());
    TenantSeed seed = new TenantSeed(noneServer, ann.id());
    UUID conversation = seed.conversation(null, null, null);
    UUID question = seed.message(conversation, null, "user", "Anyone?");
    JsonObject reply = noneServer.app().vertx().eventBus().<JsonObject>request(EventAddresses.CLAUDE_GENERATE,
        new JsonObject().put("tenant", ann.id().toString()).put("conversationId", conversation.toString())
            .put("userMessageId", question.toString())).await(20, TimeUnit.SECONDS).body();
    assertFalse(reply.getBoolean("accepted"));
    assertEquals(503, reply.getInteger("status"));
    assertEquals("no_provider", reply.getString("code"));
    assertTrue(reply.getString("reason").contains("ANTHROPIC_API_KEY")
        && reply.getString("reason").contains("N8N_WEBHOOK_URL"), reply::encode);

    ApiClient.Reply problem = noneServer.client().post("/api/v1/conversations/" + conversation + "/messages/"
        + question + "/regenerate", ann.accessToken(), null);
    assertEquals(503, problem.status());
    assertTrue(problem.json().getString("detail").contains("ANTHROPIC_API_KEY"), problem::body);
    assertEquals("none", noneServer.client().get("/api/v1/conversations/" + conversation + "/context",
        ann.accessToken()).data().getString("provider"), "the context can still be inspected");
  }
}
