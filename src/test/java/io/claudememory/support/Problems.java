package io.claudememory.support;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vertx.core.json.JsonObject;

/** Assertions on RFC 9457 problem answers. */
public final class Problems {
  private Problems() {}

  /** The answer is a problem of {@code status} with every member clients rely on, and no stack trace. */
  public static JsonObject assertProblem(ApiClient.Reply reply, int status) {
    assertEquals(status, reply.status(), () -> "expected a " + status + " problem, got: " + reply.body());
    assertTrue(String.valueOf(reply.header("Content-Type")).startsWith("application/problem+json"),
        () -> "problem content type expected, got " + reply.header("Content-Type"));
    JsonObject problem = reply.json();
    for (String member : new String[] {"type", "title", "status", "detail", "instance", "requestId"}) {
      assertNotNull(problem.getValue(member), () -> "problem member '" + member + "' missing in " + problem);
    }
    assertEquals(status, problem.getInteger("status"));
    assertEquals(reply.header("X-Request-Id"), problem.getString("requestId"), "problem carries the request id");
    assertFalse(reply.body().contains("\tat ") || reply.body().contains("Exception"),
        () -> "a problem must not leak a stack trace: " + reply.body());
    return problem;
  }

  /** A 400 whose {@code errors} name {@code field}. */
  public static void assertFieldError(ApiClient.Reply reply, String field) {
    JsonObject problem = assertProblem(reply, 400);
    assertNotNull(problem.getJsonArray("errors"), () -> "validation errors expected in " + problem);
    assertTrue(problem.getJsonArray("errors").stream().map(JsonObject.class::cast)
        .anyMatch(e -> field.equals(e.getString("field"))), () -> "an error for '" + field + "' expected: " + problem);
  }
}
