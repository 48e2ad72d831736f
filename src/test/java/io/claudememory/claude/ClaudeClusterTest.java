package io.claudememory.claude;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.claudememory.support.ApiClient;
import io.claudememory.support.Awaits;
import io.claudememory.support.FakeClaude;
import io.claudememory.support.RoomEvents;
import io.claudememory.support.TenantSeed;
import io.claudememory.support.TestRedis;
import io.claudememory.support.TestServer;
import io.claudememory.support.Users;
import io.claudememory.support.Users.TestUser;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

@DisplayName("Claude across nodes: the text so far is readable from another node, and a dead node's answers are closed")
class ClaudeClusterTest {
  static Vertx fakeVertx;
  static FakeClaude fake;
  static TestServer first;
  static TestServer second;

  @BeforeAll
  static void start() {
    String redis = TestRedis.url();
    assumeTrue(redis != null, "no Redis reachable (TEST_REDIS_URL or 127.0.0.1:6379): cluster snapshots skipped");
    fakeVertx = Vertx.vertx();
    fake = FakeClaude.start(fakeVertx).tokenRate(50).tokens(1000);
    Map<String, String> env = Map.of("ANTHROPIC_API_KEY", "k", "ANTHROPIC_BASE_URL", fake.baseUrl(),
        "REDIS_URL", redis, "CMB_CLAUDE_TITLES", "false", "CMB_CLAUDE_NODE_LOSS_SECONDS", "2");
    first = TestServer.start(env);
    second = TestServer.start(first.scope(), env);
  }

  @AfterAll
  static void stop() {
    if (second != null) {
      second.stopNode();
      first.close();
      fake.close();
      fakeVertx.close();
    }
  }

  @Test
  @DisplayName("a late joiner on the other node gets the text so far, which grows with the answer, then nothing "
      + "once over")
  void snapshotOnOtherNode() throws Exception {
    TestUser ann = Users.register(first.client());
    TenantSeed seed = new TenantSeed(first, ann.id());
    UUID conversation = seed.conversation(null, null, null);
    UUID question = seed.message(conversation, null, "user", "Long answer please.");
    Generations elsewhere = second.app().generations();
    try (RoomEvents room = new RoomEvents(first.app().vertx(), ann.id(), conversation)) {
      first.app().generations().start(ann.id(), conversation, question, new JsonObject()).await(20, TimeUnit.SECONDS);
      room.next("assistant.delta", 5000);
      Awaits.until(() -> snapshots(elsewhere, ann.id(), conversation).stream().anyMatch(s -> s.index() >= 3), 5000,
          "the other node sees at least four deltas");
      StreamSnapshot snapshot = snapshots(elsewhere, ann.id(), conversation).get(0);
      assertTrue(snapshot.text().startsWith("tok0 tok1 tok2 tok3 "), snapshot::toString);
      assertEquals(snapshot.index() + 1, snapshot.text().split(" ").length, "text and index agree");
      first.app().generations().cancel(ann.id(), conversation);
      room.end(10_000);
    }
    Awaits.until(() -> snapshots(elsewhere, ann.id(), conversation).isEmpty(), 5000, "the snapshot is gone when over");
  }

  @Test
  @DisplayName("an answer whose node died is closed by another node: its text so far is stored, the room hears "
      + "assistant.error node_lost")
  void deadNodeAnswerIsClosed() throws Exception {
    TestUser ann = Users.register(first.client());
    TenantSeed seed = new TenantSeed(first, ann.id());
    UUID conversation = seed.conversation(null, null, null);
    UUID question = seed.message(conversation, null, "user", "Answer me, then die.");
    UUID answer = UUID.randomUUID();
    java.util.concurrent.LinkedBlockingQueue<JsonObject> heard = new java.util.concurrent.LinkedBlockingQueue<>();
    for (TestServer node : List.of(first, second)) {
      node.app().vertx().eventBus().<JsonObject>consumer(io.claudememory.platform.EventAddresses.room(ann.id(),
          conversation), m -> heard.add(io.claudememory.support.RoomEvents.flat(m.body()))).completion().await(5, TimeUnit.SECONDS);
    }
    // What a node that died mid-answer leaves in Redis: its entry, heartbeat long stopped, and the text so far.
    io.vertx.redis.client.RedisAPI redis = io.vertx.redis.client.RedisAPI.api(
        io.vertx.redis.client.Redis.createClient(fakeVertx, TestRedis.url()));
    redis.rpush(List.of("cmb:gen:" + answer, "3\u0000tok0 tok1 tok2 tok3 ")).await(5, TimeUnit.SECONDS);
    redis.zadd(List.of("cmb:gens", Long.toString(System.currentTimeMillis() - 60_000),
        ann.id() + "|" + conversation + "|" + question + "|" + answer)).await(5, TimeUnit.SECONDS);

    JsonObject event = heard.poll(15, TimeUnit.SECONDS);
    assertTrue(event != null, "the room hears about it");
    assertEquals("assistant.error", event.getString("type"), event::encode);
    assertEquals("node_lost", event.getString("code"));
    assertTrue(event.getBoolean("partial"));
    assertEquals(answer.toString(), event.getString("message_id"));
    List<TenantSeed.Msg> stored = seed.messages(conversation);
    assertEquals(2, stored.size(), "stored once, by one node");
    assertEquals("tok0 tok1 tok2 tok3 ", stored.get(1).content());
    assertEquals("error", stored.get(1).stopReason());
    assertEquals(question, stored.get(1).parentId());
    assertEquals(0L, (long) redis.zscore("cmb:gens", ann.id() + "|" + conversation + "|" + question + "|" + answer)
        .map(r -> r == null ? 0L : 1L).await(5, TimeUnit.SECONDS), "the entry is gone");
  }

  @Test
  @DisplayName("late joiners on the other node get the text so far, then exactly the rest: nothing missing or twice")
  void lateJoinOnOtherNode() throws Exception {
    TestUser ann = Users.register(first.client());
    UUID conversation = UUID.fromString(first.client().post("/api/v1/conversations", ann.accessToken(),
        new JsonObject().put("title", "Late joiners elsewhere")).data().getString("id"));
    long seed = System.nanoTime();
    java.util.Random random = new java.util.Random(seed);
    fake.tokenRate(400).tokens(800);
    List<io.claudememory.support.WsClient> joiners = new java.util.ArrayList<>();
    try (RoomEvents room = new RoomEvents(first.app().vertx(), ann.id(), conversation)) {
      ApiClient.Reply sent = first.client().post("/api/v1/conversations/" + conversation + "/messages",
          ann.accessToken(), new JsonObject().put("content", "A long answer, please."));
      assertEquals(201, sent.status(), sent::body);
      String assistant = sent.data().getJsonObject("generation").getString("assistantMessageId");
      for (int i = 0; i < 5; i++) {
        for (int n = 5 + random.nextInt(40); n > 0; n--) {
          room.next("assistant.delta", 10_000);
        }
        io.claudememory.support.WsClient joiner = io.claudememory.support.WsClient.connect(fakeVertx,
            second.port(), ann.accessToken());
        joiners.add(joiner);
        joiner.send("join_room", new JsonObject().put("room_id", conversation.toString()));
      }
      String stored = room.next("assistant.done", 30_000).getJsonObject("message").getString("content");
      for (int i = 0; i < joiners.size(); i++) {
        String why = "joiner " + i + " on the other node (seed " + seed + ")";
        assertEquals(stored, ClaudeLateJoinTest.received(joiners.get(i), assistant, why), why);
      }
    } finally {
      joiners.forEach(io.claudememory.support.WsClient::close);
      fake.tokenRate(50).tokens(1000);
    }
  }

  @Test
  @DisplayName("a cancel sent to the other node stops the answer where it runs, and the partial answer is stored")
  void cancelOnOtherNode() throws Exception {
    Awaits.until(() -> first.client().get("/api/v1/health/metrics", null).body()
        .contains("cmb_redis_subscriber_up{subscriber=\"claude-cancel\"} 1.0"), 10_000,
        "the answering node listens for cancels from other nodes");
    TestUser ann = Users.register(first.client());
    TenantSeed seed = new TenantSeed(first, ann.id());
    UUID conversation = seed.conversation(null, null, null);
    UUID question = seed.message(conversation, null, "user", "A long answer, please.");
    try (RoomEvents room = new RoomEvents(first.app().vertx(), ann.id(), conversation)) {
      first.app().generations().start(ann.id(), conversation, question, new JsonObject()).await(20, TimeUnit.SECONDS);
      room.next("assistant.delta", 5000);
      assertEquals(202, second.client().post("/api/v1/conversations/" + conversation + "/cancel", ann.accessToken(),
          new JsonObject()).status());
      JsonObject done = room.end(10_000);
      assertEquals("assistant.done", done.getString("type"), done::encode);
    }
    List<TenantSeed.Msg> stored = seed.messages(conversation);
    assertEquals(2, stored.size());
    assertEquals("cancelled", stored.get(1).stopReason());
    assertTrue(stored.get(1).content().startsWith("tok0 "), stored.get(1)::toString);
    assertTrue(stored.get(1).content().split(" ").length < 1000, "stopped well before the end");
  }

  private static List<StreamSnapshot> snapshots(Generations generations, UUID tenant, UUID conversation) {
    try {
      return generations.snapshots(tenant, conversation).await(5, TimeUnit.SECONDS);
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }
}
