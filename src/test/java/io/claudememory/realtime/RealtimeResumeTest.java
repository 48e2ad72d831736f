package io.claudememory.realtime;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.claudememory.platform.http.Principal;
import io.claudememory.support.ApiClient;
import io.claudememory.support.Conversations;
import io.claudememory.support.TestServer;
import io.claudememory.support.Users;
import io.claudememory.support.Users.TestUser;
import io.claudememory.support.WsClient;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

@DisplayName("Resume: a reconnecting client misses nothing and gets nothing twice")
class RealtimeResumeTest {
  @RegisterExtension
  static final TestServer server = TestServer.start(Map.of());
  static final ApiClient api = server.client();
  static final Vertx vertx = server.app().vertx();

  static WsClient connect(TestServer node, TestUser user) {
    WsClient ws = WsClient.connect(node.app().vertx(), node.port(), user.accessToken());
    ws.expect("ready");
    return ws;
  }

  /** Reads message.created frames until {@code lastSeq} arrives; answers their seqs in arrival order. */
  static List<Long> seqsUntil(WsClient ws, long lastSeq) {
    List<Long> seqs = new ArrayList<>();
    while (seqs.isEmpty() || seqs.get(seqs.size() - 1) < lastSeq) {
      seqs.add(ws.expect("message.created").getJsonObject("data").getLong("seq"));
    }
    return seqs;
  }

  static List<Long> range(long from, long to) {
    List<Long> out = new ArrayList<>();
    for (long s = from; s <= to; s++) {
      out.add(s);
    }
    return out;
  }

  @Test
  @DisplayName("join_room with since_seq replays exactly the missed messages, in order, then goes live")
  void replaysMissed() {
    TestUser ann = Users.register(api);
    UUID room = Conversations.create(server, ann.id());
    long seen;
    try (WsClient ws = connect(server, ann)) {
      ws.send("join_room", new JsonObject().put("room_id", room.toString()));
      ws.expect("joined");
      Conversations.post(server, ann.id(), room, "one");
      Conversations.post(server, ann.id(), room, "two");
      seen = seqsUntil(ws, 2).get(1);
    }
    for (int i = 0; i < 5; i++) {
      Conversations.post(server, ann.id(), room, "missed " + i);
    }
    try (WsClient ws = connect(server, ann)) {
      ws.send("join_room", new JsonObject().put("room_id", room.toString()).put("since_seq", seen));
      JsonObject joined = ws.expect("joined").getJsonObject("data");
      assertTrue(joined.getBoolean("recovered"), "within the window the join recovers");
      assertEquals(7L, joined.getLong("last_seq"));
      Conversations.post(server, ann.id(), room, "live");
      assertEquals(range(3, 8), seqsUntil(ws, 8), "the five missed, then the live one, each once");
    }
  }

  @Test
  @DisplayName("messages posted while the replay runs are neither lost nor duplicated")
  void replayLiveRace() throws Exception {
    TestUser ann = Users.register(api);
    UUID room = Conversations.create(server, ann.id());
    Conversations.seed(server, ann.id(), room, 200, 0);
    MessageWriter writer = server.app().realtime().messages();
    Principal owner = new Principal(ann.id(), "user", null);
    RoomGrant grant = new RoomGrant(ann.id(), room, true);
    try (WsClient ws = connect(server, ann)) {
      List<Future<JsonObject>> posts = new ArrayList<>();
      ws.send("join_room", new JsonObject().put("room_id", room.toString()).put("since_seq", 0));
      for (int i = 0; i < 60; i++) {
        posts.add(writer.send(owner, grant, "concurrent " + i, null));
      }
      Future.all(posts).await(60, TimeUnit.SECONDS);
      JsonObject joined = ws.expect("joined").getJsonObject("data");
      assertTrue(joined.getBoolean("recovered"));
      assertEquals(range(1, 260), seqsUntil(ws, 260), "every seq from 1 to 260 exactly once, in order");
      assertTrue(ws.drain(200).stream().noneMatch(f -> "message.created".equals(f.getString("type"))),
          "nothing after the last");
    }
  }

  @Test
  @DisplayName("beyond the event window joined says recovered: false and replays nothing")
  void tooManyMissed() {
    TestUser ann = Users.register(api);
    UUID room = Conversations.create(server, ann.id());
    Conversations.seed(server, ann.id(), room, 301, 0);
    try (WsClient ws = connect(server, ann)) {
      ws.send("join_room", new JsonObject().put("room_id", room.toString()).put("since_seq", 0));
      JsonObject joined = ws.expect("joined").getJsonObject("data");
      assertFalse(joined.getBoolean("recovered"), "301 missed events exceed the 300-event window");
      assertEquals(301L, joined.getLong("last_seq"));
      Conversations.post(server, ann.id(), room, "after");
      assertEquals(List.of(302L), seqsUntil(ws, 302), "no replay; live events continue after last_seq");
    }
  }

  @Test
  @DisplayName("beyond the time window joined says recovered: false; within it, true")
  void tooOld() {
    TestUser ann = Users.register(api);
    UUID old = Conversations.create(server, ann.id());
    Conversations.seed(server, ann.id(), old, 3, 180);
    UUID recent = Conversations.create(server, ann.id());
    Conversations.seed(server, ann.id(), recent, 3, 30);
    try (WsClient ws = connect(server, ann)) {
      ws.send("join_room", new JsonObject().put("room_id", old.toString()).put("since_seq", 0));
      assertFalse(ws.expect("joined").getJsonObject("data").getBoolean("recovered"), "3 minutes is too long ago");
      ws.send("join_room", new JsonObject().put("room_id", recent.toString()).put("since_seq", 1));
      JsonObject joined = ws.expect(f -> "joined".equals(f.getString("type"))
          && recent.toString().equals(f.getJsonObject("data").getString("room_id")), "joined recent");
      assertTrue(joined.getJsonObject("data").getBoolean("recovered"));
      assertEquals(List.of(2L, 3L), seqsUntil(ws, 3));
    }
  }
}
