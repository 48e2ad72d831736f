package io.claudememory.platform.http;

import static io.claudememory.support.Problems.assertFieldError;
import static io.claudememory.support.Problems.assertProblem;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.PatternLayout;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.AppenderBase;
import ch.qos.logback.core.read.ListAppender;
import io.claudememory.support.ApiClient;
import io.claudememory.support.ApiClient.Reply;
import io.claudememory.support.TestDatabase;
import io.claudememory.support.TestServer;
import io.claudememory.support.Users;
import io.claudememory.support.Users.TestUser;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonObject;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.util.List;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.slf4j.LoggerFactory;

@DisplayName("HTTP conventions: problems for every error, request ids everywhere, masked access logs")
class HttpConventionsTest {
  @RegisterExtension
  static final TestServer server = TestServer.start(java.util.Map.of("CMB_HTTP_BODY_LIMIT_BYTES", "65536"));
  static final ApiClient api = server.client();

  @Test
  @DisplayName("malformed JSON, a non-object body and an empty body are 400 problems")
  void malformedBodies() {
    assertEquals("The body is not valid JSON.", assertProblem(
        api.send(HttpMethod.POST, "/api/v1/auth/login", null, Buffer.buffer("{\"email\": ")), 400)
        .getString("detail"));
    assertProblem(api.send(HttpMethod.POST, "/api/v1/auth/login", null, Buffer.buffer("[1,2]")), 400);
    assertProblem(api.post("/api/v1/auth/login", null, null), 400);
  }

  @Test
  @DisplayName("validation failures list every bad field, with wrong types named")
  void validation() {
    Reply reply = api.post("/api/v1/auth/register", null, new JsonObject().put("email", 42).put("password", true));
    assertFieldError(reply, "email");
    assertFieldError(reply, "password");
  }

  @Test
  @DisplayName("401 without credentials, 403 for a non-admin on an admin route, 200 for an admin")
  void authorization() throws Exception {
    assertProblem(api.get("/api/v1/admin/stats", null), 401);
    TestUser ann = Users.register(api);
    assertProblem(api.get("/api/v1/admin/stats", ann.accessToken()), 403);
    try (Connection c = TestDatabase.connect(server.master());
         PreparedStatement s = c.prepareStatement("UPDATE users SET role = 'admin' WHERE id = ?")) {
      s.setObject(1, ann.id());
      s.executeUpdate();
    }
    Reply stats = pollUntilOk(() -> api.get("/api/v1/admin/stats", ann.accessToken()));
    assertTrue(stats.data().getLong("users") >= 1, stats.body());
  }

  @Test
  @DisplayName("unknown routes are 404 and wrong methods 405, as problems")
  void notFoundAndMethod() {
    assertProblem(api.get("/api/v1/no-such-thing", null), 404);
    assertProblem(api.get("/elsewhere", null), 404);
    assertProblem(api.send(HttpMethod.DELETE, "/api/v1/auth/login", null, null), 405);
    assertProblem(api.get("/api/v1/auth/register", null), 405);
  }

  @Test
  @DisplayName("a body over the configured limit is a 413 problem")
  void tooLarge() {
    String big = "x".repeat(70_000);
    Reply tooLarge = api.post("/api/v1/auth/login", null, new JsonObject().put("email", big).put("password", "p"));
    assertProblem(tooLarge, 413);
    assertEquals(200, api.get("/api/v1/health", null).status(),
        "the unread rest of the body does not poison the connection: the next request is answered");
  }

  @Test
  @DisplayName("an undecodable URI, a request line over 4096 bytes and headers over 8 KiB are problems too")
  void malformedRequests() {
    TestUser ann = Users.register(api);
    assertProblem(api.get("/api/v1/projects?archived=%zz", ann.accessToken()), 400);
    assertProblem(api.get("/api/v1/projects/%zz", ann.accessToken()), 400);
    assertProblem(api.get("/api/v1/projects/" + "y".repeat(5000), ann.accessToken()), 414);
    assertProblem(api.send(api.request(HttpMethod.GET, "/api/v1/health", null).putHeader("X-Big", "h".repeat(9000)),
        null), 431);
    assertEquals(200, api.get("/api/v1/health", null).status(), "the node serves the next request");
  }

  @Test
  @DisplayName("a conflict is a 409 problem")
  void conflict() {
    TestUser ann = Users.register(api);
    assertProblem(api.post("/api/v1/auth/register", null,
        new JsonObject().put("email", ann.email()).put("password", Users.PASSWORD)), 409);
  }

  @Test
  @DisplayName("a well-formed X-Request-Id is kept, a malformed one replaced, and every answer carries one")
  void requestIds() {
    Reply kept = api.send(api.request(HttpMethod.GET, "/api/v1/health", null)
        .putHeader("X-Request-Id", "client-chosen-id.42"), null);
    assertEquals("client-chosen-id.42", kept.header("X-Request-Id"));
    Reply replaced = api.send(api.request(HttpMethod.GET, "/api/v1/nothing-here", null)
        .putHeader("X-Request-Id", "bad id with spaces"), null);
    assertNotEquals("bad id with spaces", replaced.header("X-Request-Id"));
    assertEquals(replaced.header("X-Request-Id"), assertProblem(replaced, 404).getString("requestId"));
  }

  @Test
  @DisplayName("the access log masks credentials in query strings and names the request id and user")
  void accessLogMasksSecrets() throws InterruptedException {
    Logger access = (Logger) LoggerFactory.getLogger("access");
    ListAppender<ILoggingEvent> captured = new ListAppender<>();
    captured.list = new java.util.concurrent.CopyOnWriteArrayList<>();
    captured.start();
    access.addAppender(captured);
    try {
      TestUser ann = Users.register(api);
      api.send(api.request(HttpMethod.GET, "/api/v1/auth/profile?token=s3cr3t-value&page=2", ann.accessToken())
          .putHeader("X-Request-Id", "log-check-1"), null);
      // The line is written when the response ends on the server, which may be just after the client has it.
      long deadline = System.nanoTime() + 10_000_000_000L;
      java.util.Optional<ILoggingEvent> found = java.util.Optional.empty();
      while (found.isEmpty() && System.nanoTime() < deadline) {
        found = captured.list.stream().filter(e -> e.getFormattedMessage().contains("/auth/profile")).findFirst();
        if (found.isEmpty()) {
          Thread.sleep(20);
        }
      }
      ILoggingEvent line = found.orElseThrow(() -> new AssertionError("no access log line for the request"));
      String text = line.getFormattedMessage();
      assertFalse(text.contains("s3cr3t-value"), "the token value is masked: " + text);
      assertTrue(text.contains("token=***") && text.contains("page=2"), text);
      assertTrue(text.contains("user=" + ann.id()), text);
      assertTrue(text.contains(" 200 "), text);
      assertFalse(captured.list.stream().anyMatch(e -> e.getFormattedMessage().contains(ann.accessToken())),
          "no access token in any access line");
    } finally {
      access.detachAppender(captured);
    }
  }

  @Test
  @DisplayName("each access line names its own request's id, also when the answer is completed on another context")
  void accessLogRequestIds() throws InterruptedException {
    Logger access = (Logger) LoggerFactory.getLogger("access");
    // laid out while the line is written, on the server's thread, as the real appenders do
    PatternLayout layout = new PatternLayout();
    layout.setContext(access.getLoggerContext());
    layout.setPattern("%rid %msg");
    layout.start();
    List<String> lines = new java.util.concurrent.CopyOnWriteArrayList<>();
    AppenderBase<ILoggingEvent> appender = new AppenderBase<>() {
      @Override
      protected void append(ILoggingEvent event) {
        lines.add(layout.doLayout(event));
      }
    };
    appender.setContext(access.getLoggerContext());
    appender.start();
    access.addAppender(appender);
    try {
      TestUser ann = Users.register(api);
      for (int i = 1; i <= 20; i++) {
        // answered from callbacks of the master and tenant pools, whose futures other requests created
        api.send(api.request(HttpMethod.POST, "/api/v1/api-keys?n=" + i, ann.accessToken())
            .putHeader("X-Request-Id", "rid-check-" + i), new JsonObject().put("name", "k" + i).toBuffer());
        api.send(api.request(HttpMethod.GET, "/api/v1/projects?n=" + i, ann.accessToken())
            .putHeader("X-Request-Id", "rid-check-" + i), null);
      }
      long deadline = System.nanoTime() + 10_000_000_000L;
      while (lines.stream().filter(l -> l.contains("?n=")).count() < 40 && System.nanoTime() < deadline) {
        Thread.sleep(20);
      }
      for (String line : lines.stream().filter(l -> l.contains("?n=")).toList()) {
        String n = line.replaceAll("(?s).*\\?n=(\\d+).*", "$1");
        assertTrue(line.startsWith("rid-check-" + n + " "), "the line names its own request id: " + line);
      }
    } finally {
      access.detachAppender(appender);
    }
  }

  private static Reply pollUntilOk(java.util.function.Supplier<Reply> call) throws InterruptedException {
    // The role is cached per node for a few seconds (auth.stateCacheSeconds); wait that out, bounded.
    long deadline = System.nanoTime() + 15_000_000_000L;
    Reply reply = call.get();
    while (reply.status() != 200 && System.nanoTime() < deadline) {
      Thread.sleep(200);
      reply = call.get();
    }
    assertEquals(200, reply.status(), reply.body());
    return reply;
  }
}
