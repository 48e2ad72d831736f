package io.claudememory.claude;

import java.util.concurrent.ThreadLocalRandom;

/**
 * When a failed upstream request is tried again, after how long (protocols.md §1.5, modelled on the official SDK):
 * only before any text was passed on; an {@code x-should-retry} header decides when present; else 408, 409, 429,
 * 5xx, 529 and in-stream {@code overloaded_error}/{@code api_error} are retried, at most {@code maxRetries} times.
 * The delay is {@code retry-after-ms}/{@code retry-after} when given (a wait longer than {@code maxRetryAfterMs} is
 * not worth holding a generation for: no retry), else exponential backoff with full jitter, capped. A spend-cap 429
 * ({@code enforced_spend_limit_reached}, which has no {@code retry-after}) is never retried: it will not pass.
 */
public record RetryPolicy(int maxRetries, long baseMs, long maxMs, long maxRetryAfterMs) {

  /** The delay before attempt {@code attempt + 1}, or -1 when {@code failure} must not be retried. */
  public long delayMs(UpstreamFailure failure, int attempt) {
    if (failure.partial() || attempt >= maxRetries || "spend_limit".equals(failure.code())) {
      return -1;
    }
    boolean retryable = failure.shouldRetry() != null ? failure.shouldRetry() : retryableStatus(failure);
    if (!retryable) {
      return -1;
    }
    if (failure.retryAfterMs() != null) {
      return failure.retryAfterMs() <= maxRetryAfterMs ? Math.max(0, failure.retryAfterMs()) : -1;
    }
    long ceiling = Math.min(maxMs, baseMs << Math.min(attempt, 20));
    return ThreadLocalRandom.current().nextLong(ceiling / 2, ceiling + 1);
  }

  private static boolean retryableStatus(UpstreamFailure failure) {
    int status = failure.status();
    if (status == 200) {
      return "overloaded".equals(failure.code()) || "upstream_error".equals(failure.code());
    }
    return status == 408 || status == 409 || status == 429 || status >= 500 || status == 0;
  }
}
