package io.claudememory.fuzz;

import io.claudememory.support.ApiClient;
import io.claudememory.support.ApiClient.Reply;
import io.claudememory.support.ApiContract;
import io.claudememory.support.TestServer;
import io.claudememory.support.Users;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonObject;
import java.util.Map;
import java.util.function.Supplier;

/**
 * The fuzzer's node has every rate limit raised, so it measures the handlers. This node has small ones, and spends
 * each bucket (sign-in, messages, per account, per address) until it refuses: every 429 must match the document and
 * say when to come back.
 */
final class RateLimitCases {
  private final FuzzSummary summary;

  RateLimitCases(FuzzSummary summary) {
    this.summary = summary;
  }

  void run() {
    try (TestServer node = TestServer.start(Map.of("CMB_RATE_LIMIT_AUTH_LIMIT", "3",
        "CMB_RATE_LIMIT_MESSAGES_LIMIT", "2", "CMB_RATE_LIMIT_PRINCIPAL_LIMIT", "12",
        "CMB_RATE_LIMIT_ADDRESS_LIMIT", "40"))) {
      ApiClient api = node.client().withoutContractCheck();
      Users.TestUser ann = Users.register(node.client());
      JsonObject login = new JsonObject().put("email", ann.email()).put("password", Users.PASSWORD);
      spend("auth bucket (login)", HttpMethod.POST, "/api/v1/auth/login",
          () -> api.post("/api/v1/auth/login", null, login));
      String conversation = node.client().post("/api/v1/conversations", ann.accessToken(), new JsonObject())
          .data().getString("id");
      String messages = "/api/v1/conversations/" + conversation + "/messages";
      spend("messages bucket", HttpMethod.POST, messages, () -> api.post(messages, ann.accessToken(),
          new JsonObject().put("content", "hi").put("generate", false)));
      spend("account bucket", HttpMethod.GET, "/api/v1/projects",
          () -> api.get("/api/v1/projects", ann.accessToken()));
      spend("address bucket", HttpMethod.POST, "/api/v1/auth/logout",
          () -> api.post("/api/v1/auth/logout", null, new JsonObject().put("refreshToken", "not-a-token")));
      spend("address bucket, unknown path", HttpMethod.GET, "/api/v1/nowhere",
          () -> api.get("/api/v1/nowhere", null));
    }
  }

  /** Calls until a 429 (at most 100 times); the 429 and every answer before it must match the document. */
  private void spend(String bucket, HttpMethod method, String path, Supplier<Reply> call) {
    for (int i = 0; i < 100; i++) {
      Reply reply = call.get();
      String failure = null;
      try {
        ApiContract.load().check(method, path, reply);
      } catch (AssertionError mismatch) {
        failure = "does not match the document: " + mismatch.getMessage();
      }
      if (reply.status() == 429 && failure == null && reply.header("Retry-After") == null) {
        failure = "a 429 without Retry-After";
      }
      summary.other(FuzzSummary.RATE_LIMITS, bucket + " call " + (i + 1), failure);
      if (reply.status() == 429) {
        return;
      }
    }
    summary.other(FuzzSummary.RATE_LIMITS, bucket, "never refused with 429 in 100 calls");
  }
}
