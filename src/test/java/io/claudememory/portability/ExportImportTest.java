package io.claudememory.portability;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.claudememory.support.Awaits;
import io.claudememory.support.TenantData;
import io.claudememory.support.TestServer;
import io.claudememory.support.Users;
import io.claudememory.support.Users.TestUser;
import io.claudememory.support.WsClient;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import java.io.ByteArrayInputStream;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.Map;
import java.util.UUID;
import java.util.zip.ZipEntry;
import java.util.zip.ZipInputStream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

@DisplayName("Exports give an account back, and imports restore it")
class ExportImportTest {
  private static TestServer server;
  private static PortabilityClient client;

  @BeforeAll
  static void start() {
    server = TestServer.start(Map.of("CMB_EXPORT_EXPIRY_SWEEP_SECONDS", "1"));
    client = new PortabilityClient(server.client());
  }

  @AfterAll
  static void stop() {
    server.close();
  }

  private static TestUser seededUser() {
    TestUser user = Users.register(server.client());
    TenantData.seedAccount(TenantData.of(server, user.id()));
    return user;
  }

  @Test
  @DisplayName("a native export imported into another account gives an identical account, and importing it again "
      + "adds nothing")
  void nativeRoundTrip() throws Exception {
    TestUser ann = seededUser();
    JsonObject job = client.export(ann.accessToken(), new JsonObject().put("scope", "all").put("format", "json"));
    assertEquals("succeeded", job.getString("status"), job.encode());
    JsonObject result = job.getJsonObject("result");
    assertEquals(new JsonObject().put("projects", 2).put("conversations", 3).put("messages", 5),
        result.getJsonObject("counts"));
    Buffer file = client.download(ann.accessToken(), job.getString("id"));
    assertEquals(result.getLong("size"), (long) file.length());
    Map<String, String> entries = unzip(file.getBytes());
    assertTrue(entries.get("manifest.json").contains("\"version\" : 1"), entries.get("manifest.json"));

    TestUser bob = Users.register(server.client());
    JsonObject imported = client.importFile(bob.accessToken(), "export.zip", file, null);
    assertEquals("succeeded", imported.getString("status"), imported.encode());
    JsonObject report = imported.getJsonObject("result");
    assertEquals("native", report.getString("source"));
    assertEquals(3L, report.getJsonObject("imported").getLong("conversations"), report.encode());
    assertEquals(5L, report.getJsonObject("imported").getLong("messages"), report.encode());
    assertEquals(TenantData.dump(TenantData.of(server, ann.id())), TenantData.dump(TenantData.of(server, bob.id())),
        "projects, conversations, every branch, usage and summaries are identical");

    JsonObject again = client.importFile(bob.accessToken(), "export.zip", file, null).getJsonObject("result");
    assertEquals(0L, again.getJsonObject("imported").getLong("conversations"), again.encode());
    assertEquals(3L, again.getJsonObject("skipped").getLong("conversations"), again.encode());
    assertEquals(3L, TenantData.count(TenantData.of(server, bob.id()), "conversations"), "nothing was added");
  }

  @Test
  @DisplayName("an encrypted export imports with its passphrase, fails cleanly with a wrong one, and decrypts offline")
  void encryptedExport() throws Exception {
    TestUser ann = seededUser();
    JsonObject job = client.export(ann.accessToken(), new JsonObject().put("passphrase", "correct horse 42"));
    assertEquals("succeeded", job.getString("status"), job.encode());
    assertFalse(job.getJsonObject("params").containsKey("passphrase"), "the passphrase is never shown");
    assertTrue(job.getJsonObject("result").getBoolean("encrypted"));
    Buffer file = client.download(ann.accessToken(), job.getString("id"));
    assertTrue(file.getString(0, 8).equals("CMBXENC1"), "the container's magic");

    byte[] zip;
    try (InputStream in = ExportCipher.decrypt(new ByteArrayInputStream(file.getBytes()),
        "correct horse 42".toCharArray())) {
      zip = in.readAllBytes();
    }
    assertTrue(unzip(zip).containsKey("messages.jsonl"), "decrypts without the server to the native bundle");

    TestUser bob = Users.register(server.client());
    JsonObject wrong = client.importFile(bob.accessToken(), "export.zip.cmbx", file, "wrong passphrase");
    assertEquals("failed", wrong.getString("status"), wrong.encode());
    assertEquals("The passphrase is wrong or the file was altered.", wrong.getString("error"));
    assertEquals(1, wrong.getJsonObject("result").getJsonArray("refused").size());
    assertEquals(0L, TenantData.count(TenantData.of(server, bob.id()), "conversations"), "nothing imported");

    JsonObject right = client.importFile(bob.accessToken(), "export.zip.cmbx", file, "correct horse 42");
    assertEquals("succeeded", right.getString("status"), right.encode());
    assertEquals(TenantData.dump(TenantData.of(server, ann.id())), TenantData.dump(TenantData.of(server, bob.id())));
  }

  @Test
  @DisplayName("Markdown gives one file per conversation with its current branch and notes the others")
  void markdown() throws Exception {
    TestUser ann = seededUser();
    JsonObject job = client.export(ann.accessToken(), new JsonObject().put("format", "markdown"));
    assertEquals("succeeded", job.getString("status"), job.encode());
    Map<String, String> files = unzip(client.download(ann.accessToken(), job.getString("id")).getBytes());
    assertEquals(3, files.size(), files.keySet().toString());
    String lisbon = files.entrySet().stream().filter(e -> e.getKey().contains("lisbon-3-days")).findFirst()
        .orElseThrow().getValue();
    assertTrue(lisbon.startsWith("# Lisbon, 3 days"), lisbon);
    assertTrue(lisbon.contains("Day 1: Alfama") && lisbon.contains("And day 2?"), "the current branch");
    assertFalse(lisbon.contains("A regenerated answer"), "the other branch is not inlined");
    assertTrue(lisbon.contains("Other branches") && lisbon.contains("(seq 3,"), "but it is noted");
  }

  @Test
  @DisplayName("CSV gives conversations.csv and messages.csv with every message, quoted as RFC 4180 says")
  void csv() throws Exception {
    TestUser ann = seededUser();
    JsonObject job = client.export(ann.accessToken(), new JsonObject().put("format", "csv"));
    Map<String, String> files = unzip(client.download(ann.accessToken(), job.getString("id")).getBytes());
    assertEquals(4, files.get("conversations.csv").split("\r\n").length, files.get("conversations.csv"));
    String messages = files.get("messages.csv");
    assertTrue(messages.contains("\"Day 1: Alfama, \"\"quoted\"\", and a comma\""), messages);
    assertTrue(messages.contains(",12,345,"), "token usage columns");
    assertTrue(messages.contains("\"A regenerated answer\nover two lines\""), "every branch, multi-line quoted");
  }

  @Test
  @DisplayName("a project or a single conversation can be exported alone")
  void scopes() throws Exception {
    TestUser ann = Users.register(server.client());
    UUID branched = TenantData.seedAccount(TenantData.of(server, ann.id()));
    JsonObject one = client.export(ann.accessToken(), new JsonObject().put("scope", "conversation")
        .put("conversationId", branched.toString()));
    assertEquals(new JsonObject().put("projects", 1).put("conversations", 1).put("messages", 4),
        one.getJsonObject("result").getJsonObject("counts"), "the conversation and its project");
    var missing = server.client().post("/api/v1/export/create", ann.accessToken(), new JsonObject()
        .put("scope", "project").put("projectId", UUID.randomUUID().toString()));
    assertEquals(404, missing.status(), missing.body());
    var invalid = server.client().post("/api/v1/export/create", ann.accessToken(), new JsonObject()
        .put("scope", "project").put("format", "pdf"));
    assertEquals(400, invalid.status());
    assertEquals(2, invalid.json().getJsonArray("errors").size(), invalid.body());
  }

  @Test
  @DisplayName("an export's progress is pushed to its owner's sockets as notification frames, up to its success")
  void progressOnSockets() {
    TestUser ann = seededUser();
    try (WsClient ws = WsClient.connect(server.app().vertx(), server.port(), ann.accessToken())) {
      ws.expect("ready");
      String id = client.export(ann.accessToken(), new JsonObject()).getString("id");
      JsonObject job = ws.expect(f -> "notification".equals(f.getString("type"))
          && "job.progress".equals(f.getJsonObject("data").getString("type"))
          && id.equals(f.getJsonObject("data").getJsonObject("job").getString("id"))
          && "succeeded".equals(f.getJsonObject("data").getJsonObject("job").getString("status")),
          "the notification that export " + id + " succeeded").getJsonObject("data").getJsonObject("job");
      assertEquals(1.0, job.getDouble("progress"));
      assertEquals("/api/v1/export/download/" + id, job.getJsonObject("result").getString("downloadUrl"));
    }
  }

  @Test
  @DisplayName("another user gets 404 for someone's export job and download")
  void isolation() throws Exception {
    TestUser ann = seededUser();
    TestUser bob = Users.register(server.client());
    JsonObject job = client.export(ann.accessToken(), new JsonObject());
    assertEquals(404, server.client().get("/api/v1/export/jobs/" + job.getString("id"), bob.accessToken()).status());
    assertEquals(404, server.client().get("/api/v1/export/download/" + job.getString("id"), bob.accessToken())
        .status());
    assertEquals(401, server.client().get("/api/v1/export/download/" + job.getString("id"), null).status());
  }

  @Test
  @DisplayName("once its download time is over, the periodic sweep alone deletes an export's file; the job then says "
      + "it expired and the download answers 410 Gone")
  void expiry() throws Exception {
    TestUser ann = seededUser();
    JsonObject job = client.export(ann.accessToken(), new JsonObject());
    assertFalse(job.getJsonObject("result").getBoolean("expired"), job.encode());
    String id = job.getString("id");
    java.nio.file.Path file;
    try (java.sql.Connection c = io.claudememory.support.TestDatabase.connect(server.master());
         java.sql.Statement s = c.createStatement()) {
      var rs = s.executeQuery("SELECT path FROM export_files WHERE job_id = '" + id + "'");
      rs.next();
      file = java.nio.file.Path.of(rs.getString(1));
      assertTrue(java.nio.file.Files.exists(file));
      // the download time passes (the shortest configurable is an hour)
      s.executeUpdate("UPDATE export_files SET expires_at = now() - interval '1 second' WHERE job_id = '" + id + "'");
    }
    Awaits.until(() -> !java.nio.file.Files.exists(file), 10_000,
        "the sweep (every second here) deletes the expired file, with no download asking for it");
    JsonObject expired = client.awaitJob(ann.accessToken(), id, 10);
    assertTrue(expired.getJsonObject("result").getBoolean("expired"), expired.encode());
    var gone = server.client().get("/api/v1/export/download/" + id, ann.accessToken());
    assertEquals(410, gone.status(), gone.body());
  }

  static Map<String, String> unzip(byte[] zip) throws Exception {
    Map<String, String> files = new HashMap<>();
    try (ZipInputStream in = new ZipInputStream(new ByteArrayInputStream(zip))) {
      for (ZipEntry e = in.getNextEntry(); e != null; e = in.getNextEntry()) {
        files.put(e.getName(), new String(in.readAllBytes(), StandardCharsets.UTF_8));
      }
    }
    return files;
  }

}
