package io.claudememory.platform.http;

import static io.claudememory.support.Problems.assertFieldError;
import static io.claudememory.support.Problems.assertProblem;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.claudememory.support.ApiClient;
import io.claudememory.support.ApiClient.Reply;
import io.claudememory.support.TestServer;
import io.claudememory.support.Users;
import io.claudememory.support.Users.TestUser;
import io.vertx.core.Future;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

@DisplayName("Idempotency-Key: a retried POST is answered from the first answer and creates nothing twice")
class IdempotencyTest {
  @RegisterExtension
  static final TestServer server = TestServer.start();
  static final ApiClient api = server.client();

  static Reply post(TestUser user, String path, String key, JsonObject body) {
    var request = api.request(HttpMethod.POST, path, user.accessToken());
    if (key != null) {
      request.putHeader("Idempotency-Key", key);
    }
    return api.send(request, body.toBuffer());
  }

  static int projectCount(TestUser user) {
    return api.get("/api/v1/projects", user.accessToken()).list().size();
  }

  @Test
  @DisplayName("the same key and body replay the stored answer with Idempotent-Replayed, and no second row")
  void replay() {
    TestUser ann = Users.register(api);
    String key = UUID.randomUUID().toString();
    JsonObject body = new JsonObject().put("name", "once");
    Reply first = post(ann, "/api/v1/projects", key, body);
    assertEquals(201, first.status(), first.body());
    assertNull(first.header("Idempotent-Replayed"), "the first answer is not a replay");
    Reply again = post(ann, "/api/v1/projects", key, body);
    assertEquals(201, again.status(), again.body());
    assertEquals("true", again.header("Idempotent-Replayed"), "the retry says it is a replay");
    assertEquals(first.json(), again.json(), "the retry gets the very same body");
    assertEquals(1, projectCount(ann), "only one project was created");

    Reply other = post(ann, "/api/v1/projects", UUID.randomUUID().toString(), body);
    assertNotEquals(first.data().getString("id"), other.data().getString("id"), "a new key creates anew");
    Reply noKey = post(ann, "/api/v1/projects", null, body);
    assertEquals(201, noKey.status());
    assertEquals(3, projectCount(ann));
  }

  @Test
  @DisplayName("the same key with another body or path is 422")
  void reuseWithOtherRequest() {
    TestUser ann = Users.register(api);
    String key = "key-" + UUID.randomUUID();
    assertEquals(201, post(ann, "/api/v1/projects", key, new JsonObject().put("name", "a")).status());
    assertProblem(post(ann, "/api/v1/projects", key, new JsonObject().put("name", "b")), 422);
    assertProblem(post(ann, "/api/v1/conversations", key, new JsonObject().put("title", "a")), 422);
    assertEquals(1, projectCount(ann));
  }

  @Test
  @DisplayName("keys belong to one user: another user's same key is independent")
  void perUser() {
    TestUser ann = Users.register(api);
    TestUser bob = Users.register(api);
    String key = "shared-" + UUID.randomUUID();
    Reply anns = post(ann, "/api/v1/projects", key, new JsonObject().put("name", "a"));
    Reply bobs = post(bob, "/api/v1/projects", key, new JsonObject().put("name", "a"));
    assertEquals(201, bobs.status(), bobs.body());
    assertNull(bobs.header("Idempotent-Replayed"), "bob's request is not answered from ann's");
    assertNotEquals(anns.data().getString("id"), bobs.data().getString("id"));
  }

  @Test
  @DisplayName("a failed first request frees its key, so the corrected request can use it")
  void failureFreesKey() {
    TestUser ann = Users.register(api);
    String key = "retry-" + UUID.randomUUID();
    assertFieldError(post(ann, "/api/v1/projects", key, new JsonObject()), "name");
    Reply fixed = post(ann, "/api/v1/projects", key, new JsonObject().put("name", "fixed"));
    assertEquals(201, fixed.status(), fixed.body());
    assertNull(fixed.header("Idempotent-Replayed"));
    assertFieldError(post(ann, "/api/v1/projects", "bad key with spaces", new JsonObject().put("name", "x")),
        "Idempotency-Key");
  }

  @Test
  @DisplayName("message posts replay too: the conversation keeps one message")
  void messages() {
    TestUser ann = Users.register(api);
    String conversation = api.post("/api/v1/conversations", ann.accessToken(), new JsonObject()).data()
        .getString("id");
    String path = "/api/v1/conversations/" + conversation + "/messages";
    String key = UUID.randomUUID().toString();
    Reply first = post(ann, path, key, new JsonObject().put("content", "hi"));
    Reply again = post(ann, path, key, new JsonObject().put("content", "hi"));
    assertEquals(first.json(), again.json());
    assertEquals("true", again.header("Idempotent-Replayed"));
    assertEquals(1, api.get("/api/v1/conversations/" + conversation, ann.accessToken()).data()
        .getInteger("messageCount"), "one message stored");
  }

  @Test
  @DisplayName("concurrent requests with one key create one row; the others replay it or are told it is in flight")
  void concurrent() throws Exception {
    TestUser ann = Users.register(api);
    String key = UUID.randomUUID().toString();
    List<Future<HttpResponse<Buffer>>> sent = new ArrayList<>();
    for (int i = 0; i < 8; i++) {
      sent.add(api.web().post("/api/v1/projects").bearerTokenAuthentication(ann.accessToken())
          .putHeader("Idempotency-Key", key).sendJsonObject(new JsonObject().put("name", "race")));
    }
    Future.join(sent).await(60, TimeUnit.SECONDS);
    int created = 0;
    for (Future<HttpResponse<Buffer>> reply : sent) {
      int status = reply.result().statusCode();
      assertTrue(status == 201 || status == 409, () -> "201 or 409 expected, got " + status);
      if (status == 201 && reply.result().getHeader("Idempotent-Replayed") == null) {
        created++;
      }
    }
    assertEquals(1, created, "exactly one request did the work");
    assertEquals(1, projectCount(ann), "exactly one project exists");
  }
}
