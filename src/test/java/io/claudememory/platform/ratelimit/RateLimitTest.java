package io.claudememory.platform.ratelimit;

import static io.claudememory.support.Problems.assertProblem;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.claudememory.support.ApiClient;
import io.claudememory.support.ApiClient.Reply;
import io.claudememory.support.TestServer;
import io.claudememory.support.Users;
import io.claudememory.support.Users.TestUser;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonObject;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Rate limits through the API. The node trusts one proxy hop, so each test speaks from its own client address
 * (X-Forwarded-For) and has buckets of its own. Windows are an hour long: nothing refills during a test, and every
 * count below is exact.
 */
@DisplayName("Rate limits: per address, per user or key, stricter on sign-in and message sending")
class RateLimitTest {
  @RegisterExtension
  static final TestServer server = TestServer.start(limits());
  static final ApiClient api = server.client();

  static Map<String, String> limits() {
    Map<String, String> env = new HashMap<>();
    env.put("CMB_RATE_LIMIT_TRUSTED_PROXIES", "1");
    env.put("CMB_RATE_LIMIT_ADDRESS_LIMIT", "20");
    env.put("CMB_RATE_LIMIT_AUTH_LIMIT", "3");
    env.put("CMB_RATE_LIMIT_PRINCIPAL_LIMIT", "5");
    env.put("CMB_RATE_LIMIT_MESSAGES_LIMIT", "2");
    for (String bucket : new String[] {"ADDRESS", "PRINCIPAL", "AUTH", "MESSAGES"}) {
      env.put("CMB_RATE_LIMIT_" + bucket + "_WINDOW_SECONDS", "3600");
    }
    return env;
  }

  static Reply from(String address, HttpMethod method, String path, String token, JsonObject body) {
    return api.send(api.request(method, path, token).putHeader("X-Forwarded-For", address),
        body == null ? null : body.toBuffer());
  }

  static Reply wrongLogin(String address) {
    return from(address, HttpMethod.POST, "/api/v1/auth/login", null,
        new JsonObject().put("email", "nobody@example.com").put("password", "wrong password"));
  }

  @Test
  @DisplayName("sign-in attempts past the auth limit are 429 problems with Retry-After and RateLimit headers")
  void authLimit() {
    for (int i = 0; i < 3; i++) {
      Reply reply = wrongLogin("203.0.113.1");
      assertEquals(401, reply.status(), reply.body());
      assertEquals("\"auth\";q=3;w=3600", reply.header("RateLimit-Policy"));
      assertEquals("\"auth\";r=" + (2 - i), reply.header("RateLimit").split(";t=")[0]);
    }
    double before = refusals("auth");
    Reply refused = wrongLogin("203.0.113.1");
    assertProblem(refused, 429);
    long retryAfter = Long.parseLong(refused.header("Retry-After"));
    assertTrue(retryAfter > 0 && retryAfter <= 1200, "one token is back within window/limit: " + retryAfter);
    assertEquals("\"auth\";r=0;t=" + retryAfter, refused.header("RateLimit"));
    assertEquals(before + 1, refusals("auth"), "the refusal is counted under its bucket");
    assertEquals(401, wrongLogin("203.0.113.99").status(), "another client address has its own bucket");
  }

  @Test
  @DisplayName("a client-written X-Forwarded-For entry does not give a fresh bucket: only the proxy's entry counts")
  void spoofedForwardedFor() {
    for (int i = 0; i < 3; i++) {
      assertEquals(401, wrongLogin("10.9.9." + i + ", 203.0.113.2").status());
    }
    assertProblem(wrongLogin("10.9.9.200, 203.0.113.2"), 429);
  }

  @Test
  @DisplayName("the address limit covers every route, 404s included; health probes are never limited")
  void addressLimit() {
    for (int i = 0; i < 20; i++) {
      assertEquals(404, from("203.0.113.3", HttpMethod.GET, "/api/v1/no-such-route", null, null).status());
    }
    Reply refused = from("203.0.113.3", HttpMethod.GET, "/api/v1/no-such-route", null, null);
    assertProblem(refused, 429);
    assertEquals("\"address\";q=20;w=3600", refused.header("RateLimit-Policy"));
    assertEquals(200, from("203.0.113.3", HttpMethod.GET, "/api/v1/health", null, null).status());
    assertEquals(200, from("203.0.113.3", HttpMethod.GET, "/api/v1/health/metrics", null, null).status());
  }

  @Test
  @DisplayName("a user's limit follows the user across addresses, and each API key has a bucket of its own")
  void principalLimit() {
    TestUser ann = register("203.0.113.4");
    Reply key = from("203.0.113.5", HttpMethod.POST, "/api/v1/api-keys", ann.accessToken(),
        new JsonObject().put("name", "ci"));
    assertEquals(201, key.status(), key.body());
    for (int i = 0; i < 4; i++) {
      Reply ok = from("198.51.100." + i, HttpMethod.GET, "/api/v1/auth/profile", ann.accessToken(), null);
      assertEquals(200, ok.status(), ok.body());
    }
    Reply refused = from("198.51.100.50", HttpMethod.GET, "/api/v1/auth/profile", ann.accessToken(), null);
    assertProblem(refused, 429);
    assertEquals("\"principal\";q=5;w=3600", refused.header("RateLimit-Policy"));
    String apiKey = key.data().getString("key");
    assertNotNull(apiKey, key.body());
    assertEquals(200, from("198.51.100.51", HttpMethod.GET, "/api/v1/auth/profile", apiKey, null).status());
  }

  @Test
  @DisplayName("sending messages has its own, stricter bucket")
  void messageLimit() {
    TestUser bob = register("203.0.113.6");
    Reply conversation = from("203.0.113.7", HttpMethod.POST, "/api/v1/conversations", bob.accessToken(),
        new JsonObject().put("title", "limits"));
    Assumptions.assumeTrue(conversation.status() == 201,
        "SKIPPED: the conversations routes are not in this build yet (" + conversation.status() + ")");
    String path = "/api/v1/conversations/" + conversation.data().getString("id") + "/messages";
    JsonObject message = new JsonObject().put("content", "hello").put("generate", false);
    for (int i = 0; i < 2; i++) {
      assertEquals(201, from("203.0.113.7", HttpMethod.POST, path, bob.accessToken(), message).status());
    }
    Reply refused = from("203.0.113.7", HttpMethod.POST, path, bob.accessToken(), message);
    assertProblem(refused, 429);
    assertEquals("\"messages\";q=2;w=3600", refused.header("RateLimit-Policy"));
  }

  static TestUser register(String address) {
    String email = "rl-" + java.util.UUID.randomUUID().toString().substring(0, 8) + "@example.com";
    Reply reply = from(address, HttpMethod.POST, "/api/v1/auth/register", null,
        new JsonObject().put("email", email).put("password", Users.PASSWORD));
    assertEquals(201, reply.status(), reply.body());
    JsonObject data = reply.data();
    return new TestUser(java.util.UUID.fromString(data.getJsonObject("user").getString("id")), email,
        data.getString("accessToken"), data.getString("refreshToken"));
  }

  static double refusals(String bucket) {
    return server.metrics().get("cmb_rate_limited_requests_total").tag("bucket", bucket).counter().count();
  }
}
