package io.claudememory.realtime;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.claudememory.support.ApiClient;
import io.claudememory.support.Conversations;
import io.claudememory.support.TestRedis;
import io.claudememory.support.TestServer;
import io.claudememory.support.Users;
import io.claudememory.support.Users.TestUser;
import io.claudememory.support.WsClient;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.redis.client.Command;
import io.vertx.redis.client.Redis;
import io.vertx.redis.client.Request;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

@DisplayName("Cluster fan-out: two nodes sharing PostgreSQL and Redis")
class ClusterFanoutTest {
  static final String PREFIX = "cmbtest" + UUID.randomUUID().toString().substring(0, 8) + ":";
  static TestServer nodeA;
  static TestServer nodeB;
  static Vertx testVertx;
  static Redis redis;

  @BeforeAll
  static void start() throws Exception {
    String url = TestRedis.url();
    assumeTrue(url != null, "SKIPPED: no Redis (set TEST_REDIS_URL or run one on 127.0.0.1:6379)");
    Map<String, String> common = Map.of("REDIS_URL", url, "CMB_REALTIME_REDIS_CHANNEL_PREFIX", PREFIX,
        "CMB_REALTIME_PRESENCE_TTL_SECONDS", "2", "CMB_REALTIME_RECONNECT_MIN_MS", "500");
    nodeA = TestServer.start(with(common, "NODE_ID", "node-a"));
    nodeB = TestServer.start(nodeA.scope(), with(common, "NODE_ID", "node-b"));
    testVertx = Vertx.vertx();
    redis = Redis.createClient(testVertx, url);
  }

  static Map<String, String> with(Map<String, String> base, String key, String value) {
    Map<String, String> all = new java.util.HashMap<>(base);
    all.put(key, value);
    return all;
  }

  @AfterAll
  static void stop() throws Exception {
    if (nodeB != null) {
      nodeB.stopNode();
    }
    if (nodeA != null) {
      nodeA.close();
    }
    if (testVertx != null) {
      testVertx.close().await(10, TimeUnit.SECONDS);
    }
  }

  static WsClient connect(TestServer node, TestUser user) {
    WsClient ws = WsClient.connect(node.app().vertx(), node.port(), user.accessToken());
    ws.expect("ready");
    return ws;
  }

  static JsonObject join(WsClient ws, UUID room, Long since) {
    JsonObject data = new JsonObject().put("room_id", room.toString());
    if (since != null) {
      data.put("since_seq", since);
    }
    String id = ws.send("join_room", data);
    JsonObject joined = ws.expect(f -> "joined".equals(f.getString("type"))
        && room.toString().equals(f.getJsonObject("data").getString("room_id")), "joined " + room);
    assertEquals("ack", ws.answer(id).getString("type"));
    return joined.getJsonObject("data");
  }

  static List<Long> seqsUntil(WsClient ws, long lastSeq) {
    return RealtimeResumeTest.seqsUntil(ws, lastSeq);
  }

  static void await(BooleanSupplier condition, String what) {
    RealtimeLimitsTest.await(condition, what);
  }

  static List<Long> noMoreMessages(WsClient ws) {
    ws.answer(ws.send("ping", null));
    List<Long> extra = new ArrayList<>();
    for (JsonObject f : ws.seen()) {
      if ("message.created".equals(f.getString("type"))) {
        extra.add(f.getJsonObject("data").getLong("seq"));
      }
    }
    return extra;
  }

  @Test
  @DisplayName("a client on node A receives what is posted on node B, exactly once")
  void crossNodeExactlyOnce() {
    TestUser ann = Users.register(nodeA.client());
    UUID room = Conversations.create(nodeA, ann.id());
    try (WsClient onA = connect(nodeA, ann); WsClient onB = connect(nodeB, ann)) {
      join(onA, room, null);
      join(onB, room, null);
      Conversations.post(nodeB, ann.id(), room, "posted on B");
      String id = onB.send("send_message", new JsonObject().put("room_id", room.toString()).put("content", "ws on B"));
      onB.answer(id);
      Conversations.post(nodeA, ann.id(), room, "posted on A");
      assertEquals(List.of(1L, 2L, 3L), seqsUntil(onA, 3));
      assertEquals(List.of(1L, 2L, 3L), seqsUntil(onB, 3));
      Conversations.post(nodeB, ann.id(), room, "fence");
      assertEquals(List.of(4L), seqsUntil(onA, 4), "nothing delivered twice before the fence");
      assertEquals(List.of(), noMoreMessages(onA));
    }
  }

  @Test
  @DisplayName("a client that misses messages and reconnects to the other node gets exactly the missed ones, in order")
  void reconnectToOtherNode() {
    TestUser ann = Users.register(nodeA.client());
    UUID room = Conversations.create(nodeA, ann.id());
    long last;
    try (WsClient onA = connect(nodeA, ann)) {
      join(onA, room, null);
      Conversations.post(nodeA, ann.id(), room, "seen");
      last = seqsUntil(onA, 1).get(0);
    }
    for (int i = 0; i < 4; i++) {
      Conversations.post(i % 2 == 0 ? nodeA : nodeB, ann.id(), room, "missed " + i);
    }
    try (WsClient onB = connect(nodeB, ann)) {
      JsonObject joined = join(onB, room, last);
      assertTrue(joined.getBoolean("recovered"));
      Conversations.post(nodeA, ann.id(), room, "live from A");
      assertEquals(List.of(2L, 3L, 4L, 5L, 6L), seqsUntil(onB, 6));
      assertEquals(List.of(), noMoreMessages(onB));
    }
  }

  @Test
  @DisplayName("presence is cluster-wide: a join and leave on B are seen on A, and B's member is listed")
  void presenceAcrossNodes() {
    TestUser ann = Users.register(nodeA.client());
    UUID room = Conversations.create(nodeA, ann.id());
    try (WsClient onA = connect(nodeA, ann)) {
      join(onA, room, null);
      onA.expect("presence");
      WsClient onB = connect(nodeB, ann);
      JsonObject joined = join(onB, room, null);
      assertTrue(joined.getJsonArray("members").contains(ann.id().toString()));
      JsonObject arrived = onA.expect("presence").getJsonObject("data");
      assertEquals("join", arrived.getString("status"));
      onB.close();
      JsonObject gone = onA.expect("presence").getJsonObject("data");
      assertEquals("leave", gone.getString("status"));
    }
  }

  @Test
  @DisplayName("presence entries of a node that died without goodbye expire; live nodes keep theirs")
  void deadNodePresenceExpires() throws Exception {
    TestUser ann = Users.register(nodeA.client());
    UUID room = Conversations.create(nodeA, ann.id());
    String key = PREFIX + "presence:" + ann.id() + ":" + room;
    String ghost = UUID.randomUUID().toString();
    // exactly what a node writes when a user joins, after which that node crashed and never refreshed it
    long expiry = System.currentTimeMillis() + 2000;
    redis.send(Request.cmd(Command.ZADD).arg(key).arg(expiry).arg(ghost + "@crashed-node"))
        .compose(added -> redis.send(Request.cmd(Command.PEXPIRE).arg(key).arg(2000))).await(10, TimeUnit.SECONDS);
    try (WsClient onA = connect(nodeA, ann)) {
      JsonArray members = join(onA, room, null).getJsonArray("members");
      assertTrue(members.contains(ghost), "the crashed node's member is listed while its entry lives: " + members);
      await(() -> System.currentTimeMillis() > expiry + 3000, "the ghost's TTL and one refresh to pass");
      try (WsClient again = connect(nodeB, ann)) {
        JsonArray later = join(again, room, null).getJsonArray("members");
        assertTrue(!later.contains(ghost), "the crashed node's member vanished: " + later);
        assertTrue(later.contains(ann.id().toString()), "the live node refreshed its member past the TTL");
      }
    }
  }

  @Test
  @DisplayName("after CLIENT KILL the subscriber reconnects, resubscribes, health recovers, and clients get the gap")
  void subscriberReconnects() throws Exception {
    TestUser ann = Users.register(nodeA.client());
    UUID room = Conversations.create(nodeA, ann.id());
    ApiClient apiA = nodeA.client();
    try (WsClient onA = connect(nodeA, ann)) {
      join(onA, room, null);
      Conversations.post(nodeB, ann.id(), room, "before");
      assertEquals(List.of(1L), seqsUntil(onA, 1));
      redis.send(Request.cmd(Command.CLIENT).arg("KILL").arg("TYPE").arg("pubsub")).await(10, TimeUnit.SECONDS);
      await(() -> subscriberHealth(apiA).equals("DOWN"), "node A's health to report the subscriber down");
      for (int i = 0; i < 3; i++) {
        Conversations.post(nodeB, ann.id(), room, "during the outage " + i);
      }
      await(() -> subscriberHealth(apiA).equals("UP"), "node A's subscriber to come back");
      assertEquals(List.of(2L, 3L, 4L), seqsUntil(onA, 4), "the gap is replayed from the database");
      Conversations.post(nodeB, ann.id(), room, "after");
      assertEquals(List.of(5L), seqsUntil(onA, 5), "and live events flow again through the new subscription");
      assertEquals(List.of(), noMoreMessages(onA));
    }
  }

  static String subscriberHealth(ApiClient api) {
    JsonObject body = api.get("/api/v1/health/detailed", null).json();
    for (Object check : body.getJsonArray("checks", new JsonArray())) {
      JsonObject c = (JsonObject) check;
      if ("redis-subscriber".equals(c.getString("id"))) {
        return c.getString("status");
      }
    }
    return "ABSENT";
  }
}
