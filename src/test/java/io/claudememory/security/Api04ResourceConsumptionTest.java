package io.claudememory.security;

import static io.claudememory.support.Problems.assertFieldError;
import static io.claudememory.support.Problems.assertProblem;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.claudememory.support.ApiClient;
import io.claudememory.support.ApiClient.Reply;
import io.claudememory.support.ApiContract;
import io.claudememory.support.Archives;
import io.claudememory.support.FakeClaude;
import io.claudememory.support.Jobs;
import io.claudememory.support.TestDatabase;
import io.claudememory.support.TestServer;
import io.claudememory.support.Users;
import io.claudememory.support.Users.TestUser;
import io.claudememory.support.WsClient;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * OWASP API4:2023 on a node with small limits, so each is reached in a few requests: request bodies, page sizes,
 * uploads and ZIP expansion, WebSocket frames, rooms and frame rate, exports and imports waiting at once, and
 * concurrent Claude generations. Each excess is answered (413, 400, 429, an error frame, a refused job), never
 * absorbed.
 */
@ExtendWith(SecuritySuite.class)
@DisplayName("API4:2023 Unrestricted Resource Consumption: every costly input is bounded and answered")
class Api04ResourceConsumptionTest {
  static final int BODY_LIMIT = 16 * 1024;
  static final int FRAME_LIMIT = 4096;
  static Vertx claudeVertx;
  static FakeClaude claude;
  static TestServer server;
  static ApiClient api;

  @BeforeAll
  static void start() {
    claudeVertx = Vertx.vertx();
    claude = FakeClaude.start(claudeVertx);
    server = SecuritySuite.start(Map.ofEntries(
        Map.entry("CMB_HTTP_BODY_LIMIT_BYTES", Integer.toString(BODY_LIMIT)),
        Map.entry("CMB_IMPORT_MAX_UPLOAD_MB", "1"), Map.entry("CMB_IMPORT_MAX_UNCOMPRESSED_MB", "4"),
        Map.entry("CMB_JOBS_MAX_ACTIVE_PER_USER", "2"),
        Map.entry("CMB_REALTIME_MAX_FRAME_BYTES", Integer.toString(FRAME_LIMIT)),
        Map.entry("CMB_REALTIME_MAX_ROOMS_PER_SOCKET", "2"), Map.entry("CMB_REALTIME_FRAMES_PER_SECOND", "20"),
        Map.entry("ANTHROPIC_API_KEY", "sk-ant-limits-" + UUID.randomUUID()),
        Map.entry("ANTHROPIC_BASE_URL", claude.baseUrl()), Map.entry("CMB_CLAUDE_MAX_PER_USER", "1"),
        Map.entry("CMB_CLAUDE_TITLES", "false")));
    api = SecuritySuite.observe(server.client());
  }

  @AfterAll
  static void stop() throws Exception {
    if (server != null) {
      server.close();
    }
    claude.close();
    claudeVertx.close().await(10, TimeUnit.SECONDS);
  }

  @Test
  @DisplayName("a JSON body over the limit is answered 413 on any route, signed in or not, and the connection "
      + "serves the next request")
  void bodiesAreBounded() {
    TestUser ann = Users.register(api);
    String big = "x".repeat(BODY_LIMIT + 1);
    assertProblem(api.post("/api/v1/auth/login", null, new JsonObject().put("email", big).put("password", "p")), 413);
    assertProblem(api.post("/api/v1/projects", ann.accessToken(), new JsonObject().put("name", big)), 413);
    assertProblem(api.post("/api/v1/conversations", ann.accessToken(), new JsonObject().put("title", "t")
        .put("tags", new JsonArray(List.of(big)))), 413);
    assertEquals(200, api.get("/api/v1/auth/profile", ann.accessToken()).status(), "the node is still serving");
  }

  @Test
  @DisplayName("every list refuses a page larger than 200, or of no size, or a cursor it did not give out")
  void pagesAreBounded() {
    TestUser ann = Users.register(api);
    Map<String, String> own = Map.of(
        "webhooks", api.post("/api/v1/webhooks", ann.accessToken(), new JsonObject().put("url", "http://127.0.0.1:9/h")
            .put("events", new JsonArray().add("import.completed"))).data().getString("id"),
        "conversations", api.post("/api/v1/conversations", ann.accessToken(), new JsonObject()).data().getString("id"));
    List<String> lists = new ArrayList<>();
    JsonObject paths = ApiContract.load().document().getJsonObject("paths");
    for (String path : paths.fieldNames()) {
      JsonObject get = paths.getJsonObject(path).getJsonObject("get");
      if (get != null && get.encode().contains("#/components/parameters/Limit") && !path.startsWith("/admin")) {
        String query = get.encode().contains("\"name\":\"q\"") ? "q=word&" : "";
        lists.add("/api/v1" + path.replace("{id}", own.getOrDefault(path.split("/")[1], "")) + "?" + query);
      }
    }
    assertTrue(lists.size() >= 5, "lists found in the contract: " + lists);
    for (String list : lists) {
      for (String limit : List.of("100000", "201", "0", "-1", "abc", "1e9")) {
        assertFieldError(api.get(list + "limit=" + limit, ann.accessToken()), "limit");
      }
      assertEquals(200, api.get(list + "limit=200", ann.accessToken()).status(), list);
      assertFieldError(api.get(list + "cursor=" + "A".repeat(600), ann.accessToken()), "cursor");
    }
  }

  @Test
  @DisplayName("a message longer than 100000 characters is answered 413, and a client cannot raise max_tokens")
  void costlyMessagesAreBounded() {
    TestUser ann = Users.register(api);
    String conversation = api.post("/api/v1/conversations", ann.accessToken(), new JsonObject()).data()
        .getString("id");
    Reply tooLong = api.post("/api/v1/conversations/" + conversation + "/messages", ann.accessToken(),
        new JsonObject().put("content", "y".repeat(100_001)).put("generate", false));
    assertProblem(tooLong, 413);
    for (String knob : List.of("max_tokens", "maxTokens", "model")) {
      assertFieldError(api.post("/api/v1/conversations/" + conversation + "/messages", ann.accessToken(),
          new JsonObject().put("content", "hi").put(knob, 1_000_000)), knob);
    }
  }

  @Test
  @DisplayName("a user's concurrent Claude generations are capped: past the cap, 429 until one ends")
  void generationsAreCapped() {
    TestUser ann = Users.register(api);
    String first = api.post("/api/v1/conversations", ann.accessToken(), new JsonObject()).data().getString("id");
    String second = api.post("/api/v1/conversations", ann.accessToken(), new JsonObject()).data().getString("id");
    claude.enqueue(FakeClaude.hang());
    Reply running = api.post("/api/v1/conversations/" + first + "/messages", ann.accessToken(),
        new JsonObject().put("content", "a long question"));
    assertEquals(201, running.status(), running.body());
    Reply refused = api.post("/api/v1/conversations/" + second + "/messages", ann.accessToken(),
        new JsonObject().put("content", "another"));
    assertProblem(refused, 429);
    assertNotNull(refused.header("Retry-After"));
    assertEquals(202, api.post("/api/v1/conversations/" + first + "/cancel", ann.accessToken(), null).status());
  }

  @Test
  @DisplayName("uploads over the size limit are 413 and leave nothing on disk; a ZIP bomb is refused by its "
      + "expansion, not inflated")
  void uploadsAreBounded() throws Exception {
    TestUser ann = Users.register(api);
    Reply tooBig = api.upload("/api/v1/export/import", ann.accessToken(), "big.json",
        Buffer.buffer(new byte[1024 * 1024 + 1]), null);
    assertProblem(tooBig, 413);
    Buffer bomb = Archives.zipBomb(16);
    assertTrue(bomb.length() < 64 * 1024, "the bomb is small: " + bomb.length());
    Reply started = api.upload("/api/v1/export/import", ann.accessToken(), "bomb.zip", bomb, null);
    assertEquals(202, started.status(), started.body());
    JsonObject job = Jobs.awaitFinishedAt(api, ann.accessToken(), "/api/v1/export/jobs/"
        + started.data().getString("id"), 30);
    assertEquals("failed", job.getString("status"));
    assertTrue(job.getString("error").contains("ZIP bomb"), job.getString("error"));
    for (String kept : List.of("uploads", "imports")) {
      Path uploads = Path.of(server.env().get("STORAGE_PATH"), kept);
      try (Stream<Path> files = Files.exists(uploads) ? Files.walk(uploads) : Stream.empty()) {
        assertEquals(List.of(), files.filter(Files::isRegularFile).toList(), "no upload is kept in " + kept);
      }
    }
  }

  @Test
  @DisplayName("a user with the maximum of exports and imports waiting gets 429 for another until one finishes")
  void jobsAreCapped() throws Exception {
    TestUser ann = Users.register(api);
    List<UUID> busy = List.of(UUID.randomUUID(), UUID.randomUUID());
    // two exports another node is running (fresh heartbeat, so nothing re-queues them during the test)
    try (Connection c = TestDatabase.connect(server.master()); PreparedStatement s = c.prepareStatement("""
        INSERT INTO jobs (id, user_id, kind, status, locked_by, heartbeat_at, attempts)
        VALUES (?, ?, 'export', 'running', 'a-busy-node', now(), 1)""")) {
      for (UUID id : busy) {
        s.setObject(1, id);
        s.setObject(2, ann.id());
        s.executeUpdate();
      }
    }
    Reply export = api.post("/api/v1/export/create", ann.accessToken(), new JsonObject());
    assertProblem(export, 429);
    assertTrue(Integer.parseInt(export.header("Retry-After")) > 0);
    Reply upload = api.upload("/api/v1/export/import", ann.accessToken(), "c.json", Buffer.buffer("[]"), null);
    assertProblem(upload, 429);
    try (Connection c = TestDatabase.connect(server.master()); PreparedStatement s = c.prepareStatement(
        "UPDATE jobs SET status = 'succeeded', finished_at = now(), locked_by = NULL WHERE id = ?")) {
      s.setObject(1, busy.get(0));
      s.executeUpdate();
    }
    Reply accepted = api.post("/api/v1/export/create", ann.accessToken(), new JsonObject());
    assertEquals(202, accepted.status(), "one finished, so one more may start: " + accepted.body());
    Jobs.awaitFinishedAt(api, ann.accessToken(), "/api/v1/export/jobs/" + accepted.data().getString("id"), 30);
  }

  @Test
  @DisplayName("a socket is bounded: frames over the size limit, rooms over the cap and floods of frames are refused, "
      + "and the socket stays usable")
  void socketsAreBounded() {
    TestUser ann = Users.register(api);
    List<String> rooms = new ArrayList<>();
    for (int i = 0; i < 3; i++) {
      rooms.add(api.post("/api/v1/conversations", ann.accessToken(), new JsonObject()).data().getString("id"));
    }
    try (WsClient ws = WsClient.connect(server.app().vertx(), server.port(), ann.accessToken())) {
      ws.expect("ready");
      ws.sendRaw(new JsonObject().put("type", "ping").put("data", new JsonObject().put("pad", "z".repeat(FRAME_LIMIT)))
          .encode());
      assertEquals("frame_too_large", ws.expect("error").getJsonObject("data").getString("code"));
      List<String> joins = new ArrayList<>();
      for (String room : rooms) {
        joins.add(ws.answer(ws.send("join_room", new JsonObject().put("room_id", room))).getString("type"));
      }
      assertEquals(List.of("ack", "ack", "error"), joins, "the third room is over the cap");
      boolean limited = false;
      for (int i = 0; i < 60 && !limited; i++) {
        JsonObject answer = ws.answer(ws.send("ping", null));
        limited = "error".equals(answer.getString("type"))
            && "rate_limited".equals(answer.getJsonObject("data").getString("code"));
      }
      assertTrue(limited, "a flood of frames is rate limited");
      assertTrue(!ws.isClosed(), "and the socket stays open");
    }
    try (WsClient ws = WsClient.connect(server.app().vertx(), server.port(), ann.accessToken())) {
      ws.expect("ready");
      ws.sendRaw("q".repeat(4 * FRAME_LIMIT + 1));
      short code = ws.closeCode();
      assertTrue(code == 1009 || code == 1006, "past the transport's hard cap the connection is dropped: " + code);
    }
  }
}
