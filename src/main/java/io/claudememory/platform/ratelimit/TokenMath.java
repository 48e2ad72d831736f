package io.claudememory.platform.ratelimit;

/** The token-bucket arithmetic, shared by the local store; {@code token-bucket.lua} does the same in Redis. */
final class TokenMath {
  private TokenMath() {}

  static double refill(double tokens, long updatedAt, long now, Bucket bucket) {
    if (now <= updatedAt) {
      return tokens;
    }
    return Math.min(bucket.capacity(), tokens + (now - updatedAt) * bucket.refillPerMilli());
  }

  static long millisUntilFull(double tokens, Bucket bucket) {
    return (long) Math.ceil((bucket.capacity() - tokens) / bucket.refillPerMilli());
  }

  static Decision.State state(Bucket bucket, double tokens) {
    long retryMillis = tokens >= 1 ? 0 : (long) Math.ceil((1 - tokens) / bucket.refillPerMilli());
    return new Decision.State(bucket, (long) Math.floor(tokens), ceilSeconds(millisUntilFull(tokens, bucket)),
        ceilSeconds(retryMillis));
  }

  static long ceilSeconds(long millis) {
    return (millis + 999) / 1000;
  }
}
