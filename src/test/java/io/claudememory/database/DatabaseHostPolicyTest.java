package io.claudememory.database;

import static io.claudememory.support.Problems.assertFieldError;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import io.claudememory.support.ApiClient;
import io.claudememory.support.ApiClient.Reply;
import io.claudememory.support.ExternalDatabases;
import io.claudememory.support.ExternalDatabases.External;
import io.claudememory.support.TestServer;
import io.claudememory.support.Users;
import io.claudememory.support.Users.TestUser;
import io.vertx.core.json.JsonObject;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

@DisplayName("Bring-your-own database hosts where private addresses are not allowed (production)")
class DatabaseHostPolicyTest {
  @RegisterExtension
  static final TestServer server = TestServer.start(Map.of("CMB_DATABASE_ALLOW_PRIVATE_HOSTS", "false"));
  static final ApiClient api = server.client();

  @Test
  @DisplayName("loopback and private hosts are refused when added or tested, names resolving to them included")
  void privateHostsRefused() {
    TestUser ann = Users.register(api);
    External db = ExternalDatabases.create(server.scope());
    for (String host : List.of("127.0.0.1", "localhost", "10.0.0.5", "192.168.1.10", "172.20.0.1", "0x7f000001",
        "2130706433", "127.1", "::1", "[::ffff:127.0.0.1]", "fd00::1", "169.254.169.254")) {
      JsonObject body = db.body("Private").put("host", host);
      Reply added = api.post("/api/v1/database", ann.accessToken(), body);
      assertFieldError(added, "host");
      assertFalse(added.body().contains(db.password()), "the refusal does not echo the password");
      assertFieldError(api.post("/api/v1/database/test", ann.accessToken(), body), "host");
    }
    assertFieldError(api.post("/api/v1/database", ann.accessToken(), new JsonObject().put("name", "u")
        .put("url", "postgresql://u:p@localhost:5432/db")), "url");
    assertEquals(1, api.get("/api/v1/database", ann.accessToken()).list().size(), "nothing was added");
  }

  @Test
  @DisplayName("a private database registered earlier cannot be tested or activated once the policy forbids it")
  void policyAppliesOnEveryConnection() throws Exception {
    TestUser ann = Users.register(api);
    External db = ExternalDatabases.create(server.scope());
    String id = io.claudememory.platform.http.Ids.newId().toString();
    // Registered directly, as if added while the policy allowed it.
    try (var c = io.claudememory.support.TestDatabase.connect(server.master());
         var s = c.prepareStatement("""
             INSERT INTO tenant_databases (id, user_id, name, kind, host, port, database, username, password_sealed)
             VALUES (?::uuid, ?, 'Old', 'external', ?, ?, ?, ?, ?)""")) {
      s.setString(1, id);
      s.setObject(2, ann.id());
      s.setString(3, db.target().host());
      s.setInt(4, db.target().port());
      s.setString(5, db.target().database());
      s.setString(6, db.target().user());
      s.setString(7, new io.claudememory.platform.crypto.SecretBox(server.config().masterKey())
          .seal(db.password(), id));
      s.executeUpdate();
    }
    assertFieldError(api.post("/api/v1/database/test", ann.accessToken(), new JsonObject().put("id", id)), "id");
    Reply started = api.post("/api/v1/database/" + id + "/activate", ann.accessToken(), new JsonObject());
    assertEquals(202, started.status(), started.body());
    JsonObject job = io.claudememory.support.Jobs.awaitFinished(api, ann.accessToken(),
        started.data().getString("id"), 60);
    assertEquals("failed", job.getString("status"));
    assertEquals("The host points to a private or loopback address, which this server does not allow.",
        job.getString("error"));
  }
}
