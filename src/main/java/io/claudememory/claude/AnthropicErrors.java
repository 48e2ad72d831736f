package io.claudememory.claude;

import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClientResponse;
import io.vertx.core.json.JsonObject;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;

/** Turns the API's error answers (protocols.md §1.5) into {@link UpstreamFailure}s. */
final class AnthropicErrors {
  private AnthropicErrors() {}

  static UpstreamFailure fromResponse(HttpClientResponse response, Buffer body) {
    JsonObject error = errorOf(body);
    String type = error.getString("type", "");
    JsonObject details = error.getJsonObject("details", new JsonObject());
    int status = response.statusCode();
    String code;
    if (status == 429 && "enforced_spend_limit_reached".equals(details.getString("error_code"))) {
      code = "spend_limit";
    } else if (status == 429) {
      code = "rate_limited";
    } else if (status == 529 || "overloaded_error".equals(type)) {
      code = "overloaded";
    } else {
      code = "upstream_error";
    }
    String should = response.getHeader("x-should-retry");
    Boolean shouldRetry = should == null ? null : Boolean.valueOf(should.trim());
    String message = error.getString("message", "HTTP " + status);
    return new UpstreamFailure(code, "Claude answered " + status + (type.isEmpty() ? "" : " " + type) + ": "
        + message, status, retryAfterMs(response), shouldRetry, false, null);
  }

  static UpstreamFailure fromEvent(JsonObject event) {
    JsonObject error = event.getJsonObject("error", new JsonObject());
    String type = error.getString("type", "");
    String code = "overloaded_error".equals(type) ? "overloaded" : "api_error".equals(type) ? "upstream_error"
        : "stream_error";
    return UpstreamFailure.of(code, "Claude reported " + type + " during the answer: " + error.getString("message",
        ""), 200);
  }

  private static JsonObject errorOf(Buffer body) {
    try {
      JsonObject json = body.toJsonObject();
      JsonObject error = json.getJsonObject("error");
      return error == null ? new JsonObject() : error;
    } catch (RuntimeException e) {
      return new JsonObject();
    }
  }

  /** {@code retry-after-ms}, else {@code retry-after} in seconds or as an HTTP date; null when absent or unreadable. */
  static Long retryAfterMs(HttpClientResponse response) {
    String ms = response.getHeader("retry-after-ms");
    if (ms != null) {
      try {
        return (long) Double.parseDouble(ms.trim());
      } catch (NumberFormatException ignored) {
        // fall through to retry-after
      }
    }
    String after = response.getHeader("retry-after");
    if (after == null) {
      return null;
    }
    try {
      return (long) (Double.parseDouble(after.trim()) * 1000);
    } catch (NumberFormatException e) {
      try {
        ZonedDateTime at = ZonedDateTime.parse(after.trim(), DateTimeFormatter.RFC_1123_DATE_TIME);
        return Math.max(0, at.toInstant().toEpochMilli() - System.currentTimeMillis());
      } catch (RuntimeException unreadable) {
        return null;
      }
    }
  }
}
