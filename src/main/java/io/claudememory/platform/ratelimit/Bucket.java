package io.claudememory.platform.ratelimit;

/**
 * One bucket to take a token from: {@code kind} names the policy (it labels metrics and the RateLimit headers),
 * {@code key} the client or principal it belongs to. It holds {@code capacity} tokens and refills evenly, so that an
 * empty bucket is full again after {@code windowMillis}.
 */
public record Bucket(String kind, String key, int capacity, long windowMillis) {

  /** Tokens regained per millisecond. */
  double refillPerMilli() {
    return (double) capacity / windowMillis;
  }
}
