package io.claudememory.fuzz;

import io.claudememory.support.ApiClient.Reply;
import io.claudememory.support.ApiContract;
import io.vertx.core.Future;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpRequest;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.ext.web.client.WebClient;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * Sends cases one at a time and holds every answer to the rules: an answer within {@link #TIMEOUT_MS} (no answer, or
 * a connection dropped without one, is a failure), never a 5xx, every answer what the contract documents for the
 * operation ({@link ApiContract}), carrying an {@code X-Request-Id} that a problem repeats, and no stack trace; a
 * request the document calls valid is not refused as malformed. Failures are collected in the {@link FuzzSummary},
 * not thrown, so one run reports them all.
 */
final class FuzzRunner {
  static final long TIMEOUT_MS = 10_000;
  private final WebClient web;
  private final ApiContract contract;
  private final FuzzSummary summary;
  private final java.util.Set<String> healthNoted = new java.util.HashSet<>();

  FuzzRunner(WebClient web, ApiContract contract, FuzzSummary summary) {
    this.web = web;
    this.contract = contract;
    this.summary = summary;
  }

  /** Sends {@code c}; answers the reply, or null when none came. */
  Reply run(FuzzCase c) {
    HttpRequest<Buffer> request = web.request(HttpMethod.valueOf(c.method()), c.uri()).putHeaders(c.headers())
        .timeout(TIMEOUT_MS);
    long started = System.nanoTime();
    Reply reply;
    try {
      Future<HttpResponse<Buffer>> sent = c.form() != null ? request.sendMultipartForm(c.form())
          : c.body() != null ? request.sendBuffer(c.body()) : request.send();
      HttpResponse<Buffer> response = sent.await(TIMEOUT_MS + 5_000, TimeUnit.MILLISECONDS);
      reply = new Reply(response.statusCode(), response.headers(), response.body());
    } catch (Exception e) {
      boolean hang = e instanceof TimeoutException || String.valueOf(e.getMessage()).contains("timeout")
          || String.valueOf(e.getMessage()).contains("timed out");
      summary.record(c, -1, elapsedMs(started));
      summary.fail(c, -1, "", hang ? "no answer within " + TIMEOUT_MS + " ms (a hang)"
          : "no answer: " + e.getClass().getSimpleName() + ": " + e.getMessage());
      return null;
    }
    summary.record(c, reply.status(), elapsedMs(started));
    check(c, reply);
    return reply;
  }

  private void check(FuzzCase c, Reply reply) {
    if (reply.status() >= 500 && !healthReport(c, reply)) {
      summary.fail(c, reply.status(), reply.body(), "a server error");
    }
    try {
      contract.check(HttpMethod.valueOf(c.method()), c.uri(), reply);
    } catch (AssertionError mismatch) {
      summary.fail(c, reply.status(), reply.body(), "does not match the document: " + mismatch.getMessage());
    }
    if (c.category().equals(Mutation.VALID) && (reply.status() == 400 || reply.status() == 422)) {
      summary.fail(c, reply.status(), reply.body(), "the request the document calls valid was refused as malformed");
    }
    String requestId = reply.header("X-Request-Id");
    if (requestId == null || requestId.isBlank()) {
      summary.fail(c, reply.status(), reply.body(), "no X-Request-Id header");
    }
    String type = String.valueOf(reply.header("Content-Type"));
    if (type.startsWith("application/problem+json")) {
      String body = reply.body();
      if (body.contains("\tat ") || body.contains("Exception") || body.contains("org.postgresql")
          || body.contains("io.vertx")) {
        summary.fail(c, reply.status(), body, "the problem leaks internals");
      }
      try {
        JsonObject problem = reply.json();
        if (requestId != null && !requestId.equals(problem.getString("requestId"))) {
          summary.fail(c, reply.status(), body, "the problem's requestId is not the X-Request-Id header");
        }
      } catch (RuntimeException notJson) {
        // the contract check has said so already
      }
    }
  }

  /**
   * A health probe answering 503 with its checks is the probe's subject, not a failure to serve the request: the
   * event-loop check goes DOWN when timers fire over 500 ms late, which a loaded 2-core machine can cause. It is
   * still counted as a 5xx, and noted with the checks that were down.
   */
  private boolean healthReport(FuzzCase c, Reply reply) {
    if (reply.status() != 503 || !c.target().tags().contains("health")
        || !String.valueOf(reply.header("Content-Type")).startsWith("application/json")) {
      return false;
    }
    if (healthNoted.add(c.target().operationId())) {
      summary.note(c.target().operationId() + " answered 503 (first seen): " + FuzzCase.abbreviate(reply.body(), 400));
    }
    return true;
  }

  private static long elapsedMs(long started) {
    return TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started);
  }
}
