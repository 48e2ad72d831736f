package io.claudememory.fuzz;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import io.claudememory.support.ApiClient.Reply;
import io.claudememory.support.ApiContract;
import io.claudememory.support.FakeClaude;
import io.claudememory.support.TestServer;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

/**
 * Fuzzes the whole API from its document (issue #7 item 8): every operation of {@code openapi.yaml} gets its valid
 * request and that request broken in every way {@link CaseFactory} knows, sent by a real account that owns real
 * objects. No answer may be a 5xx, come later than {@link FuzzRunner#TIMEOUT_MS}, or differ from the document, and
 * the node may log no unexpected warning meanwhile ({@link ServerLog}). The WebSocket protocol is fuzzed the same way
 * ({@link WsFuzzer}), and a node with small rate limits shows its 429s match the document too.
 *
 * <p>{@code -Dfuzz.seed=N} repeats a run (the seed is printed); {@code -Dfuzz.cases=N} sets the number of HTTP cases
 * (spread evenly over the operations, each getting at least {@link #MIN_PER_OPERATION}); {@code -Dfuzz.only=regex}
 * sends every case whose {@code operationId [category: label]} matches, unsampled, to replay a failure. The summary
 * is printed and written to {@code target/fuzz-summary.json}.
 */
@DisplayName("Fuzzing: malformed, missing, oversized, wrong-typed and injection-shaped input never gets a 5xx, a hang "
    + "or an undocumented answer")
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class ApiFuzzTest {
  static final int DEFAULT_CASES = 6000;
  static final int MIN_PER_OPERATION = 20;
  static final Path SUMMARY = Path.of("target", "fuzz-summary.json");
  /**
   * Operations that end something other cases rely on besides deleting (those are all DELETEs): they run last, after
   * everything else, each on objects or accounts of their own (see {@link CaseFactory#actor} and Fixtures#fresh).
   */
  static final List<String> DESTRUCTIVE = List.of("activateDatabase", "adminUpdateUser", "logout", "changePassword");

  static long seed;
  static Vertx fakeVertx;
  static FakeClaude claude;
  static TestServer server;
  static Fixtures fx;
  static FuzzSummary summary;
  static ServerLog serverLog = new ServerLog();

  @BeforeAll
  static void start() {
    seed = Long.getLong("fuzz.seed", System.nanoTime());
    System.out.println("fuzz: seed " + seed + " (repeat with -Dfuzz.seed=" + seed + ")");
    summary = new FuzzSummary(seed);
    fakeVertx = Vertx.vertx();
    claude = FakeClaude.start(fakeVertx);
    // TestServer raises every rate limit, so the fuzzer measures the handlers; rateLimitedAnswers checks 429s
    server = TestServer.start(Map.of("CLAUDE_PROVIDER", "anthropic", "ANTHROPIC_API_KEY", "fuzz-key",
        "ANTHROPIC_BASE_URL", claude.baseUrl()));
    fx = new Fixtures(server);
    serverLog.attach();
  }

  @AfterAll
  static void stop() throws Exception {
    serverLog.detach();
    serverLog.tolerated().forEach(line -> summary.note("tolerated server log line: " + line));
    System.out.println(summary.line());
    summary.write(SUMMARY);
    if (server != null) {
      server.close();
    }
    if (claude != null) {
      claude.close();
    }
    fakeVertx.close().await(10, TimeUnit.SECONDS);
  }

  @Test
  @Order(1)
  @DisplayName("every operation of the document, valid and broken every way, answers as documented and never 5xx")
  void everyOperation() {
    ApiContract contract = ApiContract.load();
    Schemas schemas = new Schemas(contract.document());
    List<FuzzTarget> targets = new ArrayList<>(FuzzTarget.read(contract.document(), schemas));
    List<String> ids = targets.stream().map(FuzzTarget::operationId).toList();
    DESTRUCTIVE.forEach(id -> assertTrue(ids.contains(id), "the document has no operation " + id));
    targets.sort(Comparator.comparing(ApiFuzzTest::destructive).thenComparing(t -> DESTRUCTIVE.indexOf(
        t.operationId())));

    CaseFactory factory = new CaseFactory(fx, schemas, new Random(seed), server.config().auth().issuer(),
        server.config().auth().audience());
    FuzzRunner runner = new FuzzRunner(server.client().web(), contract, summary);
    int perOperation = Math.max(MIN_PER_OPERATION, Integer.getInteger("fuzz.cases", DEFAULT_CASES) / targets.size());
    int failuresBefore = summary.failures().size();
    int logBefore = serverLog.size();
    long started = System.nanoTime();
    String onlyPattern = System.getProperty("fuzz.only");
    Pattern only = onlyPattern == null ? null : Pattern.compile(onlyPattern);
    for (FuzzTarget t : targets) {
      for (Mutation m : factory.plan(t, perOperation, only)) {
        FuzzCase c = factory.build(t, m);
        Reply reply = runner.run(c);
        if (reply != null && reply.status() == 200 && t.operationId().equals("changePassword")) {
          adoptNewPassword(factory.actor(t), c, reply);
        }
      }
    }
    System.out.println("fuzz: HTTP cases took " + TimeUnit.NANOSECONDS.toSeconds(System.nanoTime() - started) + " s");
    factory.warnings.forEach(w -> {
      System.out.println("fuzz: " + w);
      summary.note(w);
    });
    List<String> untouched = ids.stream().filter(id -> summary.cases(id) == 0).toList();
    assertTrue(untouched.isEmpty() || only != null, () -> "operations without a single case: " + untouched);
    assertEquals(200, server.client().get("/api/v1/health", null).status(), "the node is still up");
    assertNoFailures(failuresBefore, logBefore);
  }

  @Test
  @Order(2)
  @DisplayName("WebSocket frames of every wrong shape get a documented error or close code; the socket and the node "
      + "stay usable")
  void webSocketProtocol() {
    int failuresBefore = summary.failures().size();
    int logBefore = serverLog.size();
    new WsFuzzer(server.app().vertx(), server.client(), fx, summary, new Random(seed)).run();
    assertEquals(200, server.client().get("/api/v1/health", null).status(), "the node is still up");
    assertNoFailures(failuresBefore, logBefore);
  }

  @Test
  @Order(3)
  @DisplayName("with small rate limits, every bucket's 429 matches the document and says when to come back")
  void rateLimitedAnswers() {
    int failuresBefore = summary.failures().size();
    int logBefore = serverLog.size();
    new RateLimitCases(summary).run();
    assertNoFailures(failuresBefore, logBefore);
  }

  static boolean destructive(FuzzTarget t) {
    return t.method().equals("DELETE") || DESTRUCTIVE.contains(t.operationId());
  }

  /** A password change that went through signed the other sessions out and gave this one a new pair. */
  private static void adoptNewPassword(Fixtures.Actor actor, FuzzCase c, Reply reply) {
    actor.password = new JsonObject(c.body()).getString("newPassword");
    actor.accessToken = reply.data().getString("accessToken");
    actor.refreshToken = reply.data().getString("refreshToken");
  }

  /** Fails with every failure recorded since {@code before}, and every unexpected server log line since {@code log}. */
  static void assertNoFailures(int before, int log) {
    serverLog.since(log).forEach(line -> summary.other("server log", line, "an unexpected server log line"));
    List<JsonObject> mine = summary.failures().subList(before, summary.failures().size());
    if (!mine.isEmpty()) {
      fail(mine.size() + " fuzz failures (all in " + SUMMARY + "):\n" + mine.stream().limit(60)
          .map(JsonObject::encode).collect(Collectors.joining("\n")));
    }
  }
}
