package io.claudememory.fuzz;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Collectors;

/**
 * What a fuzz run saw: cases per operation and per status, the slowest answer, and every failure with enough to
 * reproduce it (operation, case, request, status, body). Printed as one line and written as JSON.
 */
final class FuzzSummary {
  static final String RATE_LIMITS = "rate limits";
  private final long seed;
  private final Map<Integer, Integer> statuses = new TreeMap<>();
  private final Map<String, Integer> perOperation = new TreeMap<>();
  private final Map<String, Map<Integer, Integer>> validStatuses = new TreeMap<>();
  private final List<JsonObject> failures = new ArrayList<>();
  private final List<String> notes = new ArrayList<>();
  private int cases;
  private final Map<String, Integer> otherCases = new TreeMap<>();
  private long slowestMs;
  private String slowest = "";

  FuzzSummary(long seed) {
    this.seed = seed;
  }

  synchronized void record(FuzzCase c, int status, long elapsedMs) {
    cases++;
    statuses.merge(status, 1, Integer::sum);
    perOperation.merge(c.target().operationId(), 1, Integer::sum);
    if (c.category().equals(Mutation.VALID)) {
      validStatuses.computeIfAbsent(c.target().operationId(), k -> new TreeMap<>()).merge(status, 1, Integer::sum);
    }
    if (elapsedMs > slowestMs) {
      slowestMs = elapsedMs;
      slowest = c.toString();
    }
  }

  synchronized void fail(FuzzCase c, int status, String body, String reason) {
    failures.add(CaseFactory.describe(c).put("request", c.method() + " " + FuzzCase.abbreviate(c.uri(), 300))
        .put("status", status).put("reason", reason).put("body", FuzzCase.abbreviate(body, 600)));
  }

  /** A WebSocket case; {@code failure} null when it behaved. */
  void ws(String label, String failure) {
    other("/ws", label, failure);
  }

  /** A case outside the HTTP fuzz loop ({@code area}: /ws, rate limits); {@code failure} null when it behaved. */
  synchronized void other(String area, String label, String failure) {
    otherCases.merge(area, 1, Integer::sum);
    if (failure != null) {
      failures.add(new JsonObject().put("operation", area).put("case", label).put("reason", failure));
    }
  }

  synchronized void note(String text) {
    notes.add(text);
  }

  int cases(String operationId) {
    return perOperation.getOrDefault(operationId, 0);
  }

  int serverErrors() {
    return statuses.entrySet().stream().filter(e -> e.getKey() >= 500).mapToInt(Map.Entry::getValue).sum();
  }

  List<JsonObject> failures() {
    return failures;
  }

  String line() {
    return "fuzz: seed " + seed + ", " + cases + " HTTP cases over " + perOperation.size() + " operations, "
        + otherCases.getOrDefault("/ws", 0) + " WebSocket cases, " + otherCases.getOrDefault(RATE_LIMITS, 0)
        + " rate-limit cases; HTTP statuses " + statuses.entrySet().stream()
        .map(e -> (e.getKey() < 0 ? "no answer" : e.getKey()) + "=" + e.getValue()).collect(Collectors.joining(" "))
        + "; 5xx " + serverErrors() + "; failures " + failures.size() + "; slowest " + slowestMs + " ms (" + slowest
        + ")";
  }

  JsonObject toJson() {
    JsonObject byStatus = new JsonObject();
    statuses.forEach((k, v) -> byStatus.put(k < 0 ? "none" : k.toString(), v));
    JsonObject byOperation = new JsonObject();
    perOperation.forEach(byOperation::put);
    JsonObject valid = new JsonObject();
    validStatuses.forEach((op, counts) -> valid.put(op, counts.toString()));
    return new JsonObject().put("seed", seed).put("cases", cases)
        .put("wsCases", otherCases.getOrDefault("/ws", 0))
        .put("rateLimitCases", otherCases.getOrDefault(RATE_LIMITS, 0))
        .put("operations", perOperation.size()).put("statuses", byStatus).put("serverErrors", serverErrors())
        .put("failures", failures.size()).put("slowestMs", slowestMs).put("slowestCase", slowest)
        .put("perOperation", byOperation).put("validRequestStatuses", valid)
        .put("notes", new JsonArray(new ArrayList<>(notes)))
        .put("failureDetails", new JsonArray(new ArrayList<>(failures)));
  }

  void write(Path file) {
    try {
      Files.createDirectories(file.getParent());
      Files.writeString(file, toJson().encodePrettily());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
