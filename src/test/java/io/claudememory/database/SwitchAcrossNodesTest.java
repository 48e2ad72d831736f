package io.claudememory.database;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.claudememory.platform.db.ClusterFreeze;
import io.claudememory.platform.db.TenantPools;
import io.claudememory.support.ApiClient;
import io.claudememory.support.ApiClient.Reply;
import io.claudememory.support.Awaits;
import io.claudememory.support.ExternalDatabases;
import io.claudememory.support.ExternalDatabases.External;
import io.claudememory.support.TestRedis;
import io.claudememory.support.TestServer;
import io.claudememory.support.Users;
import io.claudememory.support.Users.TestUser;
import io.vertx.core.AsyncResult;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.redis.client.Command;
import io.vertx.redis.client.Redis;
import io.vertx.redis.client.RedisAPI;
import io.vertx.redis.client.RedisConnection;
import io.vertx.redis.client.Request;
import io.vertx.redis.client.ResponseType;
import io.vertx.sqlclient.Tuple;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/**
 * Two nodes sharing PostgreSQL and Redis, with a 2 s freeze lease. A database switch pauses the user's writes on
 * every node, not just on the one running it, and afterwards every node reads and writes the new database.
 */
@DisplayName("Database switch across nodes: every node pauses the user's writes, then uses the new database")
class SwitchAcrossNodesTest {
  static final String PREFIX = "cmbtest" + UUID.randomUUID().toString().substring(0, 8) + ":";
  static TestServer nodeA;
  static TestServer nodeB;
  static Vertx testVertx;
  static RedisAPI redis;

  @BeforeAll
  static void start() {
    String url = TestRedis.url();
    assumeTrue(url != null, "SKIPPED: no Redis (set TEST_REDIS_URL or run one on 127.0.0.1:6379)");
    Map<String, String> env = new HashMap<>(Map.of("REDIS_URL", url, "CMB_REALTIME_REDIS_CHANNEL_PREFIX", PREFIX,
        "CMB_DATABASE_SWITCH_FREEZE_LEASE_SECONDS", "2", "NODE_ID", "node-a"));
    nodeA = TestServer.start(env);
    env.put("NODE_ID", "node-b");
    nodeB = TestServer.start(nodeA.scope(), env);
    testVertx = Vertx.vertx();
    redis = RedisAPI.api(Redis.createClient(testVertx, url));
    Awaits.until(() -> subscribed(nodeA) && subscribed(nodeB) && liveNodes().containsAll(Set.of("node-a", "node-b")),
        15_000, "both nodes are registered and listening for freezes");
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

  static boolean subscribed(TestServer node) {
    return node.metrics().get("cmb_redis_subscriber_up").tag("subscriber", "tenant-freeze").gauge().value() == 1;
  }

  static Set<String> liveNodes() {
    try {
      return Set.copyOf(redis.zrangebyscore(List.of(PREFIX + "nodes", Long.toString(System.currentTimeMillis()),
          "+inf")).await(5, TimeUnit.SECONDS).stream().map(Object::toString).toList());
    } catch (Exception e) {
      return Set.of();
    }
  }

  static String addDatabase(TestUser user, External db) {
    Reply reply = nodeA.client().post("/api/v1/database", user.accessToken(), db.body("Mine"));
    assertEquals(201, reply.status(), reply::body);
    return reply.data().getString("id");
  }

  static Future<String> currentDatabase(TenantPools pools, UUID tenant) {
    return pools.withPool(tenant, pool -> pool.query("SELECT current_database()").execute()
        .map(rows -> rows.iterator().next().getString(0)));
  }

  /** What the switch commits in the master database: {@code databaseId} becomes the tenant's active database. */
  static Future<Void> activate(UUID tenant, String databaseId) {
    return nodeA.app().master().pool().withTransaction(conn -> conn
        .preparedQuery("UPDATE tenant_databases SET active = false WHERE user_id = $1 AND active")
        .execute(Tuple.of(tenant))
        .compose(v -> conn.preparedQuery("UPDATE tenant_databases SET active = true WHERE id = $1 AND user_id = $2")
            .execute(Tuple.of(UUID.fromString(databaseId), tenant)))
        .mapEmpty());
  }

  @Test
  @DisplayName("writes sent to both nodes while one of them switches the database all end up in the new database")
  void writesOnEveryNodeSurviveTheSwitch() throws Exception {
    TestUser ann = Users.register(nodeA.client());
    ExternalDatabases.seed(ExternalDatabases.managed(nodeA, ann.id()), 200, 25);
    External db = ExternalDatabases.create(nodeA.scope());
    String databaseId = addDatabase(ann, db);

    Reply started = nodeA.client().post("/api/v1/database/" + databaseId + "/activate", ann.accessToken(),
        new JsonObject());
    assertEquals(202, started.status(), started::body);
    String job = "/api/v1/jobs/" + started.data().getString("id");
    int written = 0;
    int roundsWhileRunning = 0;
    String status = "queued";
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(90);
    while (!Set.of("succeeded", "failed").contains(status) && System.nanoTime() < deadline) {
      for (ApiClient api : List.of(nodeA.client(), nodeB.client())) {
        written += write(api, ann);
      }
      String now = nodeA.client().get(job, ann.accessToken()).data().getString("status");
      roundsWhileRunning += "running".equals(status) && "running".equals(now) ? 1 : 0;
      status = now;
    }
    assertEquals("succeeded", status, () -> "the switch finished: " + nodeA.client().get(job, ann.accessToken())
        .body());
    assertTrue(roundsWhileRunning > 0, "both nodes were written to while the switch was running");
    for (ApiClient api : List.of(nodeA.client(), nodeB.client())) {
      written += write(api, ann);
    }
    assertEquals(200 + written, ExternalDatabases.count(db.target(), "conversations"),
        "every conversation written on either node, before, during and after the switch, is in the new database");
    for (TestServer node : List.of(nodeA, nodeB)) {
      assertEquals(db.target().database(), currentDatabase(node.app().tenantPools(), ann.id())
          .await(30, TimeUnit.SECONDS), () -> node.config().nodeId() + " reads the new database");
    }
  }

  private static int write(ApiClient api, TestUser user) {
    Reply reply = api.post("/api/v1/conversations", user.accessToken(), new JsonObject().put("title", "written"));
    assertEquals(201, reply.status(), reply::body);
    return 1;
  }

  @Test
  @DisplayName("a freeze waits for the other node's work in flight, holds its new calls while the switch goes on, "
      + "then sends them to the new database")
  void otherNodeDrainsWaitsAndMoves() throws Exception {
    TestUser ann = Users.register(nodeA.client());
    External db = ExternalDatabases.create(nodeA.scope());
    String databaseId = addDatabase(ann, db);
    TenantPools poolsB = nodeB.app().tenantPools();
    String old = currentDatabase(poolsB, ann.id()).await(30, TimeUnit.SECONDS);

    Promise<Void> hold = Promise.promise();
    Future<String> inFlightOnB = poolsB.withPool(ann.id(), pool -> hold.future()
        .compose(v -> pool.query("SELECT current_database()").execute())
        .map(rows -> rows.iterator().next().getString(0)));
    Promise<Void> inside = Promise.promise();
    Promise<Void> finish = Promise.promise();
    Future<Void> switched = nodeA.app().freezes().frozen(ann.id(), 10_000, freeze -> {
      inside.tryComplete();
      return finish.future().compose(v -> freeze.confirm()).compose(v -> activate(ann.id(), databaseId));
    });

    assertThrows(TimeoutException.class, () -> inside.future().await(1, TimeUnit.SECONDS),
        "the switch does not begin while node B has work in flight");
    hold.complete();
    assertEquals(old, inFlightOnB.await(10, TimeUnit.SECONDS), "the work in flight finishes where it began");
    inside.future().await(10, TimeUnit.SECONDS);

    Future<String> waitingOnB = currentDatabase(poolsB, ann.id());
    assertThrows(TimeoutException.class, () -> waitingOnB.await(3, TimeUnit.SECONDS),
        "a new call on node B waits at its gate while the switch goes on, past the 2 s lease (renewed)");
    finish.complete();
    switched.await(10, TimeUnit.SECONDS);
    assertEquals(db.target().database(), waitingOnB.await(30, TimeUnit.SECONDS),
        "the call that waited runs on the new database");
    assertEquals(db.target().database(), currentDatabase(poolsB, ann.id()).await(30, TimeUnit.SECONDS));
  }

  @Test
  @DisplayName("a live node that does not answer fails the freeze, and every gate opens again")
  void silentNodeFailsTheFreeze() throws Exception {
    redis.zadd(List.of(PREFIX + "nodes", Long.toString(System.currentTimeMillis() + 60_000), "node-silent"))
        .await(5, TimeUnit.SECONDS);
    try {
      TestUser ann = Users.register(nodeA.client());
      String managed = currentDatabase(nodeB.app().tenantPools(), ann.id()).await(30, TimeUnit.SECONDS);
      Promise<Void> ran = Promise.promise();
      AsyncResult<Void> result = nodeA.app().freezes().frozen(ann.id(), 200, freeze -> {
        ran.complete();
        return Future.<Void>succeededFuture();
      }).transform(Future::succeededFuture).await(30, TimeUnit.SECONDS);
      assertTrue(result.failed(), "the freeze failed");
      assertInstanceOf(ClusterFreeze.FreezeFailed.class, result.cause());
      assertTrue(result.cause().getMessage().startsWith("Not every server confirmed"), result.cause()::getMessage);
      assertTrue(!ran.future().isComplete(), "the work never ran");
      for (TestServer node : List.of(nodeA, nodeB)) {
        assertEquals(managed, currentDatabase(node.app().tenantPools(), ann.id()).await(5, TimeUnit.SECONDS),
            () -> node.config().nodeId() + " is open again");
      }
    } finally {
      redis.zrem(List.of(PREFIX + "nodes", "node-silent")).await(5, TimeUnit.SECONDS);
    }
  }

  @Test
  @DisplayName("a node frozen by a switch that went silent opens its gate by itself once the lease runs out")
  void leaseExpires() throws Exception {
    TestUser ann = Users.register(nodeA.client());
    TenantPools poolsB = nodeB.app().tenantPools();
    String managed = currentDatabase(poolsB, ann.id()).await(30, TimeUnit.SECONDS);
    List<JsonObject> heard = new CopyOnWriteArrayList<>();
    RedisConnection listener = Redis.createClient(testVertx, TestRedis.url()).connect().await(5, TimeUnit.SECONDS);
    try {
      listener.handler(push -> {
        if ((push.type() == ResponseType.PUSH || push.type() == ResponseType.MULTI) && push.size() == 3
            && "message".equals(push.get(0).toString())) {
          heard.add(new JsonObject(push.get(2).toString()));
        }
      });
      listener.send(Request.cmd(Command.SUBSCRIBE).arg(PREFIX + "tenant-freeze")).await(5, TimeUnit.SECONDS);
      String id = UUID.randomUUID().toString();
      redis.publish(PREFIX + "tenant-freeze", new JsonObject().put("type", "freeze").put("id", id)
          .put("tenant", ann.id().toString()).put("origin", "node-ghost").put("drainMs", 1000).encode())
          .await(5, TimeUnit.SECONDS);
      Awaits.until(() -> heard.stream().anyMatch(m -> "ack".equals(m.getString("type")) && id.equals(m.getString("id"))
          && "node-b".equals(m.getString("node")) && m.getBoolean("ok")), 10_000, "node B says it is frozen");
      long frozenAt = System.nanoTime();

      assertEquals(managed, currentDatabase(poolsB, ann.id()).await(10, TimeUnit.SECONDS),
          "the call waits, then runs once the gate opened by itself");
      long waitedMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - frozenAt);
      assertTrue(waitedMs >= 1000, () -> "the gate stayed closed for the lease (2 s), not " + waitedMs + " ms");
    } finally {
      listener.close();
    }
  }
}
