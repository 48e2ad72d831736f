package io.claudememory.claude;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.claudememory.platform.EventAddresses;
import io.claudememory.support.FakeClaude;
import io.claudememory.support.RoomEvents;
import io.claudememory.support.TenantSeed;
import io.claudememory.support.TestServer;
import io.claudememory.support.Users;
import io.claudememory.support.Users.TestUser;
import io.vertx.core.json.JsonObject;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

@DisplayName("Claude failures: retried before the first token, kept and marked after it, never silent")
class ClaudeFailuresTest {
  @RegisterExtension
  @Order(1)
  static final FakeClaude fake = FakeClaude.start();
  @RegisterExtension
  @Order(2)
  static final TestServer server = TestServer.start(fake.nodeEnv(
      "CMB_CLAUDE_MAX_RETRIES", "2",
      "CMB_CLAUDE_RETRY_BASE_MS", "50",
      "CMB_CLAUDE_RETRY_MAX_MS", "200",
      "CMB_CLAUDE_IDLE_TIMEOUT_MS", "1000",
      "CMB_CLAUDE_TITLES", "false"));

  @BeforeEach
  void resetFake() {
    fake.reset();
  }

  /** A conversation with one user message, its room, and the answer's end. */
  record Run(TenantSeed seed, UUID conversation, JsonObject end, List<JsonObject> deltas) {
    List<TenantSeed.Msg> stored() {
      return seed.messages(conversation);
    }
  }

  private Run answer() {
    TestUser ann = Users.register(server.client());
    TenantSeed seed = new TenantSeed(server, ann.id());
    UUID conversation = seed.conversation(null, "Failures", null);
    UUID question = seed.message(conversation, null, "user", "Hello?");
    try (RoomEvents room = new RoomEvents(server.app().vertx(), ann.id(), conversation)) {
      JsonObject reply = await(server.app().vertx().eventBus().<JsonObject>request(EventAddresses.CLAUDE_GENERATE,
          new JsonObject().put("tenant", ann.id().toString()).put("conversationId", conversation.toString())
              .put("userMessageId", question.toString()))).body();
      assertTrue(reply.getBoolean("accepted"), reply::encode);
      JsonObject end = room.end(15_000);
      return new Run(seed, conversation, end, room.seen("assistant.delta"));
    }
  }

  @Test
  @DisplayName("a 429 is retried after the time its retry-after asks for")
  void rateLimitedHonoursRetryAfter() {
    fake.enqueue(FakeClaude.status(429, "1"));
    Run run = answer();
    assertEquals("assistant.done", run.end().getString("type"), run.end()::encode);
    List<FakeClaude.Recorded> sent = fake.streamed();
    assertEquals(2, sent.size(), "one retry");
    long waitedMs = (sent.get(1).receivedAtNanos() - sent.get(0).receivedAtNanos()) / 1_000_000;
    assertTrue(waitedMs >= 950, "retry-after: 1 was honoured, waited " + waitedMs + " ms");
    assertEquals(2, run.stored().size());
  }

  @Test
  @DisplayName("a spend-cap 429 without retry-after is not retried and nothing is stored")
  void spendCapNotRetried() {
    fake.enqueue(FakeClaude.spendCap());
    Run run = answer();
    assertEquals("assistant.error", run.end().getString("type"));
    assertEquals("spend_limit", run.end().getString("code"));
    assertFalse(run.end().getBoolean("partial"));
    assertEquals(1, fake.streamed().size(), "no retry");
    assertEquals(1, run.stored().size(), "no assistant message");
  }

  @Test
  @DisplayName("529 and 5xx before the first token are retried with backoff")
  void overloadedRetried() {
    fake.enqueue(FakeClaude.status(529, null)).enqueue(FakeClaude.status(500, null));
    Run run = answer();
    assertEquals("assistant.done", run.end().getString("type"), run.end()::encode);
    assertEquals(3, fake.streamed().size());
    assertEquals("tok0 tok1 tok2 tok3 tok4 ", run.stored().get(1).content());
  }

  @Test
  @DisplayName("retries are bounded: past them the client gets assistant.error")
  void retriesBounded() {
    fake.enqueue(FakeClaude.status(529, null)).enqueue(FakeClaude.status(529, null))
        .enqueue(FakeClaude.status(529, null));
    Run run = answer();
    assertEquals("assistant.error", run.end().getString("type"));
    assertEquals("overloaded", run.end().getString("code"));
    assertEquals(3, fake.streamed().size(), "the first try and two retries");
    assertEquals(1, run.stored().size());
  }

  @Test
  @DisplayName("an error event before any text is retried like a 529")
  void errorEventBeforeTextRetried() {
    fake.enqueue(FakeClaude.errorEventAfter(0));
    Run run = answer();
    assertEquals("assistant.done", run.end().getString("type"), run.end()::encode);
    assertEquals(2, fake.streamed().size());
  }

  @Test
  @DisplayName("an error event after tokens began keeps what came, with stop reason error")
  void errorEventMidStream() {
    fake.enqueue(FakeClaude.errorEventAfter(3));
    Run run = answer();
    assertPartial(run, "overloaded", "tok0 tok1 tok2 ");
    assertEquals(1, fake.streamed().size(), "never retried once text was sent");
  }

  @Test
  @DisplayName("a dropped connection after tokens began keeps what came, with stop reason error")
  void droppedConnection() {
    fake.enqueue(FakeClaude.dropAfter(2));
    assertPartial(answer(), "dropped", "tok0 tok1 ");
  }

  @Test
  @DisplayName("a stalled upstream is timed out and what came is kept")
  void stall() {
    fake.enqueue(FakeClaude.stallAfter(2));
    long started = System.nanoTime();
    Run run = answer();
    assertPartial(run, "stalled", "tok0 tok1 ");
    assertTrue((System.nanoTime() - started) / 1_000_000 >= 900, "after the idle timeout");
    assertEquals(1, fake.closedByClient(), "the stalled request is closed");
  }

  @Test
  @DisplayName("an upstream that never answers is timed out, retried, and finally reported as stalled")
  void hang() {
    fake.enqueue(FakeClaude.hang()).enqueue(FakeClaude.hang()).enqueue(FakeClaude.hang());
    Run run = answer();
    assertEquals("assistant.error", run.end().getString("type"));
    assertEquals("stalled", run.end().getString("code"), run.end()::encode);
    assertEquals(3, fake.streamed().size(), "each attempt timed out, then retried");
    assertEquals(1, run.stored().size(), "nothing to keep");
  }

  private static void assertPartial(Run run, String code, String text) {
    JsonObject end = run.end();
    assertEquals("assistant.error", end.getString("type"), end::encode);
    assertEquals(code, end.getString("code"));
    assertTrue(end.getBoolean("partial"));
    assertEquals(text, end.getJsonObject("message").getString("content"));
    TenantSeed.Msg stored = run.stored().get(1);
    assertEquals("error", stored.stopReason());
    assertEquals(text, stored.content(), "what was streamed is stored");
  }

  static <T> T await(io.vertx.core.Future<T> future) {
    try {
      return future.await(30, TimeUnit.SECONDS);
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }
}
