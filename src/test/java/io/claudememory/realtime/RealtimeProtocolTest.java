package io.claudememory.realtime;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.claudememory.platform.EventAddresses;
import io.claudememory.support.ApiClient;
import io.claudememory.support.Conversations;
import io.claudememory.support.TestServer;
import io.claudememory.support.Users;
import io.claudememory.support.Users.TestUser;
import io.claudememory.support.WsClient;
import io.vertx.core.Vertx;
import io.vertx.core.http.UpgradeRejectedException;
import io.vertx.core.json.JsonObject;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

@DisplayName("Real-time protocol on one node: authentication, rooms and every frame type")
class RealtimeProtocolTest {
  @RegisterExtension
  static final TestServer server = TestServer.start(Map.of("CMB_REALTIME_AUTH_TIMEOUT_MS", "500"));
  static final ApiClient api = server.client();
  static final Vertx vertx = server.app().vertx();

  private static WsClient connect(TestUser user) {
    WsClient ws = WsClient.connect(vertx, server.port(), user.accessToken());
    assertEquals(user.id().toString(), ws.expect("ready").getJsonObject("data").getString("user_id"));
    return ws;
  }

  private static JsonObject join(WsClient ws, UUID room) {
    String id = ws.send("join_room", new JsonObject().put("room_id", room.toString()));
    JsonObject joined = ws.expect("joined");
    assertEquals("ack", ws.answer(id).getString("type"), "the join is acknowledged");
    return joined.getJsonObject("data");
  }

  @Test
  @DisplayName("a token in ?token= authenticates and the socket says ready")
  void tokenInQuery() {
    TestUser ann = Users.register(api);
    try (WsClient ws = WsClient.connect(vertx, server.port(), ann.accessToken())) {
      JsonObject ready = ws.next();
      assertEquals("ready", ready.getString("type"), "ready is the first frame");
      assertEquals(ann.id().toString(), ready.getJsonObject("data").getString("user_id"));
    }
  }

  @Test
  @DisplayName("a bearer subprotocol authenticates and the server answers the bearer subprotocol")
  void tokenInSubprotocol() {
    TestUser ann = Users.register(api);
    try (WsClient ws = WsClient.connectWithSubprotocol(vertx, server.port(), ann.accessToken())) {
      assertEquals("bearer", ws.subProtocol());
      assertEquals(ann.id().toString(), ws.expect("ready").getJsonObject("data").getString("user_id"));
    }
  }

  @Test
  @DisplayName("an authenticate frame within the timeout authenticates; API keys work too")
  void authenticateFrameWithApiKey() {
    TestUser ann = Users.register(api);
    String key = api.post("/api/v1/api-keys", ann.accessToken(), new JsonObject().put("name", "ws")).data()
        .getString("key");
    try (WsClient ws = WsClient.connect(vertx, server.port(), null)) {
      String early = ws.send("join_room", new JsonObject().put("room_id", UUID.randomUUID().toString()));
      assertEquals("unauthenticated", ws.answer(early).getJsonObject("data").getString("code"));
      String id = ws.send("authenticate", new JsonObject().put("token", key));
      assertEquals(ann.id().toString(), ws.expect("ready").getJsonObject("data").getString("user_id"));
      assertEquals("ack", ws.answer(id).getString("type"));
    }
  }

  @Test
  @DisplayName("an invalid token is refused at the upgrade with 401")
  void invalidTokenRefused() {
    Throwable refused = WsClient.refusal(vertx, server.port(), "/ws?token=not-a-token");
    assertNotNull(refused, "the upgrade is refused");
    assertTrue(refused instanceof UpgradeRejectedException rejected && rejected.getStatus() == 401,
        "refused with 401: " + refused);
  }

  @Test
  @DisplayName("no credential within the timeout, or a bad one in the frame, closes the socket with 4401")
  void authenticationTimeoutAndBadFrameCredential() {
    try (WsClient silent = WsClient.connect(vertx, server.port(), null)) {
      assertEquals(4401, silent.closeCode());
    }
    try (WsClient wrong = WsClient.connect(vertx, server.port(), null)) {
      wrong.send("authenticate", new JsonObject().put("token", "forged"));
      assertEquals(4401, wrong.closeCode());
    }
  }

  @Test
  @DisplayName("a logout closes the sockets of that sign-in with 4401; a socket of another sign-in stays usable")
  void logoutClosesItsSockets() {
    TestUser ann = Users.register(api);
    ApiClient.Reply login = api.post("/api/v1/auth/login", null, new JsonObject().put("email", ann.email())
        .put("password", Users.PASSWORD));
    assertEquals(200, login.status());
    closedAlone(ann.accessToken(), login.data().getString("accessToken"), () -> assertEquals(204,
        api.post("/api/v1/auth/logout", null, new JsonObject().put("refreshToken", ann.refreshToken())).status()));
  }

  @Test
  @DisplayName("revoking an API key closes the sockets opened with it with 4401; a token's socket stays usable")
  void revokedKeyClosesItsSockets() {
    TestUser ann = Users.register(api);
    JsonObject key = api.post("/api/v1/api-keys", ann.accessToken(), new JsonObject().put("name", "bot")).data();
    closedAlone(key.getString("key"), ann.accessToken(), () -> assertEquals(204,
        api.delete("/api/v1/api-keys/" + key.getString("id"), ann.accessToken()).status()));
  }

  /** After {@code change}, the socket opened with {@code ended} is closed with 4401; the one opened with {@code kept}
   * still answers. */
  private static void closedAlone(String ended, String kept, Runnable change) {
    try (WsClient gone = WsClient.connect(vertx, server.port(), ended);
         WsClient stays = WsClient.connect(vertx, server.port(), kept)) {
      gone.expect("ready");
      stays.expect("ready");
      change.run();
      assertEquals(4401, gone.closeCode(), "the socket whose credential ended is closed");
      String ping = stays.send("ping", null);
      stays.expect("pong");
      assertEquals("ack", stays.answer(ping).getString("type"), "the other socket is untouched");
    }
  }

  @Test
  @DisplayName("malformed JSON and unknown types get error frames and the socket stays usable")
  void malformedFrames() {
    TestUser ann = Users.register(api);
    try (WsClient ws = connect(ann)) {
      ws.sendRaw("{not json");
      assertEquals("bad_frame", ws.expect("error").getJsonObject("data").getString("code"));
      ws.sendRaw("[1,2]");
      assertEquals("bad_frame", ws.expect("error").getJsonObject("data").getString("code"));
      String unknown = ws.send("dance", new JsonObject());
      assertEquals("unknown_type", ws.answer(unknown).getJsonObject("data").getString("code"));
      String bad = ws.send("join_room", new JsonObject().put("room_id", "nope"));
      assertEquals("invalid", ws.answer(bad).getJsonObject("data").getString("code"));
      String ping = ws.send("ping", null);
      ws.expect("pong");
      assertEquals("ack", ws.answer(ping).getString("type"), "still usable after the errors");
    }
  }

  @Test
  @DisplayName("a message PostgreSQL cannot store (a NUL character) is refused as invalid, like over REST")
  void unstorableContent() {
    TestUser ann = Users.register(api);
    UUID room = Conversations.create(server, ann.id());
    try (WsClient ws = connect(ann)) {
      JsonObject refused = ws.answer(ws.send("send_message", new JsonObject().put("room_id", room.toString())
          .put("content", "a\u0000b").put("client_id", "nul")));
      assertEquals("invalid", refused.getJsonObject("data").getString("code"), refused.encode());
      String ping = ws.send("ping", null);
      assertEquals("ack", ws.answer(ping).getString("type"), "still usable");
    }
  }

  @Test
  @DisplayName("foreign users cannot join and get the same error as for a room that does not exist")
  void foreignRoomsLookMissing() {
    TestUser ann = Users.register(api);
    TestUser bob = Users.register(api);
    UUID annsRoom = Conversations.create(server, ann.id());
    try (WsClient ws = connect(bob)) {
      JsonObject foreign = ws.answer(ws.send("join_room", new JsonObject().put("room_id", annsRoom.toString())));
      JsonObject missing = ws.answer(ws.send("join_room",
          new JsonObject().put("room_id", UUID.randomUUID().toString())));
      assertEquals("error", foreign.getString("type"));
      assertEquals(missing.getJsonObject("data").getString("code"), foreign.getJsonObject("data").getString("code"));
      assertEquals(missing.getJsonObject("data").getString("message"),
          foreign.getJsonObject("data").getString("message"));
      JsonObject send = ws.answer(ws.send("send_message", new JsonObject().put("room_id", annsRoom.toString())
          .put("content", "hi").put("client_id", "x")));
      assertEquals("room_not_found", send.getJsonObject("data").getString("code"), "nor can they post there");
    }
  }

  @Test
  @DisplayName("send_message persists with the next seq, acks, and every socket in the room gets message.created")
  void sendMessage() {
    TestUser ann = Users.register(api);
    UUID room = Conversations.create(server, ann.id());
    try (WsClient phone = connect(ann); WsClient laptop = connect(ann)) {
      assertEquals(0L, join(phone, room).getLong("last_seq"));
      join(laptop, room);
      String id = phone.send("send_message", new JsonObject().put("room_id", room.toString()).put("content", "hello")
          .put("client_id", "tmp-1"));
      JsonObject ack = phone.answer(id).getJsonObject("data");
      assertEquals(1L, ack.getLong("seq"));
      assertEquals("tmp-1", ack.getString("client_id"));
      for (WsClient ws : new WsClient[] {phone, laptop}) {
        JsonObject created = ws.expect("message.created").getJsonObject("data");
        assertEquals(room.toString(), created.getString("room_id"));
        assertEquals(1L, created.getLong("seq"));
        assertEquals("hello", created.getJsonObject("message").getString("content"));
        assertEquals("tmp-1", created.getString("client_id"));
      }
      Conversations.post(server, ann.id(), room, "from REST");
      assertEquals(2L, laptop.expect("message.created").getJsonObject("data").getLong("seq"),
          "messages created elsewhere arrive too");
    }
  }

  @Test
  @DisplayName("typing reaches the others but is not echoed to the sender; presence tells of joins and leaves")
  void typingAndPresence() {
    TestUser ann = Users.register(api);
    UUID room = Conversations.create(server, ann.id());
    try (WsClient first = connect(ann)) {
      join(first, room);
      try (WsClient second = connect(ann)) {
        JsonObject joined = join(second, room);
        assertTrue(joined.getJsonArray("members").contains(ann.id().toString()), "members lists who is there");
        second.send("typing", new JsonObject().put("room_id", room.toString()).put("is_typing", true));
        JsonObject typing = first.expect("typing").getJsonObject("data");
        assertEquals(ann.id().toString(), typing.getString("user_id"));
        assertTrue(typing.getBoolean("is_typing"));
        String ping = second.send("ping", null);
        second.answer(ping);
        assertTrue(second.seen().stream().noneMatch(f -> "typing".equals(f.getString("type"))),
            "the sender does not get its own typing back");
      }
    }
  }

  @Test
  @DisplayName("a user's first socket in a room is announced by presence; leave_room answers left, then not_joined")
  void presenceEvents() {
    TestUser ann = Users.register(api);
    UUID room = Conversations.create(server, ann.id());
    try (WsClient watcher = connect(ann)) {
      join(watcher, room);
      JsonObject presence = watcher.expect("presence").getJsonObject("data");
      assertEquals("join", presence.getString("status"));
      assertEquals(ann.id().toString(), presence.getString("user_id"));
      WsClient leaver = connect(ann);
      join(leaver, room);
      String id = leaver.send("leave_room", new JsonObject().put("room_id", room.toString()));
      assertEquals(room.toString(), leaver.expect("left").getJsonObject("data").getString("room_id"));
      assertEquals("ack", leaver.answer(id).getString("type"));
      String again = leaver.send("leave_room", new JsonObject().put("room_id", room.toString()));
      assertEquals("not_joined", leaver.answer(again).getJsonObject("data").getString("code"));
      leaver.close();
    }
  }

  @Test
  @DisplayName("mark_read persists the read position, never moving it back nor past the last message")
  void markRead() {
    TestUser ann = Users.register(api);
    UUID room = Conversations.create(server, ann.id());
    Conversations.seed(server, ann.id(), room, 5, 0);
    try (WsClient ws = connect(ann)) {
      JsonObject ack = ws.answer(ws.send("mark_read", new JsonObject().put("room_id", room.toString()).put("seq", 3)));
      assertEquals(3L, ack.getJsonObject("data").getLong("seq"));
      ws.answer(ws.send("mark_read", new JsonObject().put("room_id", room.toString()).put("seq", 2)));
      assertEquals(3L, Conversations.readPosition(server, ann.id(), room, ann.id()), "a stale mark is ignored");
      JsonObject far = ws.answer(ws.send("mark_read", new JsonObject().put("room_id", room.toString())
          .put("seq", 99)));
      assertEquals(5L, far.getJsonObject("data").getLong("seq"), "clamped to the last seq");
    }
  }

  @Test
  @DisplayName("cancel publishes claude.cancel with the conversation id")
  void cancel() throws Exception {
    TestUser ann = Users.register(api);
    UUID room = Conversations.create(server, ann.id());
    CompletableFuture<JsonObject> cancelled = new CompletableFuture<>();
    var consumer = vertx.eventBus().<JsonObject>consumer(EventAddresses.CLAUDE_CANCEL, m -> cancelled.complete(m.body()));
    consumer.completion().await(5, TimeUnit.SECONDS);
    try (WsClient ws = connect(ann)) {
      join(ws, room);
      assertEquals("ack", ws.answer(ws.send("cancel", new JsonObject().put("room_id", room.toString())))
          .getString("type"));
      JsonObject body = cancelled.get(10, TimeUnit.SECONDS);
      assertEquals(room.toString(), body.getString("conversationId"));
      assertEquals(ann.id().toString(), body.getString("tenant"));
    } finally {
      consumer.unregister();
    }
  }

  @Test
  @DisplayName("notifications on the user's channel reach all of that user's sockets and nobody else's")
  void notifications() {
    TestUser ann = Users.register(api);
    TestUser bob = Users.register(api);
    try (WsClient annWs = connect(ann); WsClient bobWs = connect(bob)) {
      server.app().realtime().events().publishNotification(ann.id(), new JsonObject().put("kind", "export.done"));
      assertEquals("export.done", annWs.expect("notification").getJsonObject("data").getString("kind"));
      bobWs.answer(bobWs.send("ping", null));
      assertTrue(bobWs.seen().stream().noneMatch(f -> "notification".equals(f.getString("type"))));
    }
  }

  @Test
  @DisplayName("the realtime meters are exported with the node's metrics")
  void metricsExported() {
    TestUser ann = Users.register(api);
    try (WsClient ws = connect(ann)) {
      String scrape = api.get("/api/v1/health/metrics", null).body();
      for (String meter : new String[] {"cmb_ws_sockets_open", "cmb_ws_rooms", "cmb_ws_frames_in_total",
          "cmb_ws_frames_out_total", "cmb_ws_replayed_events_total", "cmb_ws_slow_client_closes_total",
          "cmb_fanout_delay_seconds", "cmb_ws_outbound_pending_bytes"}) {
        assertTrue(scrape.contains(meter), meter + " is exported");
      }
      assertTrue(server.app().realtime().metrics().openSockets() >= 1);
    }
  }

  @Test
  @DisplayName("assistant events published on the room reach its sockets")
  void assistantEvents() {
    TestUser ann = Users.register(api);
    UUID room = Conversations.create(server, ann.id());
    UUID answer = UUID.randomUUID();
    try (WsClient ws = connect(ann)) {
      join(ws, room);
      RoomEvents events = server.app().realtime().events();
      events.publishAssistantDelta(ann.id(), room, answer, 0, "Hel");
      events.publishAssistantDelta(ann.id(), room, answer, 0, "lo");
      events.publishAssistant(ann.id(), room, "assistant.done", new JsonObject().put("message_id", answer.toString()));
      assertEquals("Hel", ws.expect("assistant.delta").getJsonObject("data").getString("text"));
      assertEquals("lo", ws.expect("assistant.delta").getJsonObject("data").getString("text"));
      assertEquals(answer.toString(), ws.expect("assistant.done").getJsonObject("data").getString("message_id"));
    }
  }
}
