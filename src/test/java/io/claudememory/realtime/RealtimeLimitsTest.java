package io.claudememory.realtime;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.claudememory.support.Conversations;
import io.claudememory.support.TestServer;
import io.claudememory.support.Users;
import io.claudememory.support.Users.TestUser;
import io.claudememory.support.WsClient;
import io.vertx.core.http.WebSocketClientOptions;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

@DisplayName("Limits: each is answered with an error frame or a documented close code, and memory stays bounded")
class RealtimeLimitsTest {
  static final int OUTBOUND = 65_536;
  static TestServer server;
  static TestServer heartbeat;

  @BeforeAll
  static void start() {
    server = TestServer.start(Map.of("CMB_REALTIME_MAX_FRAME_BYTES", "2048", "CMB_REALTIME_MAX_ROOMS_PER_SOCKET", "2",
        "CMB_REALTIME_OUTBOUND_QUEUE_BYTES", Integer.toString(OUTBOUND)));
    heartbeat = TestServer.start(server.scope(), Map.of("CMB_REALTIME_PING_INTERVAL_MS", "200",
        "CMB_REALTIME_PONG_TIMEOUT_MS", "300"));
  }

  @AfterAll
  static void stop() {
    heartbeat.stopNode();
    server.close();
  }

  static WsClient connect(TestServer node, TestUser user) {
    WsClient ws = WsClient.connect(node.app().vertx(), node.port(), user.accessToken());
    ws.expect("ready");
    return ws;
  }

  static String code(JsonObject answer) {
    return "error".equals(answer.getString("type")) ? answer.getJsonObject("data").getString("code") : "ack";
  }

  /** Waits, bounded, for a server-side condition. */
  static void await(BooleanSupplier condition, String what) {
    long deadline = System.nanoTime() + 15_000_000_000L;
    while (!condition.getAsBoolean()) {
      if (System.nanoTime() > deadline) {
        throw new AssertionError("timed out waiting for " + what);
      }
      try {
        Thread.sleep(1);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new AssertionError(e);
      }
    }
  }

  static double counter(TestServer node, String name) {
    return node.metrics().get(name).counter().count();
  }

  static double pendingBytes() {
    return server.metrics().get("cmb_ws_outbound_pending_bytes").gauge().value();
  }

  /**
   * Publishes one event and waits until the server dealt with it: written to the socket, queued for it, or the
   * socket closed. Keeps the test's own backlog on the event bus at one event.
   */
  static void paced(Runnable publish) {
    double framesOut = counter(server, "cmb_ws_frames_out_total");
    double pending = pendingBytes();
    double closes = counter(server, "cmb_ws_slow_client_closes_total");
    publish.run();
    await(() -> counter(server, "cmb_ws_frames_out_total") > framesOut || pendingBytes() != pending
        || counter(server, "cmb_ws_slow_client_closes_total") > closes, "the event to be handled");
  }

  @Test
  @DisplayName("a node shutting down closes its sockets with 1001 so clients resume elsewhere")
  void shutdownGoesAway() {
    TestServer leaving = TestServer.start(server.scope(), Map.of());
    TestUser ann = Users.register(leaving.client());
    WsClient ws = connect(leaving, ann);
    leaving.stopNode();
    assertEquals(1001, ws.closeCode());
    ws.close();
  }

  @Test
  @DisplayName("a frame over the size limit gets frame_too_large and the socket stays usable; past 4x it is dropped")
  void frameTooLarge() {
    TestUser ann = Users.register(server.client());
    try (WsClient ws = connect(server, ann)) {
      ws.sendRaw(new JsonObject().put("type", "ping").put("data", new JsonObject().put("pad", "x".repeat(3000)))
          .encode());
      assertEquals("frame_too_large", ws.expect("error").getJsonObject("data").getString("code"));
      ws.answer(ws.send("ping", null));
      ws.sendRaw("x".repeat(4 * 2048 + 1));
      short code = ws.closeCode();
      assertTrue(code == 1009 || code == 1006, "past the transport's hard cap the connection is dropped: " + code);
    }
  }

  @Test
  @DisplayName("joining more rooms than allowed gets too_many_rooms")
  void tooManyRooms() {
    TestUser ann = Users.register(server.client());
    try (WsClient ws = connect(server, ann)) {
      List<String> codes = new ArrayList<>();
      for (int i = 0; i < 3; i++) {
        UUID room = Conversations.create(server, ann.id());
        codes.add(code(ws.answer(ws.send("join_room", new JsonObject().put("room_id", room.toString())))));
      }
      assertEquals(List.of("ack", "ack", "too_many_rooms"), codes);
    }
  }

  @Test
  @DisplayName("more than 10 typing events or 20 messages a second get rate_limited")
  void rateLimits() {
    TestUser ann = Users.register(server.client());
    UUID room = Conversations.create(server, ann.id());
    try (WsClient ws = connect(server, ann)) {
      ws.answer(ws.send("join_room", new JsonObject().put("room_id", room.toString())));
      List<String> typing = new ArrayList<>();
      for (int i = 0; i < 15; i++) {
        typing.add(ws.send("typing", new JsonObject().put("room_id", room.toString()).put("is_typing", true)));
      }
      long typingRefused = typing.stream().map(ws::answer).map(RealtimeLimitsTest::code)
          .filter("rate_limited"::equals).count();
      assertTrue(typingRefused >= 3 && typingRefused <= 5, "15 typing events at once: ~5 refused, not "
          + typingRefused);
      List<String> sends = new ArrayList<>();
      for (int i = 0; i < 26; i++) {
        sends.add(ws.send("send_message", new JsonObject().put("room_id", room.toString()).put("content", "m" + i)));
      }
      long sendRefused = sends.stream().map(ws::answer).map(RealtimeLimitsTest::code)
          .filter("rate_limited"::equals).count();
      assertTrue(sendRefused >= 4 && sendRefused <= 6, "26 messages at once: ~6 refused, not " + sendRefused);
    }
  }

  @Test
  @DisplayName("a client that stops answering pings is closed with 4408; one that answers stays")
  void heartbeat() {
    TestUser ann = Users.register(heartbeat.client());
    try (WsClient alive = connect(heartbeat, ann); WsClient dead = connect(heartbeat, ann)) {
      dead.pause();
      await(() -> counter(heartbeat, "cmb_ws_heartbeat_closes_total") == 1, "the silent socket to be closed");
      dead.resume();
      assertEquals(4408, dead.closeCode());
      alive.answer(alive.send("ping", null));
      assertTrue(!alive.isClosed(), "the answering client is still connected after many ping intervals");
    }
  }

  @Test
  @DisplayName("a reader that never reads is closed with 4008 and its queued bytes never pass the bound")
  void slowReaderIsClosed() {
    TestUser ann = Users.register(server.client());
    RealtimeMetrics metrics = server.app().realtime().metrics();
    double closesBefore = counter(server, "cmb_ws_slow_client_closes_total");
    WsClient reader = WsClient.connect(server.app().vertx(), server.port(), ann.accessToken(),
        new WebSocketClientOptions().setReceiveBufferSize(4096));
    reader.expect("ready");
    reader.pause();
    String chunk = "y".repeat(4096);
    int published = 0;
    while (published < 20_000 && counter(server, "cmb_ws_slow_client_closes_total") == closesBefore) {
      int n = published++;
      paced(() -> server.app().realtime().events().publishNotification(ann.id(),
          new JsonObject().put("n", n).put("pad", chunk)));
    }
    assertTrue(server.metrics().get("cmb_ws_slow_client_closes_total").counter().count() > closesBefore,
        "the slow reader was closed after " + published + " notifications of 4 KiB");
    assertTrue(metrics.pendingHighWater() <= OUTBOUND / 2 + 8192,
        "our own queue stayed within its half of the bound (plus one frame): " + metrics.pendingHighWater());
    reader.resume();
    assertEquals(4008, reader.closeCode());
    reader.close();
  }

  @Test
  @DisplayName("while a reader's queue is full, deltas of one answer are merged, with the index of the last, and none "
      + "of the text is lost")
  void deltasCoalesce() {
    TestUser ann = Users.register(server.client());
    UUID room = Conversations.create(server, ann.id());
    RoomEvents events = server.app().realtime().events();
    WsClient reader = WsClient.connect(server.app().vertx(), server.port(), ann.accessToken(),
        new WebSocketClientOptions().setReceiveBufferSize(4096));
    reader.expect("ready");
    reader.answer(reader.send("join_room", new JsonObject().put("room_id", room.toString())));
    reader.pause();
    UUID answer = UUID.randomUUID();
    String filler = "z".repeat(2000);
    for (int i = 0; i < 20_000 && pendingBytes() == 0; i++) {
      paced(() -> events.publishAssistant(ann.id(), room, "assistant.error", new JsonObject().put("pad", filler)));
    }
    assertTrue(pendingBytes() > 0, "the queue filled up");
    StringBuilder expected = new StringBuilder();
    for (int i = 0; i < 500; i++) {
      String piece = "t" + i + " ";
      expected.append(piece);
      events.publishAssistantDelta(ann.id(), room, answer, i, piece);
    }
    events.publishAssistant(ann.id(), room, "assistant.done", new JsonObject().put("message_id", answer.toString()));
    reader.resume();
    reader.expect("assistant.done");
    StringBuilder received = new StringBuilder();
    int deltaFrames = 0;
    int lastIndex = -1;
    for (JsonObject frame : reader.seen()) {
      if ("assistant.delta".equals(frame.getString("type"))) {
        JsonObject data = frame.getJsonObject("data");
        received.append(data.getString("text"));
        deltaFrames++;
        int index = data.getInteger("index");
        assertEquals(lastIndex + data.getString("text").split(" ").length, index,
            "a merged frame carries the index of the last delta it includes");
        lastIndex = index;
      }
    }
    assertEquals(expected.toString(), received.toString(), "the whole text, in order");
    assertTrue(deltaFrames < 500, "deltas were merged: " + deltaFrames + " frames for 500 deltas");
    assertTrue(!reader.isClosed(), "a reader that catches up is not closed");
    reader.close();
  }
}
