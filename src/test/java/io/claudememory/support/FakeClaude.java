package io.claudememory.support;

import io.vertx.core.MultiMap;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedDeque;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * A local fake of the Anthropic Messages API ({@code POST /v1/messages}, protocols.md §1) for tests and benchmarks.
 * Streamed requests get the real SSE sequence — {@code message_start}, {@code content_block_start}, a {@code ping},
 * {@code content_block_delta}s at a configurable rate, {@code content_block_stop}, {@code message_delta} (stop reason,
 * cumulative usage), {@code message_stop} — and non-streamed ones a JSON message. Scripts queued with
 * {@link #enqueue} shape the next streamed answers: a 429 with {@code retry-after}, a spend-cap 429, a 529, an
 * {@code error} event mid-stream, a dropped connection, a stall, and answers that break the protocol (raw chunks of
 * the test's choosing, or a body that never ends). Every request is recorded for assertions.
 *
 * <p>Run alone: {@code scripts/fake-claude --help}.
 */
public final class FakeClaude implements AutoCloseable, AfterAllCallback {
  /** Usage the fake reports for the cache fields, so tests can see them persisted. */
  public static final int CACHE_CREATION_TOKENS = 3;
  public static final int CACHE_READ_TOKENS = 2;
  private final Vertx vertx;
  private final HttpServer server;
  private final Deque<Script> scripts = new ConcurrentLinkedDeque<>();
  private final Deque<String> completions = new ConcurrentLinkedDeque<>();
  private final List<Recorded> requests = new CopyOnWriteArrayList<>();
  private final Set<HttpServerResponse> open = ConcurrentHashMap.newKeySet();
  private final AtomicInteger closedByClient = new AtomicInteger();
  /** Tokens in an answer no script shapes, until {@link #tokens} says otherwise. */
  private static final int DEFAULT_TOKENS = 5;
  private volatile int defaultTokens = DEFAULT_TOKENS;
  private volatile double tokensPerSecond;
  private volatile boolean timestampTokens;
  private volatile boolean failCompletions;
  private volatile int stallAfterDefault = -1;
  /** Closed with the fake when the fake made it ({@link #start()}). */
  private volatile boolean ownsVertx;

  /** What a request looked like. */
  public record Recorded(String path, MultiMap headers, JsonObject body, long receivedAtNanos) {}

  /** How the next streamed answer behaves. */
  public record Script(Kind kind, List<String> pieces, int status, String retryAfter, int afterTokens) {}

  public enum Kind { ANSWER, STATUS, SPEND_CAP, ERROR_EVENT, DROP, STALL, HANG, RAW, ENDLESS }

  private FakeClaude(Vertx vertx, HttpServer server) {
    this.vertx = vertx;
    this.server = server;
  }

  public static FakeClaude start(Vertx vertx) {
    return start(vertx, 0);
  }

  /**
   * A fake on a Vert.x of its own, closed with it. A test class holds it in an {@code @RegisterExtension @Order(1)}
   * field, before the node that calls it ({@code @Order(2)}), so the node stops first.
   */
  public static FakeClaude start() {
    FakeClaude fake = start(Vertx.vertx());
    fake.ownsVertx = true;
    return fake;
  }

  public Vertx vertx() {
    return vertx;
  }

  /** A node's settings for the anthropic provider pointed at this fake, plus {@code more} (name, value, ...). */
  public Map<String, String> nodeEnv(String... more) {
    Map<String, String> env = new HashMap<>(Map.of("ANTHROPIC_API_KEY", "test-key", "ANTHROPIC_BASE_URL", baseUrl()));
    for (int i = 0; i + 1 < more.length; i += 2) {
      env.put(more[i], more[i + 1]);
    }
    return env;
  }

  public static FakeClaude start(Vertx vertx, int port) {
    FakeClaude[] self = new FakeClaude[1];
    HttpServer server = vertx.createHttpServer().requestHandler(req -> self[0].handle(req));
    self[0] = new FakeClaude(vertx, server);
    try {
      server.listen(port, "127.0.0.1").await(10, TimeUnit.SECONDS);
    } catch (Exception e) {
      throw new IllegalStateException("fake Claude did not start: " + e.getMessage(), e);
    }
    return self[0];
  }

  public String baseUrl() {
    return "http://127.0.0.1:" + server.actualPort();
  }

  public int port() {
    return server.actualPort();
  }

  // ---- configuration -------------------------------------------------------------------------------------------

  /** Default answers have this many tokens ("tok0 tok1 ..."). */
  public FakeClaude tokens(int count) {
    this.defaultTokens = count;
    return this;
  }

  /** Tokens per second of every answer; 0 sends them all at once. */
  public FakeClaude tokenRate(double perSecond) {
    this.tokensPerSecond = perSecond;
    return this;
  }

  /** Each token of a default answer is {@code "~<System.nanoTime()> "} taken as it leaves (for latency benchmarks). */
  public FakeClaude timestampTokens(boolean on) {
    this.timestampTokens = on;
    return this;
  }

  /** Non-streamed requests (titles, summaries) fail with a 500 while on. */
  public FakeClaude failCompletions(boolean on) {
    this.failCompletions = on;
    return this;
  }

  /** The text of the next non-streamed answer (else "Fake title" or "Fake summary"). */
  public FakeClaude completion(String text) {
    completions.add(text);
    return this;
  }

  public FakeClaude enqueue(Script script) {
    scripts.add(script);
    return this;
  }

  public static Script answer(String... pieces) {
    return new Script(Kind.ANSWER, List.of(pieces), 200, null, 0);
  }

  public static Script status(int status, String retryAfter) {
    return new Script(Kind.STATUS, List.of(), status, retryAfter, 0);
  }

  public static Script spendCap() {
    return new Script(Kind.SPEND_CAP, List.of(), 429, null, 0);
  }

  public static Script errorEventAfter(int tokens) {
    return new Script(Kind.ERROR_EVENT, List.of(), 200, null, tokens);
  }

  public static Script dropAfter(int tokens) {
    return new Script(Kind.DROP, List.of(), 200, null, tokens);
  }

  /** Answers 200 {@code text/event-stream} with exactly these chunks, then ends: a stream that breaks the protocol. */
  public static Script raw(String... chunks) {
    return new Script(Kind.RAW, List.of(chunks), 200, null, 0);
  }

  /**
   * Answers {@code status} ({@code text/event-stream} when 200, else JSON) with {@code prefix} once, then {@code unit}
   * again and again until the client goes away: an upstream that never stops sending.
   */
  public static Script endless(int status, String prefix, String unit) {
    return new Script(Kind.ENDLESS, List.of(prefix, unit), status, null, 0);
  }

  /** Never answers at all: not even the status line. */
  public static Script hang() {
    return new Script(Kind.HANG, List.of(), 0, null, 0);
  }

  public static Script stallAfter(int tokens) {
    return new Script(Kind.STALL, List.of(), 200, null, tokens);
  }

  public List<Recorded> requests() {
    return List.copyOf(requests);
  }

  /** Streamed requests only. */
  public List<Recorded> streamed() {
    return requests.stream().filter(r -> r.body().getBoolean("stream", false)).toList();
  }

  /** Streams the client closed before the fake ended them (cancel, stall timeout). */
  public int closedByClient() {
    return closedByClient.get();
  }

  /** Forgets scripts and recorded requests, and answers again as a new fake does: 5 tokens, all at once. */
  public void reset() {
    scripts.clear();
    completions.clear();
    requests.clear();
    closedByClient.set(0);
    failCompletions = false;
    defaultTokens = DEFAULT_TOKENS;
    tokensPerSecond = 0;
  }

  // ---- the protocol --------------------------------------------------------------------------------------------

  private void handle(HttpServerRequest req) {
    long at = System.nanoTime();
    req.body().onSuccess(buf -> {
      JsonObject body;
      try {
        body = buf.toJsonObject();
      } catch (RuntimeException e) {
        error(req.response(), 400, "invalid_request_error", "body is not JSON", null);
        return;
      }
      requests.add(new Recorded(req.path(), MultiMap.caseInsensitiveMultiMap().addAll(req.headers()), body, at));
      if (!"/v1/messages".equals(req.path())) {
        error(req.response(), 404, "not_found_error", "no such path", null);
      } else if (req.getHeader("x-api-key") == null || req.getHeader("anthropic-version") == null) {
        error(req.response(), 401, "authentication_error", "x-api-key and anthropic-version are required", null);
      } else if (body.getBoolean("stream", false)) {
        Script script = scripts.poll();
        stream(req.response(), body, script != null ? script
            : stallAfterDefault >= 0 ? stallAfter(stallAfterDefault) : defaultAnswer());
      } else {
        complete(req.response(), body);
      }
    });
  }

  private Script defaultAnswer() {
    return new Script(Kind.ANSWER, null, 200, null, 0);
  }

  private void complete(HttpServerResponse response, JsonObject body) {
    if (failCompletions) {
      error(response, 500, "api_error", "completions are failing", null);
      return;
    }
    String text = completions.poll();
    if (text == null) {
      text = String.valueOf(body.getValue("system")).toLowerCase().contains("title") ? "Fake title" : "Fake summary";
    }
    response.putHeader("content-type", "application/json").putHeader("request-id", "req_fake").end(new JsonObject()
        .put("id", "msg_fake").put("type", "message").put("role", "assistant").put("model", body.getString("model"))
        .put("content", new JsonArray().add(new JsonObject().put("type", "text").put("text", text)))
        .put("stop_reason", "end_turn").put("stop_sequence", null)
        .put("usage", usage(body, 5)).encode());
  }

  private void stream(HttpServerResponse response, JsonObject body, Script script) {
    switch (script.kind()) {
      case STATUS -> {
        error(response, script.status(), script.status() == 429 ? "rate_limit_error"
            : script.status() == 529 ? "overloaded_error" : "api_error", "scripted " + script.status(),
            script.retryAfter());
        return;
      }
      case HANG -> {
        open.add(response);
        response.closeHandler(v -> {
          if (open.remove(response)) {
            closedByClient.incrementAndGet();
          }
        });
        return;
      }
      case RAW, ENDLESS -> {
        open.add(response);
        response.closeHandler(v -> {
          if (open.remove(response)) {
            closedByClient.incrementAndGet();
          }
        });
        response.setStatusCode(script.status()).setChunked(true).putHeader("content-type",
            script.status() == 200 ? "text/event-stream" : "application/json");
        if (script.kind() == Kind.RAW) {
          script.pieces().forEach(response::write);
          finish(response);
        } else {
          response.write(script.pieces().get(0));
          pump(response, io.vertx.core.buffer.Buffer.buffer(script.pieces().get(1)));
        }
        return;
      }
      case SPEND_CAP -> {
        response.setStatusCode(429).putHeader("content-type", "application/json").end(new JsonObject()
            .put("type", "error").put("error", new JsonObject().put("type", "rate_limit_error")
                .put("message", "You have reached your specified API usage limits.")
                .put("details", new JsonObject().put("error_code", "enforced_spend_limit_reached")))
            .put("request_id", "req_fake").encode());
        return;
      }
      default -> { }
    }
    open.add(response);
    response.closeHandler(v -> {
      if (open.remove(response)) {
        closedByClient.incrementAndGet();
      }
    });
    response.setChunked(true).putHeader("content-type", "text/event-stream").putHeader("request-id", "req_fake");
    JsonObject startUsage = usage(body, 1);
    sse(response, "message_start", new JsonObject().put("type", "message_start").put("message", new JsonObject()
        .put("id", "msg_fake").put("type", "message").put("role", "assistant").put("content", new JsonArray())
        .put("model", body.getString("model")).put("stop_reason", null).put("stop_sequence", null)
        .put("usage", startUsage)));
    sse(response, "content_block_start", new JsonObject().put("type", "content_block_start").put("index", 0)
        .put("content_block", new JsonObject().put("type", "text").put("text", "")));
    sse(response, "ping", new JsonObject().put("type", "ping"));
    List<String> pieces = script.pieces();
    int total = script.kind() == Kind.ANSWER ? (pieces == null ? defaultTokens : pieces.size()) : script.afterTokens();
    emit(response, body, script, pieces, 0, total);
  }

  private void emit(HttpServerResponse response, JsonObject body, Script script, List<String> pieces, int i,
      int total) {
    if (response.closed() || !open.contains(response)) {
      return;
    }
    if (i < total) {
      String text = pieces != null && i < pieces.size() ? pieces.get(i)
          : timestampTokens ? "~" + System.nanoTime() + " " : "tok" + i + " ";
      sse(response, "content_block_delta", new JsonObject().put("type", "content_block_delta").put("index", 0)
          .put("delta", new JsonObject().put("type", "text_delta").put("text", text)));
      double rate = tokensPerSecond;
      if (rate <= 0) {
        emit(response, body, script, pieces, i + 1, total);
      } else {
        vertx.setTimer(Math.max(1, (long) (1000 / rate)), t -> emit(response, body, script, pieces, i + 1, total));
      }
      return;
    }
    switch (script.kind()) {
      case ERROR_EVENT -> {
        sse(response, "error", new JsonObject().put("type", "error").put("error", new JsonObject()
            .put("type", "overloaded_error").put("message", "Overloaded")));
        finish(response);
      }
      case DROP -> {
        open.remove(response);
        response.reset();
      }
      case STALL -> { } // says nothing more, keeps the connection open
      default -> {
        sse(response, "content_block_stop", new JsonObject().put("type", "content_block_stop").put("index", 0));
        sse(response, "message_delta", new JsonObject().put("type", "message_delta")
            .put("delta", new JsonObject().put("stop_reason", "end_turn").put("stop_sequence", null))
            .put("usage", new JsonObject().put("output_tokens", total)));
        sse(response, "message_stop", new JsonObject().put("type", "message_stop"));
        finish(response);
      }
    }
  }

  /** Writes {@code unit} as fast as the client reads, for as long as it stays connected. */
  private void pump(HttpServerResponse response, io.vertx.core.buffer.Buffer unit) {
    while (open.contains(response) && !response.writeQueueFull()) {
      response.write(unit);
    }
    if (open.contains(response)) {
      response.drainHandler(v -> pump(response, unit));
    }
  }

  private void finish(HttpServerResponse response) {
    open.remove(response);
    response.end();
  }

  private static JsonObject usage(JsonObject body, int output) {
    return new JsonObject().put("input_tokens", Math.max(1, body.encode().length() / 4))
        .put("cache_creation_input_tokens", CACHE_CREATION_TOKENS).put("cache_read_input_tokens", CACHE_READ_TOKENS)
        .put("output_tokens", output);
  }

  private static void sse(HttpServerResponse response, String event, JsonObject data) {
    response.write("event: " + event + "\ndata: " + data.encode() + "\n\n");
  }

  private static void error(HttpServerResponse response, int status, String type, String message,
      String retryAfter) {
    if (retryAfter != null) {
      response.putHeader("retry-after", retryAfter);
    }
    response.setStatusCode(status).putHeader("content-type", "application/json").putHeader("request-id", "req_fake")
        .end(new JsonObject().put("type", "error").put("error", new JsonObject().put("type", type)
            .put("message", message)).put("request_id", "req_fake").encode());
  }

  @Override
  public void close() {
    new ArrayList<>(open).forEach(r -> {
      open.remove(r);
      r.reset();
    });
    server.close().await();
    if (ownsVertx) {
      vertx.close().await();
    }
  }

  @Override
  public void afterAll(ExtensionContext context) {
    close();
  }

  /** {@code scripts/fake-claude}: serves until killed. */
  public static void main(String[] args) {
    int port = 8089;
    int tokens = 50;
    double rate = 50;
    boolean timestamps = false;
    int stallAfter = -1;
    for (int i = 0; i < args.length; i++) {
      switch (args[i]) {
        case "--help", "-h" -> {
          System.out.println("""
              Usage: scripts/fake-claude [--port 8089] [--tokens 50] [--rate 50] [--timestamps] [--stall-after N]

              A fake of the Anthropic Messages API on 127.0.0.1: POST /v1/messages with x-api-key and
              anthropic-version. stream:true answers with the real SSE event sequence (message_start,
              content_block_start, ping, content_block_delta x tokens at --rate tokens/s (0 = at once),
              content_block_stop, message_delta, message_stop); stream:false with a JSON message.
              --timestamps makes each token "~<System.nanoTime()> " as it leaves (latency benchmarks);
              --stall-after N stops every answer after N tokens, keeping the connection open.
              Point the server at it: ANTHROPIC_BASE_URL=http://127.0.0.1:8089 ANTHROPIC_API_KEY=any.
              Failure scripts (429 with retry-after, spend-cap 429, 529, error event, drop, stall) are driven
              from tests through the FakeClaude class.""");
          return;
        }
        case "--port" -> port = Integer.parseInt(args[++i]);
        case "--tokens" -> tokens = Integer.parseInt(args[++i]);
        case "--rate" -> rate = Double.parseDouble(args[++i]);
        case "--timestamps" -> timestamps = true;
        case "--stall-after" -> stallAfter = Integer.parseInt(args[++i]);
        default -> throw new IllegalArgumentException("unknown option " + args[i] + " (see --help)");
      }
    }
    FakeClaude fake = start(Vertx.vertx(), port).tokens(tokens).tokenRate(rate).timestampTokens(timestamps);
    fake.stallAfterDefault = stallAfter;
    System.out.println("fake Claude listening on " + fake.baseUrl() + " (" + tokens + " tokens at " + rate + "/s)");
  }
}
