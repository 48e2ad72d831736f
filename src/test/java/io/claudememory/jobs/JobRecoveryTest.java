package io.claudememory.jobs;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.claudememory.platform.http.Ids;
import io.claudememory.support.ExternalDatabases;
import io.claudememory.support.ExternalDatabases.External;
import io.claudememory.support.TestDatabase;
import io.claudememory.support.TestServer;
import io.claudememory.support.Users;
import io.claudememory.support.Users.TestUser;
import io.vertx.core.json.JsonObject;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

@DisplayName("Jobs survive the death of their node")
class JobRecoveryTest {

  /** Leaves a database.copy job as a node that died mid-job would: running, locked, heartbeat of that age. */
  private static UUID orphanedCopy(TestServer server, TestUser user, String targetId, String node, String age)
      throws Exception {
    UUID id = Ids.newId();
    try (Connection c = TestDatabase.connect(server.master());
         PreparedStatement s = c.prepareStatement("""
             INSERT INTO jobs (id, user_id, kind, status, progress, params, attempts, locked_by, heartbeat_at,
                               started_at)
             VALUES (?, ?, 'database.copy', 'running', 0.4, ?::jsonb, 1, ?, now() - ?::interval, now())""")) {
      s.setObject(1, id);
      s.setObject(2, user.id());
      s.setString(3, new JsonObject().put("targetId", targetId).encode());
      s.setString(4, node);
      s.setString(5, age);
      s.executeUpdate();
    }
    return id;
  }

  private static String addExternal(TestServer server, TestUser user, External db) {
    var reply = server.client().post("/api/v1/database", user.accessToken(), db.body("Mine"));
    assertEquals(201, reply.status(), reply.body());
    return reply.data().getString("id");
  }

  @Test
  @DisplayName("a job whose node stopped beating is re-queued by another node and completes")
  void staleHeartbeat() throws Exception {
    try (TestServer server = TestServer.start()) {
      TestUser ann = Users.register(server.client());
      ExternalDatabases.seed(ExternalDatabases.managed(server, ann.id()), 3, 4);
      String target = addExternal(server, ann, ExternalDatabases.create(server.scope()));
      UUID job = orphanedCopy(server, ann, target, "node-that-died", "1 hour");
      JsonObject done = io.claudememory.support.Jobs.awaitFinished(server.client(), ann.accessToken(),
          job.toString(), 60);
      assertEquals("succeeded", done.getString("status"), done.encode());
      assertEquals(2, done.getInteger("attempts"), "claimed once more after the interruption");
      assertTrue(server.client().get("/api/v1/database", ann.accessToken()).list().stream()
          .map(JsonObject.class::cast).anyMatch(db -> db.getString("id").equals(target) && db.getBoolean("active")));
    }
  }

  @Test
  @DisplayName("a job left running by a node that restarts is re-queued at once and completes, without waiting to go stale")
  void restartedNode() throws Exception {
    TestServer first = TestServer.start(Map.of("NODE_ID", "node-restarting"));
    TestUser ann = Users.register(first.client());
    ExternalDatabases.seed(ExternalDatabases.managed(first, ann.id()), 2, 2);
    External db = ExternalDatabases.create(first.scope());
    String target = addExternal(first, ann, db);
    first.stopNode();
    UUID job = orphanedCopy(first, ann, target, "node-restarting", "1 second");
    try (TestServer second = TestServer.start(first.scope(), Map.of("NODE_ID", "node-restarting"))) {
      JsonObject done = io.claudememory.support.Jobs.awaitFinished(second.client(), ann.accessToken(),
          job.toString(), 20);
      assertEquals("succeeded", done.getString("status"), done.encode());
      assertEquals(2L, ExternalDatabases.count(db.target(), "conversations"), "the data reached the new database");
    }
  }

  @Test
  @DisplayName("a running job's heartbeat is refreshed by its own node only, so a live job never goes stale")
  void heartbeat() throws Exception {
    try (TestServer server = TestServer.start()) {
      TestUser ann = Users.register(server.client());
      UUID mine = orphanedCopy(server, ann, UUID.randomUUID().toString(), "node-alive", "20 seconds");
      Jobs jobs = new Jobs(server.app().vertx(), server.app().master().pool());
      jobs.heartbeat("node-alive", java.util.List.of(mine)).await(10, java.util.concurrent.TimeUnit.SECONDS);
      jobs.heartbeat("node-other", java.util.List.of(mine)).await(10, java.util.concurrent.TimeUnit.SECONDS);
      try (Connection c = TestDatabase.connect(server.master());
           PreparedStatement s = c.prepareStatement(
               "SELECT heartbeat_at > now() - interval '5 seconds', locked_by FROM jobs WHERE id = ?")) {
        s.setObject(1, mine);
        try (var rs = s.executeQuery()) {
          assertTrue(rs.next());
          assertTrue(rs.getBoolean(1), "the heartbeat was refreshed");
          assertEquals("node-alive", rs.getString(2));
        }
      }
    }
  }

  @Test
  @DisplayName("a job of an unknown kind fails with a plain error instead of hanging")
  void unknownKind() throws Exception {
    try (TestServer server = TestServer.start()) {
      TestUser ann = Users.register(server.client());
      UUID id = Ids.newId();
      try (Connection c = TestDatabase.connect(server.master());
           PreparedStatement s = c.prepareStatement(
               "INSERT INTO jobs (id, user_id, kind) VALUES (?, ?, 'no.such.kind')")) {
        s.setObject(1, id);
        s.setObject(2, ann.id());
        s.executeUpdate();
      }
      JsonObject done = io.claudememory.support.Jobs.awaitFinished(server.client(), ann.accessToken(),
          id.toString(), 20);
      assertEquals("failed", done.getString("status"));
      assertEquals("This kind of job is not known.", done.getString("error"));
    }
  }
}
