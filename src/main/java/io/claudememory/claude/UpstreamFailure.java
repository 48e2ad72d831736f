package io.claudememory.claude;

import io.vertx.core.json.JsonObject;

/**
 * Why an upstream answer failed. {@code code} is what clients see in {@code assistant.error} ({@code rate_limited},
 * {@code spend_limit}, {@code overloaded}, {@code upstream_error}, {@code stream_error}, {@code dropped},
 * {@code stalled}); {@code status} is the HTTP status (200 for an {@code error} event after the stream began, 0 when
 * no response came); {@code retryAfterMs} comes from {@code retry-after-ms}/{@code retry-after}; {@code partial}
 * says whether text had already been passed on (then it is never retried); {@code usage} is what was known.
 */
public record UpstreamFailure(String code, String reason, int status, Long retryAfterMs, Boolean shouldRetry,
    boolean partial, JsonObject usage) {

  public UpstreamFailure withPartial(boolean value, JsonObject knownUsage) {
    return new UpstreamFailure(code, reason, status, retryAfterMs, shouldRetry, value, knownUsage);
  }

  static UpstreamFailure of(String code, String reason, int status) {
    return new UpstreamFailure(code, reason, status, null, null, false, null);
  }
}
