package io.claudememory.portability;

import static io.claudememory.support.Problems.assertProblem;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.claudememory.platform.http.Ids;
import io.claudememory.support.ApiClient;
import io.claudememory.support.ApiClient.Reply;
import io.claudememory.support.Archives;
import io.claudememory.support.Awaits;
import io.claudememory.support.TenantData;
import io.claudememory.support.TestDatabase;
import io.claudememory.support.TestServer;
import io.claudememory.support.Users;
import io.claudememory.support.Users.TestUser;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.util.Map;
import java.util.UUID;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

@DisplayName("Imports read claude.ai and ChatGPT exports and refuse hostile files")
class ImportFormatsTest {
  private static TestServer server;
  private static PortabilityClient client;

  @BeforeAll
  static void start() {
    server = TestServer.start(Map.of("CMB_IMPORT_MAX_FIELD_CHARS", "100000", "CMB_IMPORT_MAX_UPLOAD_MB", "2"));
    client = new PortabilityClient(server.client());
  }

  @AfterAll
  static void stop() {
    server.close();
  }

  private static JsonArray rows(TestUser user, String sql) {
    return TenantData.query(TenantData.of(server, user.id()), sql);
  }

  private static JsonObject one(TestUser user, String sql) {
    JsonArray rows = rows(user, sql);
    assertEquals(1, rows.size(), () -> sql + " gave " + rows.encode());
    return rows.getJsonObject(0);
  }

  @Test
  @DisplayName("a claude.ai ZIP keeps every branch, the newest leaf current, artifacts and attachments as text, "
      + "projects, and titles null names; importing it again adds nothing")
  void claudeZip() {
    TestUser ann = Users.register(server.client());
    JsonObject job = client.importFile(ann.accessToken(), "claude-export.zip", Fixtures.claudeZip(), null);
    assertEquals("succeeded", job.getString("status"), job.encode());
    JsonObject report = job.getJsonObject("result");
    assertEquals("claude.ai", report.getString("source"));
    assertEquals(new JsonObject().put("projects", 1).put("conversations", 2).put("messages", 6),
        report.getJsonObject("imported"), report.encode());

    JsonObject trip = one(ann, "SELECT to_jsonb(c)::text FROM conversations c WHERE title = 'Trip planning'");
    assertEquals(4, trip.getInteger("message_count"));
    JsonObject leaf = one(ann, "SELECT to_jsonb(m)::text FROM messages m WHERE id = '"
        + trip.getString("current_leaf_id") + "'");
    assertTrue(leaf.getString("content").startsWith("Thanks, and with kids?"), "the newest leaf is current");
    assertTrue(leaf.getString("content").contains("[Attachment: kids.txt]\nTwo kids, 5 and 8"), leaf.encode());
    assertTrue(leaf.getString("content").contains("[File: photo.jpg"), leaf.encode());
    JsonObject parent = one(ann, "SELECT to_jsonb(m)::text FROM messages m WHERE id = '"
        + leaf.getString("parent_id") + "'");
    assertEquals("Day 1: Belém", parent.getString("content"), "the current branch runs through the regeneration");
    JsonObject other = one(ann, "SELECT to_jsonb(m)::text FROM messages m WHERE content LIKE 'Day 1: Alfama%'");
    assertEquals(parent.getString("parent_id"), other.getString("parent_id"), "both answers share their prompt");
    assertTrue(other.getString("content").contains("[Artifact: Itinerary]\n```markdown\n| Day | Plan |"),
        other.getString("content"));
    assertEquals("thinking", other.getJsonArray("blocks").getJsonObject(0).getString("type"), "blocks kept");
    assertEquals("user", one(ann, "SELECT to_jsonb(m)::text FROM messages m WHERE content = 'Plan 3 days in Lisbon'")
        .getString("role"));

    JsonObject old = one(ann, "SELECT to_jsonb(c)::text FROM conversations c WHERE title <> 'Trip planning'");
    assertEquals("What is the capital of France?", old.getString("title"), "a null name gets a title");
    JsonObject answer = one(ann, "SELECT to_jsonb(m)::text FROM messages m WHERE content = 'Paris.'");
    assertEquals(old.getString("current_leaf_id"), answer.getString("id"), "older exports are one chain");
    assertEquals(2L, answer.getLong("seq"));
    assertTrue(trip.getBoolean("branched"), "the regenerated answer makes the trip a branched conversation");
    assertFalse(old.getBoolean("branched"), "a single chain is not branched");

    JsonObject project = one(ann, "SELECT to_jsonb(p)::text FROM projects p");
    assertEquals("Research", project.getString("name"));
    assertTrue(project.getString("instructions").startsWith("Be rigorous.")
        && project.getString("instructions").contains("notes.md ---\nRead Knuth."), project.encode());

    JsonObject again = client.importFile(ann.accessToken(), "claude-export.zip", Fixtures.claudeZip(), null)
        .getJsonObject("result");
    assertEquals(new JsonObject().put("projects", 1).put("conversations", 2), again.getJsonObject("skipped"));
    assertEquals(2, rows(ann, "SELECT id::text FROM conversations").size(), "nothing added");
    assertEquals(6, rows(ann, "SELECT id::text FROM messages").size(), "nothing added");
  }

  @Test
  @DisplayName("a ChatGPT conversations.json keeps every branch, current_node as current leaf, skips hidden and "
      + "system nodes, and keeps archived conversations")
  void chatGpt() {
    TestUser ann = Users.register(server.client());
    Buffer file = Fixtures.chatGptConversations().toBuffer();
    JsonObject job = client.importFile(ann.accessToken(), "conversations.json", file, null);
    assertEquals("succeeded", job.getString("status"), job.encode());
    assertEquals("chatgpt", job.getJsonObject("result").getString("source"));
    JsonObject conversation = one(ann, "SELECT to_jsonb(c)::text FROM conversations c");
    assertEquals("Lisbon", conversation.getString("title"));
    assertTrue(conversation.getBoolean("archived"));
    assertEquals("gpt-4o", conversation.getString("model"));
    JsonArray messages = rows(ann, "SELECT to_jsonb(m)::text FROM messages m ORDER BY seq");
    assertEquals(4, messages.size(), "root, system and hidden nodes are skipped: " + messages.encode());
    assertFalse(messages.encode().contains("Be brief") || messages.encode().contains("internal"));
    JsonObject followUp = one(ann, "SELECT to_jsonb(m)::text FROM messages m WHERE content = 'And day 2?'");
    assertEquals(conversation.getString("current_leaf_id"), followUp.getString("id"));
    JsonObject answer = one(ann, "SELECT to_jsonb(m)::text FROM messages m WHERE content = 'Day 1 ...'");
    assertEquals(answer.getString("id"), followUp.getString("parent_id"), "the hidden node's child hangs from n2");
    assertEquals("gpt-4o", answer.getString("model"));
    JsonObject abandoned = one(ann, "SELECT to_jsonb(m)::text FROM messages m WHERE content = 'Abandoned answer'");
    assertEquals(answer.getString("parent_id"), abandoned.getString("parent_id"), "the other branch is kept");
    JsonObject prompt = one(ann, "SELECT to_jsonb(m)::text FROM messages m WHERE parent_id IS NULL");
    assertEquals("Plan 3 days", prompt.getString("content"));
  }

  @Test
  @DisplayName("a malformed conversation is refused alone, with its reason, and the others are imported")
  void partlyMalformed() {
    TestUser ann = Users.register(server.client());
    JsonArray conversations = Fixtures.claudeConversations();
    conversations.add(new JsonObject().put("uuid", "broken").put("name", "Broken").put("chat_messages", "oops"));
    conversations.add(new JsonObject().put("uuid", "robot").put("name", "Robot").put("chat_messages",
        new JsonArray().add(new JsonObject().put("uuid", "r1").put("sender", "robot").put("text", "beep"))));
    JsonObject job = client.importFile(ann.accessToken(), "conversations.json", conversations.toBuffer(), null);
    assertEquals("succeeded", job.getString("status"), job.encode());
    JsonArray refused = job.getJsonObject("result").getJsonArray("refused");
    assertEquals(2, refused.size(), refused.encode());
    assertEquals("conversation broken", refused.getJsonObject(0).getString("item"));
    assertTrue(refused.getJsonObject(0).getString("reason").contains("chat_messages is not a list"));
    assertEquals(2, rows(ann, "SELECT id::text FROM conversations").size());
    assertEquals(0, rows(ann, "SELECT id::text FROM messages WHERE content = 'beep'").size());
  }

  @Test
  @DisplayName("hostile files (bad JSON, ZIP bomb, path traversal, a huge field) are refused with a report and "
      + "leave nothing behind")
  void hostileFiles() throws Exception {
    TestUser ann = Users.register(server.client());
    String hugeText = "x".repeat(150_000);
    JsonArray huge = Fixtures.claudeConversations();
    huge.getJsonObject(0).getJsonArray("chat_messages").getJsonObject(0).put("text", hugeText);
    Map<String, Buffer> files = Map.of(
        "bad JSON", Buffer.buffer("[{\"uuid\": \"c1\", \"name\": \"ok\", \"chat_messages\": []}, {\"uuid\": "),
        "ZIP bomb", Archives.zipBomb(40),
        "path traversal", Archives.zip(Map.of("../../etc/conversations.json",
            Fixtures.claudeConversations().encode())),
        "huge field", huge.toBuffer(),
        "not an export", Buffer.buffer("hello"));
    Map<String, String> reasons = Map.of("bad JSON", "not valid JSON", "ZIP bomb", "ZIP bomb",
        "path traversal", "path traversal", "huge field", "larger than the limit", "not an export", "not a recognised");
    for (var file : files.entrySet()) {
      JsonObject job = client.importFile(ann.accessToken(), "upload", file.getValue(), null);
      assertEquals("failed", job.getString("status"), file.getKey() + ": " + job.encode());
      assertTrue(job.getString("error").contains(reasons.get(file.getKey())), file.getKey() + ": "
          + job.getString("error"));
      JsonArray refused = job.getJsonObject("result").getJsonArray("refused");
      assertEquals("file", refused.getJsonObject(0).getString("item"), file.getKey());
    }
    assertEquals(0, rows(ann, "SELECT id::text FROM conversations").size(), "nothing was imported");
    assertEquals(0, rows(ann, "SELECT id::text FROM projects").size(), "nothing was imported");
    Path uploads = Path.of(server.env().get("STORAGE_PATH"), "imports", ann.id().toString());
    try (Stream<Path> left = Files.list(uploads)) {
      assertEquals(0, left.count(), "the uploads were deleted");
    }
  }

  @Test
  @DisplayName("an upload over the size limit is answered 413, and one without a file 400")
  void uploadLimits() {
    TestUser ann = Users.register(server.client());
    var tooBig = server.client().upload("/api/v1/export/import", ann.accessToken(), "big.json",
        Buffer.buffer(new byte[3 * 1024 * 1024]), null);
    assertEquals(413, tooBig.status(), tooBig.body());
    var json = server.client().post("/api/v1/export/import", ann.accessToken(), new JsonObject());
    assertEquals(400, json.status(), json.body());
    var anonymous = server.client().upload("/api/v1/export/import", null, "x.json", Buffer.buffer("[]"), null);
    assertEquals(401, anonymous.status());
  }

  @Test
  @DisplayName("a multipart body that ends inside its file part is answered 400 at once and leaves no file behind")
  void truncatedUpload() throws Exception {
    TestUser ann = Users.register(server.client());
    ApiClient api = server.client();
    Reply reply = api.send(api.request(HttpMethod.POST, "/api/v1/export/import", ann.accessToken())
        .putHeader("Content-Type", "multipart/form-data; boundary=cut").timeout(10_000), Buffer.buffer(
        "--cut\r\nContent-Disposition: form-data; name=\"file\"; filename=\"c.json\"\r\n"
            + "Content-Type: application/json\r\n\r\n[{\"uuid\": \"c1\", \"name\": \"cut short"));
    assertProblem(reply, 400);
    Path uploads = Path.of(server.env().get("STORAGE_PATH"), "uploads");
    Awaits.until(() -> {
      try (Stream<Path> left = Files.list(uploads)) {
        return left.findAny().isEmpty();
      } catch (java.io.IOException e) {
        throw new java.io.UncheckedIOException(e);
      }
    }, 5_000, "the partial upload is deleted");
  }

  @Test
  @DisplayName("an import interrupted with its node is picked up again and completes")
  void interruptedImportResumes() throws Exception {
    TestUser ann = Users.register(server.client());
    Path upload = Path.of(server.env().get("STORAGE_PATH"), "imports", ann.id().toString());
    Files.createDirectories(upload);
    Path file = Files.write(upload.resolve("orphan.upload"), Fixtures.chatGptConversations().toBuffer().getBytes());
    UUID id = Ids.newId();
    try (Connection c = TestDatabase.connect(server.master());
         PreparedStatement s = c.prepareStatement("""
             INSERT INTO jobs (id, user_id, kind, status, progress, params, attempts, locked_by, heartbeat_at,
                               started_at)
             VALUES (?, ?, 'import', 'running', 0.5, ?::jsonb, 1, 'node-that-died', now() - interval '1 hour',
                     now())""")) {
      s.setObject(1, id);
      s.setObject(2, ann.id());
      s.setString(3, new JsonObject().put("upload", file.toString()).put("fileName", "conversations.json").encode());
      s.executeUpdate();
    }
    JsonObject job = client.awaitJob(ann.accessToken(), id.toString(), 60);
    assertEquals("succeeded", job.getString("status"), job.encode());
    assertEquals(2, job.getInteger("attempts"), "claimed again after the interruption");
    assertEquals(1, rows(ann, "SELECT id::text FROM conversations").size());
    assertFalse(Files.exists(file), "the upload is deleted once imported");
  }

}
