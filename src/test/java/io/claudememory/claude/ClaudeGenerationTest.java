package io.claudememory.claude;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.claudememory.platform.EventAddresses;
import io.claudememory.support.ApiClient;
import io.claudememory.support.Awaits;
import io.claudememory.support.FakeClaude;
import io.claudememory.support.RoomEvents;
import io.claudememory.support.TenantSeed;
import io.claudememory.support.TestServer;
import io.claudememory.support.Users;
import io.claudememory.support.Users.TestUser;
import io.claudememory.support.WebhookReceiver;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

@DisplayName("Claude: answers stream to the room, are persisted once, and are built from the conversation's memory")
class ClaudeGenerationTest {
  @RegisterExtension
  @Order(1)
  static final FakeClaude fake = FakeClaude.start();
  @RegisterExtension
  @Order(2)
  static final TestServer server = TestServer.start(fake.nodeEnv(
      "CLAUDE_PROVIDER", "anthropic",
      "CMB_CLAUDE_MODEL_CONTEXT_TOKENS", "tiny-model=2000",
      "CMB_CLAUDE_MAX_PER_USER", "10"));
  static final ApiClient api = server.client();

  @BeforeEach
  void resetFake() {
    fake.reset();
  }

  @Test
  @DisplayName("sending a message over REST stores it, answers at once with the generation, and the answer streams "
      + "to the room and is stored as the message's child; with Accept: text/event-stream it streams on the request")
  void sendAndAnswer() throws Exception {
    TestUser ann = Users.register(api);
    String conversation = api.post("/api/v1/conversations", ann.accessToken(), new JsonObject().put("title", "Sent"))
        .data().getString("id");
    fake.tokenRate(500).tokens(8);
    try (RoomEvents room = new RoomEvents(server.app().vertx(), ann.id(), UUID.fromString(conversation))) {
      ApiClient.Reply sent = api.post("/api/v1/conversations/" + conversation + "/messages", ann.accessToken(),
          new JsonObject().put("content", "Hello Claude"));
      assertEquals(201, sent.status(), sent.body());
      String assistant = sent.data().getJsonObject("generation").getString("assistantMessageId");
      JsonObject done = room.next("assistant.done", 20_000);
      assertEquals(assistant, done.getString("message_id"));
      assertEquals(sent.data().getJsonObject("message").getString("id"),
          done.getJsonObject("message").getString("parentId"), "the answer is the user message's child");
    }
    var streamed = api.web().post("/api/v1/conversations/" + conversation + "/messages")
        .bearerTokenAuthentication(ann.accessToken()).putHeader("Accept", "text/event-stream")
        .sendJsonObject(new JsonObject().put("content", "And again, streamed")).await(30, TimeUnit.SECONDS);
    assertEquals(200, streamed.statusCode());
    String body = streamed.bodyAsString();
    assertTrue(body.startsWith("event: message.created"), body);
    assertTrue(body.contains("event: assistant.delta") && body.contains("event: assistant.done"), body);
    assertEquals(4, api.get("/api/v1/conversations/" + conversation + "/messages", ann.accessToken()).list().size(),
        "two questions and two answers are stored");
    long completed = api.get("/api/v1/audit?limit=200", ann.accessToken()).list().stream()
        .map(JsonObject.class::cast).filter(e -> "assistant.completed".equals(e.getString("action"))).count();
    assertEquals(2, completed, "each stored answer is an assistant.completed event (webhooks and audit)");
  }

  @Test
  @DisplayName("the full answer reaches the room in order and is persisted whole, with usage, as the user "
      + "message's child")
  void fullStream() {
    TestUser ann = Users.register(api);
    TenantSeed seed = new TenantSeed(server, ann.id());
    UUID conversation = seed.conversation(null, null, null);
    UUID question = seed.message(conversation, null, "user", "Say hello.");
    fake.enqueue(FakeClaude.answer("Hel", "lo, ", "wor", "ld!"));

    try (RoomEvents room = new RoomEvents(server.app().vertx(), ann.id(), conversation)) {
      JsonObject reply = generate(ann.id(), conversation, question, new JsonObject());
      assertTrue(reply.getBoolean("accepted"), () -> "the generation is accepted: " + reply);
      JsonObject done = room.end(10_000);
      assertEquals("assistant.done", done.getString("type"), () -> "the answer ends well: " + done);
      List<JsonObject> deltas = room.seen("assistant.delta");
      assertEquals(List.of("Hel", "lo, ", "wor", "ld!"), deltas.stream().map(d -> d.getString("text")).toList(),
          "every delta in order");
      assertEquals(List.of(0, 1, 2, 3), deltas.stream().map(d -> d.getInteger("index")).toList(), "indexes count up");
      String messageId = reply.getString("assistantMessageId");
      assertTrue(deltas.stream().allMatch(d -> messageId.equals(d.getString("message_id"))
          && conversation.toString().equals(d.getString("room_id"))), "deltas name the message and the room");
      JsonObject message = done.getJsonObject("message");
      assertEquals("Hello, world!", message.getString("content"));
      assertEquals(question.toString(), message.getString("parentId"));
      JsonObject created = room.next("message.created", 5000);
      assertEquals(messageId, created.getJsonObject("message").getString("id"), "message.created follows");
    }

    List<TenantSeed.Msg> stored = seed.messages(conversation);
    assertEquals(2, stored.size(), "the assistant message is written once");
    TenantSeed.Msg answer = stored.get(1);
    assertEquals("Hello, world!", answer.content());
    assertEquals(question, answer.parentId(), "child of the user message");
    assertEquals(2, answer.seq());
    assertEquals("end_turn", answer.stopReason());
    assertEquals("claude-sonnet-4-5", answer.model());
    assertEquals(4, answer.usage().getInteger("output_tokens"), "usage from the last message_delta");
    assertEquals(FakeClaude.CACHE_CREATION_TOKENS, answer.usage().getInteger("cache_creation_input_tokens"));
    assertEquals(FakeClaude.CACHE_READ_TOKENS, answer.usage().getInteger("cache_read_input_tokens"));
    assertTrue(answer.usage().getInteger("input_tokens") > 0, "input tokens from message_start");
    assertEquals("Hello, world!", ((JsonArray) answer.blocks()).getJsonObject(0).getString("text"), "blocks kept");
    assertEquals(answer.id(), seed.conversationRow(conversation).getUUID("current_leaf_id"), "the answer is the leaf");

    FakeClaude.Recorded sent = fake.streamed().get(0);
    assertEquals("test-key", sent.headers().get("x-api-key"));
    assertEquals("2023-06-01", sent.headers().get("anthropic-version"));
    assertTrue(sent.headers().get("content-type").startsWith("application/json"));
    assertTrue(sent.body().getBoolean("stream"));
    assertEquals(ann.id().toString(), sent.body().getJsonObject("metadata").getString("user_id"));

    Awaits.until(() -> "Fake title".equals(seed.conversationRow(conversation).getString("title")), 10_000,
        "the conversation gets a title after its first answer");
  }

  @Test
  @DisplayName("the title given after the first answer is a change like any other: a signed conversation.updated "
      + "webhook and an entry in the audit trail")
  void titleIsAnEvent() {
    TestUser ann = Users.register(api);
    try (WebhookReceiver receiver = new WebhookReceiver()) {
      ApiClient.Reply hook = api.post("/api/v1/webhooks", ann.accessToken(), new JsonObject()
          .put("url", receiver.url()).put("events", new JsonArray().add("conversation.updated")));
      assertEquals(201, hook.status(), hook.body());
      receiver.secret(hook.data().getString("secret"));
      String conversation = api.post("/api/v1/conversations", ann.accessToken(), new JsonObject()).data()
          .getString("id");
      ApiClient.Reply sent = api.post("/api/v1/conversations/" + conversation + "/messages", ann.accessToken(),
          new JsonObject().put("content", "Name this conversation"));
      assertEquals(201, sent.status(), sent.body());

      WebhookReceiver.Received updated = receiver.await(r -> conversation.equals(r.body().getJsonObject("data")
          .getString("id")), 1, 20).get(0);
      assertTrue(updated.validSignature(), "the delivery is signed");
      assertEquals("conversation.updated", updated.body().getString("type"));
      assertEquals("Fake title", updated.body().getJsonObject("data").getString("title"));
      assertTrue(api.get("/api/v1/audit?action=conversation.updated", ann.accessToken()).list().stream()
          .map(JsonObject.class::cast).anyMatch(e -> conversation.equals(e.getString("entityId"))),
          "the title change is in the audit trail");
    }
  }

  @Test
  @DisplayName("the request carries project instructions, system prompt, summary and recalled passages in that order, "
      + "and keeps the newest turns when the budget is tight")
  void memoryOrder() {
    TestUser ann = Users.register(api);
    TenantSeed seed = new TenantSeed(server, ann.id());
    UUID project = seed.project("Travel", "You help plan trips. Be brief.");
    UUID trip = seed.conversation(project, "Trip planning", null);
    seed.message(trip, null, "user", "We booked the hotel in Lisbon for March, near the river.");
    UUID elsewhere = seed.conversation(seed.project("Other", null), "Other project talk", null);
    seed.message(elsewhere, null, "user", "The Lisbon hotel of the other project.");
    UUID conversation = seed.conversation(project, "Current", "You are a travel agent.");
    UUID parent = null;
    for (int turn = 1; turn <= 3; turn++) {
      parent = seed.message(conversation, parent, "user", ("turn-" + turn + "-user ").repeat(200));
      parent = seed.message(conversation, parent, "assistant", ("turn-" + turn + "-assistant ").repeat(160));
    }
    seed.summary(conversation, "They discussed flights.", 2);
    UUID question = seed.message(conversation, parent, "user", "What did we decide about the hotel in Lisbon?");

    try (RoomEvents room = new RoomEvents(server.app().vertx(), ann.id(), conversation)) {
      generate(ann.id(), conversation, question, new JsonObject().put("model", "tiny-model").put("maxTokens", 100));
      assertEquals("assistant.done", room.end(10_000).getString("type"));
    }
    JsonObject request = fake.streamed().get(0).body();
    assertEquals("tiny-model", request.getString("model"));
    assertEquals(100, request.getInteger("max_tokens"));
    JsonArray system = request.getJsonArray("system");
    assertEquals("You help plan trips. Be brief.", system.getJsonObject(0).getString("text"),
        "project instructions first");
    assertEquals("You are a travel agent.", system.getJsonObject(1).getString("text"), "then the system prompt");
    assertEquals("ephemeral", system.getJsonObject(1).getJsonObject("cache_control").getString("type"),
        "the stable prefix is marked for caching");
    assertTrue(system.getJsonObject(2).getString("text").contains("They discussed flights."), "then the summary");

    JsonArray messages = request.getJsonArray("messages");
    String roles = messages.stream().map(m -> ((JsonObject) m).getString("role")).collect(Collectors.joining(","));
    assertEquals("user,assistant,user", roles, "only the newest turns that fit, starting with the user");
    assertTrue(text(messages.getJsonObject(0), 0).startsWith("turn-3-user"), "the newest turns are kept");
    assertTrue(messages.getJsonObject(1).getJsonArray("content").getJsonObject(0).containsKey("cache_control"),
        "the history prefix is marked for caching");
    JsonObject last = messages.getJsonObject(2);
    String recalled = text(last, 0);
    assertTrue(recalled.startsWith("<recalled_memory>"), "recalled passages come with the new message");
    assertTrue(recalled.contains("conversation=\"Trip planning\""), "with the conversation title");
    assertTrue(recalled.contains(LocalDate.now(ZoneOffset.UTC).toString()), "and its date");
    assertTrue(recalled.contains("hotel in Lisbon for March"), "the relevant passage");
    assertFalse(recalled.contains("other project"), "never from another project");
    assertFalse(recalled.contains("turn-"), "never from the conversation itself");
    assertEquals("What did we decide about the hotel in Lisbon?", text(last, 1), "then the message itself");

    Awaits.until(() -> Long.valueOf(4).equals(seed.conversationRow(conversation).getLong("summary_through_seq")),
        10_000, "turns left out are folded into the summary in the background");
    assertEquals("Fake summary", seed.conversationRow(conversation).getString("summary"));
    assertEquals(8, seed.messages(conversation).size(), "history itself is untouched");
  }

  @Test
  @DisplayName("GET /conversations/:id/context shows what would be sent next, to the owner only")
  void contextPreview() {
    TestUser ann = Users.register(api);
    TenantSeed seed = new TenantSeed(server, ann.id());
    UUID project = seed.project("P", "Project rules.");
    UUID conversation = seed.conversation(project, "C", "Prompt.");
    seed.message(conversation, null, "user", "First question?");

    ApiClient.Reply reply = api.get("/api/v1/conversations/" + conversation + "/context", ann.accessToken());
    assertEquals(200, reply.status(), reply::body);
    JsonObject request = reply.data().getJsonObject("request");
    assertEquals("Project rules.", request.getJsonArray("system").getJsonObject(0).getString("text"));
    assertEquals("First question?", text(request.getJsonArray("messages").getJsonObject(0), 0));
    assertEquals("anthropic", reply.data().getString("provider"));
    assertTrue(reply.data().getLong("estimatedInputTokens") > 0);

    ApiClient.Reply draft = api.get("/api/v1/conversations/" + conversation + "/context?message=Second%20one",
        ann.accessToken());
    JsonArray drafted = draft.data().getJsonObject("request").getJsonArray("messages");
    assertEquals(2, drafted.size(), "a draft is previewed as the newest turn");
    assertEquals("Second one", text(drafted.getJsonObject(1), 0));
    assertEquals(1, seed.messages(conversation).size(), "and stored nowhere");

    TestUser bob = Users.register(api);
    assertEquals(404, api.get("/api/v1/conversations/" + conversation + "/context", bob.accessToken()).status(),
        "another user's conversation is not found");
  }

  @Test
  @DisplayName("regenerate makes a sibling answer; an edited message is answered on its own branch")
  void regenerateAndEdit() {
    TestUser ann = Users.register(api);
    TenantSeed seed = new TenantSeed(server, ann.id());
    UUID conversation = seed.conversation(null, "Tree", null);
    UUID question = seed.message(conversation, null, "user", "Original question about apples");
    try (RoomEvents room = new RoomEvents(server.app().vertx(), ann.id(), conversation)) {
      generate(ann.id(), conversation, question, new JsonObject());
      UUID first = UUID.fromString(room.end(10_000).getJsonObject("message").getString("id"));

      ApiClient.Reply regen = api.post("/api/v1/conversations/" + conversation + "/messages/" + first
          + "/regenerate", ann.accessToken(), null);
      assertEquals(202, regen.status(), regen::body);
      JsonObject second = room.end(10_000).getJsonObject("message");
      assertEquals(question.toString(), second.getString("parentId"), "the regenerated answer is a sibling");
      assertFalse(first.toString().equals(second.getString("id")));

      UUID edited = seed.message(conversation, null, "user", "Edited question about pears");
      generate(ann.id(), conversation, edited, new JsonObject());
      JsonObject third = room.end(10_000).getJsonObject("message");
      assertEquals(edited.toString(), third.getString("parentId"), "the edit is answered on its new branch");
      JsonArray editRequest = fake.streamed().get(2).body().getJsonArray("messages");
      assertEquals(1, editRequest.size(), "the new branch does not carry the old one");
      assertEquals("Edited question about pears", text(editRequest.getJsonObject(0), 0));
    }
    List<TenantSeed.Msg> stored = seed.messages(conversation);
    assertEquals(5, stored.size());
    assertEquals(2, stored.stream().filter(m -> question.equals(m.parentId())).count(), "two answers to the original");
  }

  @Test
  @DisplayName("cancel stops the upstream request and persists the partial answer as cancelled")
  void cancel() {
    TestUser ann = Users.register(api);
    TenantSeed seed = new TenantSeed(server, ann.id());
    UUID conversation = seed.conversation(null, "Long", null);
    UUID question = seed.message(conversation, null, "user", "Tell me a long story.");
    fake.tokenRate(50).tokens(500);
    try (RoomEvents room = new RoomEvents(server.app().vertx(), ann.id(), conversation)) {
      generate(ann.id(), conversation, question, new JsonObject());
      room.next("assistant.delta", 5000);
      room.next("assistant.delta", 5000);
      ApiClient.Reply cancel = api.post("/api/v1/conversations/" + conversation + "/cancel", ann.accessToken(), null);
      assertEquals(202, cancel.status(), cancel::body);
      JsonObject done = room.end(10_000);
      assertEquals("assistant.done", done.getString("type"));
      JsonObject message = done.getJsonObject("message");
      assertEquals("cancelled", message.getString("stopReason"));
      String streamed = room.seen("assistant.delta").stream().map(d -> d.getString("text"))
          .collect(Collectors.joining());
      assertEquals(streamed, message.getString("content"), "exactly what was streamed is kept");
      assertTrue(message.getString("content").startsWith("tok0 tok1 "));
    }
    Awaits.until(() -> fake.closedByClient() == 1, 5000, "the upstream request is closed");
    assertEquals("cancelled", seed.messages(conversation).get(1).stopReason());
  }

  @Test
  @DisplayName("an answer can be followed over SSE: the text so far, then the rest, then assistant.done")
  void sse() throws Exception {
    TestUser ann = Users.register(api);
    TenantSeed seed = new TenantSeed(server, ann.id());
    UUID conversation = seed.conversation(null, "Streamed", null);
    UUID question = seed.message(conversation, null, "user", "Stream it.");
    fake.tokenRate(200).tokens(20);
    var response = api.web().post("/api/v1/conversations/" + conversation + "/messages/" + question + "/regenerate")
        .bearerTokenAuthentication(ann.accessToken()).putHeader("Accept", "text/event-stream").send()
        .await(20, TimeUnit.SECONDS);
    assertEquals(200, response.statusCode());
    assertTrue(response.getHeader("Content-Type").startsWith("text/event-stream"));
    String body = response.bodyAsString();
    StringBuilder text = new StringBuilder();
    String lastEvent = null;
    JsonObject done = null;
    for (String frame : body.split("\n\n")) {
      String event = null;
      String data = null;
      for (String line : frame.split("\n")) {
        if (line.startsWith("event: ")) {
          event = line.substring(7);
        } else if (line.startsWith("data: ")) {
          data = line.substring(6);
        }
      }
      if (event == null) {
        continue;
      }
      lastEvent = event;
      if (event.equals("assistant.delta")) {
        text.append(new JsonObject(data).getString("text"));
      } else if (event.equals("assistant.done")) {
        done = new JsonObject(data);
      }
    }
    assertEquals("assistant.done", lastEvent, "the stream ends with assistant.done");
    assertNotNull(done);
    assertEquals(done.getJsonObject("message").getString("content"), text.toString(),
        "the deltas add up to the stored answer, without gap or duplicate");
  }

  @Test
  @DisplayName("the text so far of a running answer is available to late joiners")
  void snapshots() {
    TestUser ann = Users.register(api);
    TenantSeed seed = new TenantSeed(server, ann.id());
    UUID conversation = seed.conversation(null, "Snap", null);
    UUID question = seed.message(conversation, null, "user", "Go.");
    fake.tokenRate(50).tokens(300);
    try (RoomEvents room = new RoomEvents(server.app().vertx(), ann.id(), conversation)) {
      generate(ann.id(), conversation, question, new JsonObject());
      room.next("assistant.delta", 5000);
      room.next("assistant.delta", 5000);
      List<StreamSnapshot> snaps = await(server.app().generations().snapshots(ann.id(), conversation));
      assertEquals(1, snaps.size());
      assertTrue(snaps.get(0).index() >= 1 && snaps.get(0).text().startsWith("tok0 tok1 "), snaps::toString);
      server.app().generations().cancel(ann.id(), conversation);
      room.end(10_000);
    }
    assertTrue(await(server.app().generations().snapshots(ann.id(), conversation)).isEmpty(), "gone when over");
  }

  static JsonObject generate(UUID tenant, UUID conversation, UUID userMessage, JsonObject options) {
    return await(server.app().vertx().eventBus().<JsonObject>request(EventAddresses.CLAUDE_GENERATE, new JsonObject()
        .put("tenant", tenant.toString()).put("conversationId", conversation.toString())
        .put("userMessageId", userMessage.toString()).put("options", options))).body();
  }

  static String text(JsonObject message, int block) {
    return message.getJsonArray("content").getJsonObject(block).getString("text");
  }

  static <T> T await(io.vertx.core.Future<T> future) {
    try {
      return future.await(30, TimeUnit.SECONDS);
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }
}
