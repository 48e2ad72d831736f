package io.claudememory.platform.ratelimit;

import static io.claudememory.support.Problems.assertProblem;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.claudememory.support.ApiClient;
import io.claudememory.support.ApiClient.Reply;
import io.claudememory.support.TestDatabase;
import io.claudememory.support.TestRedis;
import io.claudememory.support.TestServer;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonObject;
import java.util.Map;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

@DisplayName("Rate limits across nodes: one bucket in Redis for the whole cluster, open when Redis fails")
class ClusterRateLimitTest {

  static Reply wrongLogin(ApiClient api) {
    return api.send(api.request(HttpMethod.POST, "/api/v1/auth/login", null),
        new JsonObject().put("email", "nobody@example.com").put("password", "wrong password").toBuffer());
  }

  @Test
  @DisplayName("two nodes share one auth bucket through Redis: the limit holds whichever node is asked")
  void sharedBuckets() {
    String redis = TestRedis.url();
    Assumptions.assumeTrue(redis != null, "SKIPPED: no Redis");
    Map<String, String> env = new java.util.HashMap<>(RateLimitTest.limits());
    env.put("CMB_RATE_LIMIT_TRUSTED_PROXIES", "0");
    env.put("REDIS_URL", redis);
    TestDatabase.Scope scope = TestDatabase.create();
    try (TestServer a = TestServer.start(scope, env)) {
      TestServer b = TestServer.start(scope, env);
      try {
        assertEquals(401, wrongLogin(a.client()).status());
        assertEquals(401, wrongLogin(b.client()).status());
        Reply third = wrongLogin(a.client());
        assertEquals(401, third.status());
        assertEquals("\"auth\";r=0", third.header("RateLimit").split(";t=")[0], "the bucket is shared");
        assertProblem(wrongLogin(b.client()), 429);
        assertProblem(wrongLogin(a.client()), 429);
      } finally {
        b.stopNode();
      }
    }
  }

  @Test
  @DisplayName("when Redis cannot be reached, requests go through (fail open) and the failures are counted")
  void failOpen() {
    Map<String, String> env = new java.util.HashMap<>(RateLimitTest.limits());
    env.put("CMB_RATE_LIMIT_TRUSTED_PROXIES", "0");
    env.put("REDIS_URL", "redis://127.0.0.1:" + io.claudememory.support.TestPorts.free());
    env.put("CMB_RATE_LIMIT_REDIS_TIMEOUT_MS", "200");
    try (TestServer node = TestServer.start(env)) {
      for (int i = 0; i < 5; i++) {
        Reply reply = wrongLogin(node.client());
        assertEquals(401, reply.status(), "past the auth limit of 3, still not refused: " + reply.body());
      }
      double errors = node.metrics().get("cmb_rate_limit_store_errors_total").counter().count();
      assertTrue(errors >= 5, "each failed check is counted, was " + errors);
    }
  }
}
