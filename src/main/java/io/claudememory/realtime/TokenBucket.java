package io.claudememory.realtime;

/** A per-socket rate limit: {@code perSecond} tokens refilled continuously, bursts up to one second's worth. */
final class TokenBucket {
  private final double perNano;
  private final double capacity;
  private double tokens;
  private long last = System.nanoTime();

  TokenBucket(int perSecond) {
    this.capacity = perSecond;
    this.tokens = perSecond;
    this.perNano = perSecond / 1e9;
  }

  boolean tryTake() {
    long now = System.nanoTime();
    tokens = Math.min(capacity, tokens + (now - last) * perNano);
    last = now;
    if (tokens >= 1) {
      tokens -= 1;
      return true;
    }
    return false;
  }
}
