package io.claudememory.audit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import io.claudememory.portability.PortabilityTestAccess;
import io.claudememory.support.ApiClient;
import io.claudememory.support.ExternalDatabases;
import io.claudememory.support.TestDatabase;
import io.claudememory.support.TestServer;
import io.claudememory.support.Users;
import io.claudememory.support.Users.TestUser;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.Statement;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

@DisplayName("The audit trail records security events and data changes, and reads back in cursor pages")
class AuditTrailTest {
  @RegisterExtension
  private static final TestServer server = TestServer.start(Map.of("CMB_AUTH_STATE_CACHE_SECONDS", "0"));
  private static final ApiClient api = server.client();

  private static List<JsonObject> trail(TestUser user, String query) {
    ApiClient.Reply reply = api.get("/api/v1/audit" + query, user.accessToken());
    assertEquals(200, reply.status(), reply.body());
    return reply.list().stream().map(JsonObject.class::cast).toList();
  }

  private static Set<String> actions(TestUser user) {
    Set<String> actions = new HashSet<>();
    String cursor = null;
    do {
      ApiClient.Reply reply = api.get("/api/v1/audit?limit=200" + (cursor == null ? "" : "&cursor=" + cursor),
          user.accessToken());
      reply.list().forEach(e -> actions.add(((JsonObject) e).getString("source") + ":"
          + ((JsonObject) e).getString("action")));
      cursor = reply.json().getString("nextCursor");
    } while (cursor != null);
    return actions;
  }

  private static Set<String> awaitActions(TestUser user, Set<String> expected) {
    long deadline = System.nanoTime() + 20_000_000_000L;
    Set<String> seen = actions(user);
    while (!seen.containsAll(expected)) {
      if (System.nanoTime() > deadline) {
        Set<String> missing = new HashSet<>(expected);
        missing.removeAll(seen);
        fail("missing from the trail: " + missing + "; seen " + seen);
      }
      try {
        Thread.sleep(100);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
      seen = actions(user);
    }
    return seen;
  }

  @Test
  @DisplayName("register, logins and failures, refresh reuse, API keys, webhooks, database activation, export "
      + "downloads and imported data all appear in the owner's trail")
  void everyListedAction() throws Exception {
    TestUser ann = Users.register(api);
    assertEquals(401, api.post("/api/v1/auth/login", null, new JsonObject().put("email", ann.email())
        .put("password", "wrong password")).status());
    ApiClient.Reply login = api.post("/api/v1/auth/login", null, new JsonObject().put("email", ann.email())
        .put("password", Users.PASSWORD));
    assertEquals(200, login.status());
    assertEquals(200, api.post("/api/v1/auth/refresh", null, new JsonObject().put("refreshToken",
        ann.refreshToken())).status());
    assertEquals(401, api.post("/api/v1/auth/refresh", null, new JsonObject().put("refreshToken",
        ann.refreshToken())).status(), "a rotated token used again");
    // The reuse ended the registration's sign-in, its access token included: go on with the login's.
    ann = new TestUser(ann.id(), ann.email(), login.data().getString("accessToken"),
        login.data().getString("refreshToken"));

    String key = api.post("/api/v1/api-keys", ann.accessToken(), new JsonObject().put("name", "ci")).data()
        .getString("id");
    assertEquals(204, api.delete("/api/v1/api-keys/" + key, ann.accessToken()).status());
    String hook = api.post("/api/v1/webhooks", ann.accessToken(), new JsonObject()
        .put("url", "http://127.0.0.1:9/hook").put("events", new JsonArray().add("project.created"))).data()
        .getString("id");
    assertEquals(200, api.patch("/api/v1/webhooks/" + hook, ann.accessToken(), new JsonObject()
        .put("description", "ci")).status());
    assertEquals(204, api.delete("/api/v1/webhooks/" + hook, ann.accessToken()).status());

    JsonObject export = new PortabilityTestAccess(api).export(ann.accessToken());
    assertEquals(200, api.get("/api/v1/export/download/" + export.getString("id"), ann.accessToken()).status());
    ApiClient.Reply imported = api.upload("/api/v1/export/import", ann.accessToken(), "conversations.json",
        Buffer.buffer("[{\"uuid\": \"c1\", \"name\": \"Hi\", \"chat_messages\": []}]"), null);
    assertEquals(202, imported.status(), imported.body());

    // /database is documented at merge; its replies are not held to the contract here
    ApiClient raw = api.withoutContractCheck();
    String db = raw.post("/api/v1/database", ann.accessToken(),
        ExternalDatabases.create(server.scope()).body("Mine")).data().getString("id");
    assertEquals(202, raw.post("/api/v1/database/" + db + "/activate", ann.accessToken(), new JsonObject())
        .status());

    Set<String> seen = awaitActions(ann, Set.of("security:auth.register", "security:auth.login",
        "security:auth.login_failed", "security:auth.refresh_reuse", "security:api_key.created",
        "security:api_key.revoked", "security:webhook.created", "security:webhook.updated",
        "security:webhook.deleted", "security:export.downloaded", "security:database.activated",
        "data:conversation.imported"));
    assertTrue(seen.size() >= 12, seen.toString());
  }

  @Test
  @DisplayName("pages follow the cursor newest first without repeats, and filters narrow by action and time")
  void pagesAndFilters() {
    TestUser bob = Users.register(api);
    for (int i = 0; i < 5; i++) {
      String key = api.post("/api/v1/api-keys", bob.accessToken(), new JsonObject().put("name", "k" + i)).data()
          .getString("id");
      api.delete("/api/v1/api-keys/" + key, bob.accessToken());
    }
    List<JsonObject> all = new ArrayList<>();
    String cursor = null;
    do {
      ApiClient.Reply page = api.get("/api/v1/audit?limit=3" + (cursor == null ? "" : "&cursor=" + cursor),
          bob.accessToken());
      assertTrue(page.list().size() <= 3);
      page.list().forEach(e -> all.add((JsonObject) e));
      cursor = page.json().getString("nextCursor");
    } while (cursor != null);
    assertEquals(11, all.size(), "register and ten key events: " + all);
    assertEquals(11, all.stream().map(e -> e.getString("id")).distinct().count(), "no repeats");
    for (int i = 1; i < all.size(); i++) {
      assertTrue(all.get(i - 1).getString("createdAt").compareTo(all.get(i).getString("createdAt")) >= 0,
          "newest first");
    }
    assertEquals(5, trail(bob, "?action=api_key.created").size());
    String middle = all.get(5).getString("createdAt");
    String encoded = URLEncoder.encode(middle, StandardCharsets.UTF_8);
    assertEquals(5, trail(bob, "?to=" + encoded).size(), "strictly before 'to'");
    assertEquals(6, trail(bob, "?from=" + encoded).size(), "from 'from' on");
    assertEquals(0, trail(bob, "?from=" + URLEncoder.encode(Instant.now().plusSeconds(60).toString(),
        StandardCharsets.UTF_8)).size());
    assertEquals(400, api.get("/api/v1/audit?from=yesterday", bob.accessToken()).status());
  }

  @Test
  @DisplayName("an admin reads another user's security events; anyone else is refused")
  void adminsReadOthers() throws Exception {
    TestUser admin = Users.register(api);
    TestUser carol = Users.register(api);
    assertEquals(403, api.get("/api/v1/audit?userId=" + admin.id(), carol.accessToken()).status());
    try (Connection c = TestDatabase.connect(server.master()); Statement s = c.createStatement()) {
      s.executeUpdate("UPDATE users SET role = 'admin' WHERE id = '" + admin.id() + "'");
    }
    List<JsonObject> carols = trail(admin, "?userId=" + carol.id());
    assertEquals(List.of("auth.register"), carols.stream().map(e -> e.getString("action")).toList());
    assertEquals(carol.id().toString(), carols.get(0).getString("userId"));
  }

  @Test
  @DisplayName("with scope=all an admin reads every user's security events, failed logins for unknown emails "
      + "included; anyone else is refused")
  void adminsReadEveryone() throws Exception {
    TestUser admin = Users.register(api);
    TestUser dave = Users.register(api);
    String requestId = UUID.randomUUID().toString();
    assertEquals(401, api.send(api.request(HttpMethod.POST, "/api/v1/auth/login", null)
        .putHeader("X-Request-Id", requestId), new JsonObject().put("email", "nobody-" + requestId + "@example.com")
        .put("password", "whatever it is").toBuffer()).status());
    assertEquals(403, api.get("/api/v1/audit?scope=all", dave.accessToken()).status(), "not for a user");
    try (Connection c = TestDatabase.connect(server.master()); Statement s = c.createStatement()) {
      s.executeUpdate("UPDATE users SET role = 'admin' WHERE id = '" + admin.id() + "'");
    }
    assertEquals(400, api.get("/api/v1/audit?scope=everything", admin.accessToken()).status());
    assertEquals(400, api.get("/api/v1/audit?scope=all&userId=" + dave.id(), admin.accessToken()).status());

    JsonObject anonymous = trail(admin, "?scope=all&action=auth.login_failed&limit=200").stream()
        .filter(e -> requestId.equals(e.getString("requestId"))).findFirst()
        .orElseThrow(() -> new AssertionError("the failed login for an unknown email is in the trail"));
    assertNull(anonymous.getString("userId"), "it belongs to no user");
    assertEquals("unknown email", anonymous.getJsonObject("details").getString("reason"));
    List<JsonObject> registered = trail(admin, "?scope=all&action=auth.register&limit=200");
    assertTrue(registered.stream().anyMatch(e -> dave.id().toString().equals(e.getString("userId"))),
        "another user's events: " + registered);
    assertTrue(trail(admin, "?scope=all").stream().allMatch(e -> "security".equals(e.getString("source"))),
        "data changes stay with their owner");
    assertTrue(trail(dave, "").stream().allMatch(e -> dave.id().toString().equals(e.getString("userId"))
        || "data".equals(e.getString("source"))), "a user still reads only their own");
  }
}
