package io.claudememory.ops;

import static io.claudememory.support.Problems.assertFieldError;
import static io.claudememory.support.Problems.assertProblem;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.claudememory.auth.UserInvalidations;
import io.claudememory.support.ApiClient;
import io.claudememory.support.ApiClient.Reply;
import io.claudememory.support.Awaits;
import io.claudememory.support.TestDatabase;
import io.claudememory.support.TestRedis;
import io.claudememory.support.TestServer;
import io.claudememory.support.Users;
import io.claudememory.support.Users.TestUser;
import io.claudememory.support.WsClient;
import io.vertx.core.json.JsonObject;
import io.vertx.redis.client.Redis;
import io.vertx.redis.client.RedisAPI;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

@DisplayName("Admin users: listing, roles, deactivation that takes effect at once, never self-granted")
class AdminUsersTest {
  static final String ADMIN_EMAIL = "first-admin@example.com";
  static TestServer server;
  static ApiClient api;
  static TestUser admin;

  @BeforeAll
  static void start() {
    // The node's user cache is trusted for 5 minutes here: only invalidation can explain a refusal seen at once.
    TestDatabase.Scope scope = TestDatabase.create();
    TestServer first = TestServer.start(scope, Map.of());
    Users.register(first.client(), ADMIN_EMAIL);
    first.stopNode();
    server = TestServer.start(scope, Map.of("ADMIN_EMAIL", ADMIN_EMAIL, "CMB_AUTH_STATE_CACHE_SECONDS", "300"));
    api = server.client();
    Reply login = api.post("/api/v1/auth/login", null,
        new JsonObject().put("email", ADMIN_EMAIL).put("password", Users.PASSWORD));
    admin = new TestUser(UUID.fromString(login.data().getJsonObject("user").getString("id")), ADMIN_EMAIL,
        login.data().getString("accessToken"), login.data().getString("refreshToken"));
  }

  @AfterAll
  static void stop() {
    server.close();
  }

  @Test
  @DisplayName("ADMIN_EMAIL makes that account admin at start-up, audited as an operator's grant; registration alone "
      + "never does")
  void bootstrap() {
    assertEquals("admin", api.get("/api/v1/auth/profile", admin.accessToken()).data().getString("role"));
    Reply granted = api.get("/api/v1/audit?action=admin.granted_by_operator", admin.accessToken());
    assertEquals(200, granted.status(), granted.body());
    assertEquals(1, granted.list().size(), () -> "the grant is in the admin's trail once: " + granted.body());
    JsonObject event = granted.list().getJsonObject(0);
    assertNull(event.getValue("actorId"), "granted by the operator, not by a user");
    assertEquals("ADMIN_EMAIL", event.getJsonObject("details").getString("by"));
    TestUser other = Users.register(api);
    assertEquals("user", api.get("/api/v1/auth/profile", other.accessToken()).data().getString("role"));
  }

  @Test
  @DisplayName("a user cannot give themselves a role: unknown fields are refused on registration and profile")
  void massAssignment() {
    assertFieldError(api.post("/api/v1/auth/register", null, new JsonObject().put("email", "mass@example.com")
        .put("password", Users.PASSWORD).put("role", "admin")), "role");
    TestUser eve = Users.register(api);
    assertFieldError(api.patch("/api/v1/auth/profile", eve.accessToken(), new JsonObject().put("role", "admin")),
        "role");
    assertFieldError(api.patch("/api/v1/auth/profile", eve.accessToken(), new JsonObject().put("active", true)
        .put("tokenVersion", 0)), "tokenVersion");
    assertEquals("user", api.get("/api/v1/auth/profile", eve.accessToken()).data().getString("role"));
  }

  @Test
  @DisplayName("admin routes are 401 without credentials and 403 for a non-admin, whatever the method")
  void refusedToNonAdmins() {
    TestUser eve = Users.register(api);
    assertProblem(api.get("/api/v1/admin/users", null), 401);
    assertProblem(api.get("/api/v1/admin/users", eve.accessToken()), 403);
    assertProblem(api.patch("/api/v1/admin/users/" + eve.id(), eve.accessToken(),
        new JsonObject().put("role", "admin")), 403);
    assertProblem(api.get("/api/v1/admin/stats", eve.accessToken()), 403);
  }

  @Test
  @DisplayName("the user list pages with an opaque cursor and shows role and status, never secrets")
  void listPages() {
    for (int i = 0; i < 3; i++) {
      Users.register(api);
    }
    Set<String> seen = new HashSet<>();
    String cursor = null;
    int pages = 0;
    do {
      Reply page = api.get("/api/v1/admin/users?limit=2" + (cursor == null ? "" : "&cursor=" + cursor),
          admin.accessToken());
      assertEquals(200, page.status(), page.body());
      assertTrue(page.list().size() <= 2);
      page.list().forEach(u -> {
        JsonObject user = (JsonObject) u;
        assertTrue(seen.add(user.getString("id")), "no user twice across pages");
        assertNotNull(user.getBoolean("active"));
        assertNull(user.getValue("passwordHash"));
        assertNull(user.getValue("tokenVersion"));
      });
      cursor = page.json().getString("nextCursor");
      pages++;
    } while (cursor != null && pages < 50);
    assertTrue(seen.size() >= 4, "every user listed: " + seen.size());
    assertTrue(pages >= 2, "more than one page");
    assertFieldError(api.get("/api/v1/admin/users?limit=0", admin.accessToken()), "limit");
    assertFieldError(api.get("/api/v1/admin/users?cursor=!!", admin.accessToken()), "cursor");
  }

  @Test
  @DisplayName("a role change applies at the next request; admins cannot change themselves")
  void roles() {
    TestUser carl = Users.register(api);
    assertProblem(api.get("/api/v1/admin/stats", carl.accessToken()), 403);
    Reply promoted = api.patch("/api/v1/admin/users/" + carl.id(), admin.accessToken(),
        new JsonObject().put("role", "admin"));
    assertEquals("admin", promoted.data().getString("role"), promoted.body());
    assertEquals(200, api.get("/api/v1/admin/stats", carl.accessToken()).status());
    assertProblem(api.patch("/api/v1/admin/users/" + admin.id(), admin.accessToken(),
        new JsonObject().put("active", false)), 409);
    assertFieldError(api.patch("/api/v1/admin/users/" + carl.id(), admin.accessToken(),
        new JsonObject().put("role", "root")), "role");
    assertFieldError(api.patch("/api/v1/admin/users/" + carl.id(), admin.accessToken(),
        new JsonObject().put("email", "x@example.com")), "email");
    assertProblem(api.patch("/api/v1/admin/users/" + UUID.randomUUID(), admin.accessToken(),
        new JsonObject().put("active", true)), 404);
  }

  @Test
  @DisplayName("a deactivated user's access tokens, API keys, refresh tokens and open sockets stop working at once")
  void deactivation() throws Exception {
    TestUser dan = Users.register(api);
    WsClient socket = WsClient.connect(server.app().vertx(), server.port(), dan.accessToken());
    socket.expect("ready");
    String key = api.post("/api/v1/api-keys", dan.accessToken(), new JsonObject().put("name", "k")).data()
        .getString("key");
    assertEquals(200, api.get("/api/v1/auth/profile", dan.accessToken()).status(), "cached as active");
    assertEquals(200, api.get("/api/v1/auth/profile", key).status());
    CompletableFuture<JsonObject> announced = new CompletableFuture<>();
    server.app().vertx().eventBus().<JsonObject>consumer(UserInvalidations.changedAddress(dan.id()),
        msg -> {
          if (msg.body().getBoolean("deactivated")) {
            announced.complete(msg.body());
          }
        }).completion().await(10, TimeUnit.SECONDS);

    Reply off = api.patch("/api/v1/admin/users/" + dan.id(), admin.accessToken(),
        new JsonObject().put("active", false));
    assertEquals(false, off.data().getBoolean("active"), off.body());
    assertProblem(api.get("/api/v1/auth/profile", dan.accessToken()), 401);
    assertProblem(api.get("/api/v1/auth/profile", key), 401);
    assertProblem(api.post("/api/v1/auth/refresh", null, new JsonObject().put("refreshToken", dan.refreshToken())),
        401);
    assertProblem(api.post("/api/v1/auth/login", null, new JsonObject().put("email", dan.email())
        .put("password", Users.PASSWORD)), 401);
    assertEquals(dan.id().toString(), announced.get(10, TimeUnit.SECONDS).getString("userId"),
        "the deactivation is announced on user.<id>.changed for the realtime layer");
    assertEquals(4401, socket.closeCode(), "the open socket is closed as unauthenticated");
    try (Connection c = TestDatabase.connect(server.master());
         PreparedStatement s = c.prepareStatement("SELECT count(*) FROM audit_events WHERE user_id = ? AND "
             + "actor_id = ? AND action = 'admin.user_updated'")) {
      s.setObject(1, dan.id());
      s.setObject(2, admin.id());
      var rs = s.executeQuery();
      rs.next();
      assertEquals(1, rs.getInt(1), "the change is in the audit trail with the admin as actor");
    }

    api.patch("/api/v1/admin/users/" + dan.id(), admin.accessToken(), new JsonObject().put("active", true));
    assertProblem(api.get("/api/v1/auth/profile", dan.accessToken()), 401);
    assertEquals(200, api.post("/api/v1/auth/login", null, new JsonObject().put("email", dan.email())
        .put("password", Users.PASSWORD)).status(), "reactivated: signing in again works, old tokens stay revoked");
  }

  @Test
  @DisplayName("with Redis, a deactivation on one node is refused at once on another node that had it cached, and "
      + "closes the user's sockets there")
  void acrossNodes() throws Exception {
    String redis = TestRedis.url();
    Assumptions.assumeTrue(redis != null, "SKIPPED: no Redis");
    Map<String, String> env = new HashMap<>(Map.of("REDIS_URL", redis, "CMB_AUTH_STATE_CACHE_SECONDS", "300",
        "ADMIN_EMAIL", ADMIN_EMAIL));
    TestServer a = TestServer.start(server.scope(), env);
    TestServer b = TestServer.start(server.scope(), env);
    try {
      awaitSubscribed(b);
      TestUser erin = Users.register(a.client());
      assertEquals(200, b.client().get("/api/v1/auth/profile", erin.accessToken()).status(), "cached on node B");
      JsonObject key = a.client().post("/api/v1/api-keys", erin.accessToken(), new JsonObject().put("name", "k"))
          .data();
      assertEquals(200, b.client().get("/api/v1/auth/profile", key.getString("key")).status(), "key cached on B");
      assertEquals(204, a.client().delete("/api/v1/api-keys/" + key.getString("id"), erin.accessToken()).status());
      Awaits.until(() -> b.client().get("/api/v1/auth/profile", key.getString("key")).status() == 401, 5_000,
          "node B refuses a key revoked on node A within moments, not after its 300 s cache");
      WsClient socketOnB = WsClient.connect(b.app().vertx(), b.port(), erin.accessToken());
      socketOnB.expect("ready");
      CompletableFuture<JsonObject> onB = new CompletableFuture<>();
      b.app().vertx().eventBus().<JsonObject>consumer(UserInvalidations.changedAddress(erin.id()),
          msg -> {
            if (msg.body().getBoolean("deactivated")) {
              onB.complete(msg.body());
            }
          }).completion().await(10, TimeUnit.SECONDS);
      Reply off = a.client().patch("/api/v1/admin/users/" + erin.id(), admin.accessToken(),
          new JsonObject().put("active", false));
      assertEquals(200, off.status(), off.body());
      // Node B announces the deactivation right after dropping its cached entry: once heard, B must refuse.
      onB.get(10, TimeUnit.SECONDS);
      assertProblem(b.client().get("/api/v1/auth/profile", erin.accessToken()), 401);
      assertEquals(4401, socketOnB.closeCode(), "the socket on node B is closed");
    } finally {
      a.stopNode();
      b.stopNode();
    }
  }

  @Test
  @DisplayName("with Redis, a subscriber whose connection is killed resubscribes, and invalidations reach it again")
  void resubscribes() throws Exception {
    String redis = TestRedis.url();
    Assumptions.assumeTrue(redis != null, "SKIPPED: no Redis");
    Map<String, String> env = Map.of("REDIS_URL", redis, "CMB_AUTH_STATE_CACHE_SECONDS", "300");
    TestServer a = TestServer.start(server.scope(), env);
    TestServer b = TestServer.start(server.scope(), env);
    RedisAPI admin = RedisAPI.api(Redis.createClient(b.app().vertx(), redis));
    try {
      awaitSubscribed(b);
      double before = connects(b);
      String name = "cmb-auth-invalidate-" + b.config().nodeId();
      String id = admin.client(List.of("LIST")).await(10, TimeUnit.SECONDS).toString().lines()
          .filter(line -> line.contains(" name=" + name + " ")).map(line -> line.replaceAll("^id=(\\d+) .*", "$1"))
          .findFirst().orElseThrow(() -> new AssertionError("no Redis client named " + name));
      admin.client(List.of("KILL", "ID", id)).await(10, TimeUnit.SECONDS);
      awaitConnects(b, before + 1);

      TestUser fay = Users.register(a.client());
      assertEquals(200, b.client().get("/api/v1/auth/profile", fay.accessToken()).status(), "cached on node B");
      CompletableFuture<JsonObject> onB = new CompletableFuture<>();
      b.app().vertx().eventBus().<JsonObject>consumer(UserInvalidations.changedAddress(fay.id()),
          msg -> {
            if (msg.body().getBoolean("deactivated")) {
              onB.complete(msg.body());
            }
          }).completion().await(10, TimeUnit.SECONDS);
      assertEquals(200, a.client().patch("/api/v1/admin/users/" + fay.id(), admin(a), new JsonObject()
          .put("active", false)).status());
      onB.get(10, TimeUnit.SECONDS);
      assertProblem(b.client().get("/api/v1/auth/profile", fay.accessToken()), 401);
    } finally {
      a.stopNode();
      b.stopNode();
    }
  }

  private static String admin(TestServer node) {
    return node.client().post("/api/v1/auth/login", null, new JsonObject().put("email", ADMIN_EMAIL)
        .put("password", Users.PASSWORD)).data().getString("accessToken");
  }

  private static double connects(TestServer node) {
    return node.metrics().get("cmb_redis_subscriber_connects_total").tag("subscriber", "auth-invalidate").counter()
        .count();
  }

  private static void awaitConnects(TestServer node, double atLeast) throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(15);
    while (connects(node) < atLeast) {
      if (System.nanoTime() > deadline) {
        throw new AssertionError("node did not resubscribe within 15 s");
      }
      Thread.sleep(50);
    }
  }

  private static void awaitSubscribed(TestServer node) throws InterruptedException {
    awaitConnects(node, 1);
  }
}
