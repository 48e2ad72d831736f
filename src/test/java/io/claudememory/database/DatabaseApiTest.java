package io.claudememory.database;

import static io.claudememory.support.Problems.assertFieldError;
import static io.claudememory.support.Problems.assertProblem;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.classic.spi.IThrowableProxy;
import ch.qos.logback.core.read.ListAppender;
import io.claudememory.platform.db.DbTarget;
import io.claudememory.support.ApiClient;
import io.claudememory.support.ApiClient.Reply;
import io.claudememory.support.ExternalDatabases;
import io.claudememory.support.ExternalDatabases.External;
import io.claudememory.support.Jobs;
import io.claudememory.support.TestDatabase;
import io.claudememory.support.TestServer;
import io.claudememory.support.Users;
import io.claudememory.support.Users.TestUser;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

@DisplayName("Bring-your-own database: add, list, test, activate (copy, then switch), remove")
class DatabaseApiTest {
  static TestServer server;
  static ApiClient api;
  static ListAppender<ILoggingEvent> logs = new ListAppender<>();
  static final List<String> secrets = new CopyOnWriteArrayList<>();

  @BeforeAll
  static void start() {
    logs.start();
    ((Logger) LoggerFactory.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME)).addAppender(logs);
    server = TestServer.start();
    api = server.client();
  }

  @AfterAll
  static void stop() {
    try {
      server.close();
    } finally {
      ((Logger) LoggerFactory.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME)).detachAppender(logs);
    }
    for (ILoggingEvent event : logs.list) {
      for (String secret : secrets) {
        assertFalse(render(event).contains(secret), () -> "a database password was logged: " + render(event));
      }
    }
  }

  private static String render(ILoggingEvent event) {
    StringBuilder text = new StringBuilder(event.getFormattedMessage());
    for (IThrowableProxy t = event.getThrowableProxy(); t != null; t = t.getCause()) {
      text.append(' ').append(t.getMessage());
    }
    return text.toString();
  }

  private static External external() {
    External db = ExternalDatabases.create(server.scope());
    secrets.add(db.password());
    return db;
  }

  private static JsonObject add(TestUser user, JsonObject body) {
    Reply reply = api.post("/api/v1/database", user.accessToken(), body);
    assertEquals(201, reply.status(), reply.body());
    assertNoSecret(reply);
    return reply.data();
  }

  private static void assertNoSecret(Reply reply) {
    for (String secret : secrets) {
      assertFalse(reply.body().contains(secret), () -> "a password came back in: " + reply.body());
    }
  }

  private static JsonObject activate(TestUser user, String id) {
    Reply reply = api.post("/api/v1/database/" + id + "/activate", user.accessToken(), new JsonObject());
    assertEquals(202, reply.status(), reply.body());
    assertEquals("database.copy", reply.data().getString("kind"));
    assertEquals("/api/v1/jobs/" + reply.data().getString("id"), reply.header("Location"));
    JsonObject job = Jobs.awaitFinished(api, user.accessToken(), reply.data().getString("id"), 90);
    assertEquals("succeeded", job.getString("status"), () -> "the copy job failed: " + job);
    return job;
  }

  private static JsonObject find(JsonArray list, String id) {
    for (int i = 0; i < list.size(); i++) {
      if (list.getJsonObject(i).getString("id").equals(id)) {
        return list.getJsonObject(i);
      }
    }
    return null;
  }

  @Test
  @DisplayName("an added database is listed with its password masked, next to the managed one that stays active")
  void addAndList() {
    TestUser ann = Users.register(api);
    External db = external();
    JsonObject added = add(ann, db.body("Mine"));
    assertEquals("external", added.getString("kind"));
    assertTrue(added.getBoolean("passwordSet"));
    assertFalse(added.getBoolean("active"));
    assertFalse(added.containsKey("password"), "the password is never answered");

    Reply list = api.get("/api/v1/database", ann.accessToken());
    assertEquals(200, list.status(), list.body());
    assertNoSecret(list);
    assertEquals(2, list.list().size(), list.body());
    JsonObject managed = list.list().getJsonObject(0);
    assertEquals("managed", managed.getString("kind"));
    assertTrue(managed.getBoolean("active"), "the managed database is active until another is activated");
    assertNull(managed.getString("host"), "the managed database's server is not disclosed");
    assertEquals(added, find(list.list(), added.getString("id")));
  }

  @Test
  @DisplayName("a database given as a URL is added the same way, and its password is masked too")
  void addByUrl() {
    TestUser ann = Users.register(api);
    External db = external();
    DbTarget t = db.target();
    JsonObject added = add(ann, new JsonObject().put("name", "By URL").put("url", "postgresql://" + t.user() + ":"
        + t.password() + "@" + t.host() + ":" + t.port() + "/" + t.database() + "?sslmode=disable"));
    assertEquals(t.database(), added.getString("database"));
    assertEquals(t.port(), added.getInteger("port"));
    assertTrue(added.getBoolean("passwordSet"));
  }

  @Test
  @DisplayName("invalid database settings get field errors: missing fields, both url and host, a low port, a duplicate name")
  void addValidation() {
    TestUser ann = Users.register(api);
    assertFieldError(api.post("/api/v1/database", ann.accessToken(), new JsonObject().put("name", "x")), "host");
    assertFieldError(api.post("/api/v1/database", ann.accessToken(), new JsonObject().put("name", "x")
        .put("url", "postgresql://u:p@db.example.com/x").put("host", "db.example.com")), "url");
    assertFieldError(api.post("/api/v1/database", ann.accessToken(), external().body("x").put("port", 22)), "port");
    assertFieldError(api.post("/api/v1/database", ann.accessToken(), new JsonObject().put("name", "x")
        .put("url", "mysql://u:p@db.example.com/x")), "url");
    assertFieldError(api.post("/api/v1/database", ann.accessToken(), external().body("x").put("admin", true)),
        "admin");
    add(ann, external().body("Twice"));
    assertFieldError(api.post("/api/v1/database", ann.accessToken(), external().body("twice")), "name");
  }

  @Test
  @DisplayName("testing a reachable database reports its version and latency; a wrong password or port gets a plain reason")
  void testConnection() {
    TestUser ann = Users.register(api);
    External db = external();
    Reply ok = api.post("/api/v1/database/test", ann.accessToken(), db.body("Probe"));
    assertEquals(200, ok.status(), ok.body());
    assertTrue(ok.data().getBoolean("ok"), ok.body());
    assertTrue(ok.data().getString("serverVersion").matches("\\d+.*"), ok.body());
    assertTrue(ok.data().getLong("latencyMs") >= 0);

    JsonObject saved = add(ann, db.body("Saved"));
    Reply byId = api.post("/api/v1/database/test", ann.accessToken(), new JsonObject().put("id", saved.getString("id")));
    assertTrue(byId.data().getBoolean("ok"), byId.body());

    String wrong = "wrong-" + UUID.randomUUID();
    secrets.add(wrong);
    // The test server may trust local connections, so an unknown user stands in for a wrong password.
    Reply refused = api.post("/api/v1/database/test", ann.accessToken(), db.body("Probe").put("password", wrong)
        .put("user", "nobody_" + UUID.randomUUID().toString().substring(0, 8)));
    assertEquals(200, refused.status(), refused.body());
    assertFalse(refused.data().getBoolean("ok"));
    assertEquals("The user name or password was not accepted.", refused.data().getString("reason"));
    assertNoSecret(refused);

    Reply missing = api.post("/api/v1/database/test", ann.accessToken(),
        db.body("Probe").put("database", db.target().database() + "_missing"));
    assertFalse(missing.data().getBoolean("ok"));
    assertTrue(missing.data().getString("reason").contains("database does not exist")
        || missing.data().getString("reason").contains("not accepted"), missing.body());

    Reply closed = api.post("/api/v1/database/test", ann.accessToken(), db.body("Probe").put("port", 1));
    assertFieldError(closed, "port");
    Reply nothing = api.post("/api/v1/database/test", ann.accessToken(),
        db.body("Probe").put("port", io.claudememory.support.TestPorts.free()));
    assertFalse(nothing.data().getBoolean("ok"), nothing.body());
    assertFalse(nothing.body().contains("Exception") || nothing.body().contains("127.0.0.1"),
        () -> "the reason is plain and names no internals: " + nothing.body());
  }

  @Test
  @DisplayName("metadata and link-local hosts are refused even where private hosts are allowed")
  void metadataRefused() {
    TestUser ann = Users.register(api);
    for (String host : List.of("169.254.169.254", "169.254.10.1", "fe80::1", "[fd00:ec2::254]",
        "::ffff:169.254.169.254", "metadata.google.internal", "0.0.0.0", "224.0.0.1", "0xa9fea9fe")) {
      JsonObject body = external().body("Meta").put("host", host);
      assertFieldError(api.post("/api/v1/database", ann.accessToken(), body), "host");
      assertFieldError(api.post("/api/v1/database/test", ann.accessToken(), body), "host");
    }
    assertFieldError(api.post("/api/v1/database", ann.accessToken(), new JsonObject().put("name", "m")
        .put("url", "postgresql://u:p@169.254.169.254:5432/db")), "url");
  }

  @Test
  @DisplayName("activation copies every table, switches reads and writes to the new database, and is audited")
  void activateCopiesAndSwitches() throws Exception {
    TestUser ann = Users.register(api);
    DbTarget managed = ExternalDatabases.managed(server, ann.id());
    ExternalDatabases.seed(managed, 20, 10);
    External db = external();
    JsonObject added = add(ann, db.body("Mine"));

    List<JsonObject> notifications = new CopyOnWriteArrayList<>();
    var consumer = server.app().vertx().eventBus().<JsonObject>consumer("user." + ann.id(),
        message -> notifications.add(message.body().getJsonObject("frame").getJsonObject("data")));
    JsonObject job = activate(ann, added.getString("id"));
    consumer.unregister();
    assertEquals(1.0, job.getDouble("progress"));
    // every tenant table is copied and counted, the empty ones (webhooks, audit, import sources) included
    assertEquals(new JsonObject().put("projects", 1L).put("conversations", 20L).put("messages", 200L)
        .put("audit_events", 0L).put("import_sources", 0L).put("webhook_outbox", 0L).put("webhook_attempts", 0L)
        .put("webhook_deliveries", 0L).put("tenant_settings", 1L).put("read_positions", 0L), job.getJsonObject("result").getJsonObject("counts"), job.encode());

    for (String table : List.of("projects", "conversations", "messages")) {
      assertEquals(ExternalDatabases.count(managed, table), ExternalDatabases.count(db.target(), table), table);
    }
    assertEquals(db.target().database(), ExternalDatabases.currentDatabase(server.app().tenantPools(), ann.id()),
        "reads and writes now go to the new database");
    JsonArray list = api.get("/api/v1/database", ann.accessToken()).list();
    assertTrue(find(list, added.getString("id")).getBoolean("active"));
    assertFalse(list.getJsonObject(0).getBoolean("active"), "the managed database is no longer active");
    assertTrue(notifications.stream().anyMatch(n -> "job.progress".equals(n.getString("type"))
        && "succeeded".equals(n.getJsonObject("job").getString("status"))), () -> "notifications: " + notifications);
    assertEquals(1, auditCount(ann.id(), "database.activated"));

    try (Connection c = TestDatabase.connect(db.target());
         ResultSet rs = c.createStatement().executeQuery("""
             SELECT count(*) FROM messages m JOIN messages p ON p.id = m.parent_id
             WHERE m.content LIKE '%''quotes''%é ✓' AND m.blocks ? 'n' AND m.search @@ to_tsquery('english', 'message')""")) {
      rs.next();
      assertEquals(180, rs.getLong(1), "content, JSON, branches and the generated search column survive the copy");
    }

    // Deleting the active one is refused; switching back to the managed database copies what was written since.
    assertProblem(api.delete("/api/v1/database/" + added.getString("id"), ann.accessToken()), 409);
    ExternalDatabases.writeThroughPools(server.app().tenantPools(), ann.id());
    activate(ann, list.getJsonObject(0).getString("id"));
    assertEquals(21, ExternalDatabases.count(managed, "conversations"), "the write made on the external database");
    assertEquals(managed.database(), ExternalDatabases.currentDatabase(server.app().tenantPools(), ann.id()));
    assertProblem(api.delete("/api/v1/database/" + list.getJsonObject(0).getString("id"), ann.accessToken()), 409);
    assertEquals(204, api.delete("/api/v1/database/" + added.getString("id"), ann.accessToken()).status());
    assertEquals(1, api.get("/api/v1/database", ann.accessToken()).list().size());
  }

  @Test
  @DisplayName("nothing written while the data is being copied is lost")
  void writesDuringCopyArePreserved() throws Exception {
    TestUser ann = Users.register(api);
    DbTarget managed = ExternalDatabases.managed(server, ann.id());
    ExternalDatabases.seed(managed, 200, 25);
    External db = external();
    JsonObject added = add(ann, db.body("Mine"));

    Reply started = api.post("/api/v1/database/" + added.getString("id") + "/activate", ann.accessToken(),
        new JsonObject());
    assertEquals(202, started.status(), started.body());
    String jobId = started.data().getString("id");
    int written = 0;
    int writtenWhileRunning = 0;
    long deadline = System.nanoTime() + 90_000_000_000L;
    String status = "queued";
    while (!Set.of("succeeded", "failed").contains(status) && System.nanoTime() < deadline) {
      ExternalDatabases.writeThroughPools(server.app().tenantPools(), ann.id());
      written++;
      String after = api.get("/api/v1/jobs/" + jobId, ann.accessToken()).data().getString("status");
      if ("running".equals(status) && "running".equals(after)) {
        writtenWhileRunning++;
      }
      status = after;
    }
    assertEquals("succeeded", status, "the copy job finished");
    assertTrue(writtenWhileRunning > 0, "some writes happened while the copy was running");
    for (int i = 0; i < 3; i++) {
      ExternalDatabases.writeThroughPools(server.app().tenantPools(), ann.id());
      written++;
    }
    assertEquals(200 + written, ExternalDatabases.count(db.target(), "conversations"),
        "every conversation written before, during and after the copy is in the new database");
  }

  @Test
  @DisplayName("user B cannot see, test, activate or remove A's databases, nor read A's jobs")
  void isolation() {
    TestUser ann = Users.register(api);
    TestUser bob = Users.register(api);
    JsonObject added = add(ann, external().body("Ann's"));
    String id = added.getString("id");
    Reply bobs = api.get("/api/v1/database", bob.accessToken());
    assertEquals(1, bobs.list().size(), "Bob sees only his managed database");
    assertFalse(bobs.body().contains(id));
    assertProblem(api.post("/api/v1/database/" + id + "/activate", bob.accessToken(), new JsonObject()), 404);
    assertProblem(api.delete("/api/v1/database/" + id, bob.accessToken()), 404);
    assertProblem(api.post("/api/v1/database/test", bob.accessToken(), new JsonObject().put("id", id)), 404);
    JsonObject job = activate(ann, id);
    assertProblem(api.get("/api/v1/jobs/" + job.getString("id"), bob.accessToken()), 404);
    assertProblem(api.get("/api/v1/jobs/" + UUID.randomUUID(), ann.accessToken()), 404);
    assertProblem(api.get("/api/v1/jobs/not-an-id", ann.accessToken()), 404);
    assertEquals(401, api.get("/api/v1/database", null).status());
  }

  private static int auditCount(UUID userId, String action) throws Exception {
    try (Connection c = TestDatabase.connect(server.master());
         PreparedStatement s = c.prepareStatement(
             "SELECT count(*) FROM audit_events WHERE user_id = ? AND action = ?")) {
      s.setObject(1, userId);
      s.setString(2, action);
      try (ResultSet rs = s.executeQuery()) {
        rs.next();
        return rs.getInt(1);
      }
    }
  }
}
