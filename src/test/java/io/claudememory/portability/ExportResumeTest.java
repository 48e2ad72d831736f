package io.claudememory.portability;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import io.claudememory.support.ApiClient;
import io.claudememory.support.ExternalDatabases;
import io.claudememory.support.TenantData;
import io.claudememory.support.TestDatabase;
import io.claudememory.support.TestServer;
import io.claudememory.support.Users;
import io.claudememory.support.Users.TestUser;
import io.vertx.core.json.JsonObject;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.Map;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

@DisplayName("An export cut short by its node stopping resumes when the node is back")
class ExportResumeTest {

  private static String status(TestServer server, String jobId) throws Exception {
    try (Connection c = TestDatabase.connect(server.master()); Statement s = c.createStatement();
         ResultSet rs = s.executeQuery("SELECT status || ':' || progress FROM jobs WHERE id = '" + jobId + "'")) {
      rs.next();
      return rs.getString(1);
    }
  }

  @Test
  @DisplayName("a running export is left for re-queueing when its node stops, and completes after the restart")
  void stopAndResume() throws Exception {
    Map<String, String> env = Map.of("NODE_ID", "node-resuming");
    TestServer first = TestServer.start(env);
    TestUser ann = Users.register(first.client());
    ExternalDatabases.seed(TenantData.of(first, ann.id()), 200, 1000);
    ApiClient.Reply created = first.client().post("/api/v1/export/create", ann.accessToken(),
        new JsonObject().put("format", "csv"));
    assertEquals(202, created.status(), created.body());
    String jobId = created.data().getString("id");
    long deadline = System.nanoTime() + 60_000_000_000L;
    String seen = status(first, jobId);
    while (!(seen.startsWith("running:") && !seen.equals("running:0"))) {
      if (System.nanoTime() > deadline || seen.startsWith("succeeded") || seen.startsWith("failed")) {
        fail("the export was not seen running with progress before the stop; last: " + seen);
      }
      Thread.sleep(10);
      seen = status(first, jobId);
    }
    first.stopNode();
    assertTrue(status(first, jobId).startsWith("running:"), "not failed by the stop: " + status(first, jobId));

    try (TestServer second = TestServer.start(first.scope(), env)) {
      JsonObject job = new PortabilityClient(second.client()).awaitJob(ann.accessToken(), jobId, 120);
      assertEquals("succeeded", job.getString("status"), job.encode());
      assertEquals(2, job.getInteger("attempts"), "run again after the restart");
      assertEquals(200_000L, job.getJsonObject("result").getJsonObject("counts").getLong("messages"));
      var download = second.client().get("/api/v1/export/download/" + jobId, ann.accessToken());
      assertEquals(200, download.status());
      assertEquals(job.getJsonObject("result").getLong("size"), (long) download.raw().length());
    }
  }
}
