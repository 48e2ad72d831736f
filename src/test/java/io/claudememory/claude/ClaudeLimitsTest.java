package io.claudememory.claude;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.claudememory.support.ApiClient;
import io.claudememory.support.Awaits;
import io.claudememory.support.FakeClaude;
import io.claudememory.support.RoomEvents;
import io.claudememory.support.TenantSeed;
import io.claudememory.support.TestServer;
import io.claudememory.support.Users;
import io.claudememory.support.Users.TestUser;
import io.vertx.core.Future;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

@DisplayName("Claude limits and usage: caps per user and per node, a daily token budget, usage by day, model, project")
class ClaudeLimitsTest {
  @RegisterExtension
  @Order(1)
  static final FakeClaude fake = FakeClaude.start().tokenRate(20).tokens(2000);
  @RegisterExtension
  @Order(2)
  static final TestServer server = TestServer.start(fake.nodeEnv(
      "CMB_CLAUDE_MAX_PER_USER", "1",
      "CMB_CLAUDE_MAX_PER_NODE", "2",
      "CMB_CLAUDE_DAILY_TOKEN_BUDGET", "1000",
      "CMB_CLAUDE_TITLES", "false"));
  static final ApiClient api = server.client();

  /** A user with a conversation and a question in it. */
  record Asker(TestUser user, TenantSeed seed, UUID conversation, UUID question) {}

  private static Asker asker() {
    TestUser user = Users.register(api);
    TenantSeed seed = new TenantSeed(server, user.id());
    UUID conversation = seed.conversation(null, "Limits", null);
    return new Asker(user, seed, conversation, seed.message(conversation, null, "user", "Talk for a while."));
  }

  private static Future<Generations.Started> start(Asker asker) {
    return server.app().generations().start(asker.user().id(), asker.conversation(), asker.question(),
        new JsonObject());
  }

  private static GenerationRefused refusal(Future<?> attempt) {
    try {
      attempt.await(20, TimeUnit.SECONDS);
    } catch (Exception e) {
      // inspected below
    }
    assertTrue(attempt.failed() && attempt.cause() instanceof GenerationRefused,
        () -> "expected a refusal, got " + (attempt.failed() ? attempt.cause() : "success"));
    return (GenerationRefused) attempt.cause();
  }

  @Test
  @DisplayName("past the per-user and the per-node cap, generations are refused with 429 until one ends")
  void caps() throws Exception {
    Asker ann = asker();
    Asker bob = asker();
    Asker cid = asker();
    try (RoomEvents annRoom = new RoomEvents(server.app().vertx(), ann.user().id(), ann.conversation());
         RoomEvents bobRoom = new RoomEvents(server.app().vertx(), bob.user().id(), bob.conversation())) {
      start(ann).await(20, TimeUnit.SECONDS);
      GenerationRefused mine = refusal(start(ann));
      assertEquals(429, mine.status());
      assertEquals("too_many_generations", mine.code());

      ApiClient.Reply problem = api.post("/api/v1/conversations/" + ann.conversation() + "/messages/"
          + ann.question() + "/regenerate", ann.user().accessToken(), null);
      assertEquals(429, problem.status(), "the REST form is a 429 problem");
      assertNotNull(problem.header("Retry-After"));

      start(bob).await(20, TimeUnit.SECONDS);
      GenerationRefused node = refusal(start(cid));
      assertEquals(429, node.status());
      assertEquals("node_busy", node.code());

      server.app().generations().cancel(null, ann.conversation());
      server.app().generations().cancel(null, bob.conversation());
      annRoom.end(10_000);
      bobRoom.end(10_000);
    }
    Awaits.until(() -> server.app().generations().activeCount() == 0, 5000, "the slots are released");
    start(cid).await(20, TimeUnit.SECONDS);
    server.app().generations().cancel(null, cid.conversation());
    Awaits.until(() -> server.app().generations().activeCount() == 0, 5000, "the last slot is released");
  }

  @Test
  @DisplayName("a user whose daily token budget is spent is refused with 429 until midnight UTC")
  void budget() {
    Asker spender = asker();
    spender.seed().message(spender.conversation(), spender.question(), "assistant", "Earlier answer.",
        "claude-sonnet-4-5", new JsonObject().put("input_tokens", 700).put("output_tokens", 200)
            .put("cache_read_input_tokens", 100), null);
    UUID next = spender.seed().message(spender.conversation(), null, "user", "More?");
    GenerationRefused refused = refusal(server.app().generations().start(spender.user().id(),
        spender.conversation(), next, new JsonObject()));
    assertEquals(429, refused.status());
    assertEquals("daily_budget_spent", refused.code());
    assertTrue(Integer.parseInt(refused.retryAfter()) <= 86_400);
  }

  @Test
  @DisplayName("usage adds up persisted per-message usage by day, model and project")
  void usage() {
    TestUser ann = Users.register(api);
    TenantSeed seed = new TenantSeed(server, ann.id());
    UUID alpha = seed.project("Alpha", null);
    UUID a = seed.conversation(alpha, "A", null);
    UUID b = seed.conversation(null, "B", null);
    OffsetDateTime day1 = OffsetDateTime.of(2026, 3, 1, 10, 0, 0, 0, ZoneOffset.UTC);
    OffsetDateTime day2 = day1.plusDays(1);
    UUID q = seed.message(a, null, "user", "q");
    seed.message(a, q, "assistant", "x", "m1", usage(10, 5, 2, 1), day1);
    seed.message(a, q, "assistant", "y", "m1", usage(20, 5, 0, 0), day1);
    seed.message(b, null, "assistant", "z", "m2", usage(1, 1, 0, 0), day2);
    seed.message(b, null, "assistant", "outside", "m2", usage(1000, 1000, 0, 0), day2.plusDays(5));
    String range = "from=2026-03-01&to=2026-03-03";

    JsonObject byModel = get("/api/v1/usage?" + range + "&groupBy=model", ann);
    JsonArray groups = byModel.getJsonArray("groups");
    assertEquals(2, groups.size());
    assertEquals(new JsonObject().put("model", "m1").put("messages", 2).put("inputTokens", 30).put("outputTokens", 10)
        .put("cacheCreationInputTokens", 2).put("cacheReadInputTokens", 1).put("totalTokens", 43),
        groups.getJsonObject(0));
    assertEquals(45, byModel.getJsonObject("totals").getInteger("totalTokens"), "the range excludes later usage");

    JsonArray byDay = get("/api/v1/usage?" + range + "&groupBy=day", ann).getJsonArray("groups");
    assertEquals("2026-03-01", byDay.getJsonObject(0).getString("day"));
    assertEquals(2, byDay.getJsonObject(1).getInteger("totalTokens"));

    JsonArray byProject = get("/api/v1/usage?" + range + "&groupBy=project", ann).getJsonArray("groups");
    assertEquals(alpha.toString(), byProject.getJsonObject(0).getString("projectId"));
    assertEquals(43, byProject.getJsonObject(0).getInteger("totalTokens"));
    assertEquals(400, api.get("/api/v1/usage?groupBy=color", ann.accessToken()).status());
    // dates outside the years 1 to 9999 are refused, and the default window never reaches before year 1
    assertEquals(400, api.get("/api/v1/usage?to=-999999999-01-01T00:00:00Z", ann.accessToken()).status());
    assertEquals(400, api.get("/api/v1/usage?from=%2B10000-01-01T00:00:00Z", ann.accessToken()).status());
    assertEquals("0001-01-01T00:00:00Z", get("/api/v1/usage?to=0001-01-05", ann).getString("from"));
  }

  private static JsonObject usage(int input, int output, int creation, int read) {
    return new JsonObject().put("input_tokens", input).put("output_tokens", output)
        .put("cache_creation_input_tokens", creation).put("cache_read_input_tokens", read);
  }

  private static JsonObject get(String path, TestUser user) {
    ApiClient.Reply reply = api.get(path, user.accessToken());
    assertEquals(200, reply.status(), reply::body);
    return reply.data();
  }
}
