package io.claudememory.platform.ratelimit;

import java.util.List;

/**
 * The outcome of taking one token from each of a request's buckets, all or nothing. {@code states} has one entry per
 * bucket, in the order asked.
 */
public record Decision(boolean allowed, List<State> states) {

  /** What one bucket holds after the decision: whole tokens left, seconds until full, seconds until one is back. */
  public record State(Bucket bucket, long remaining, long resetSeconds, long retryAfterSeconds) {}

  /** The bucket that matters most to the client: the first refusing one, else the one with the fewest tokens. */
  public State tightest() {
    State tightest = null;
    for (State state : states) {
      if (state.retryAfterSeconds() > 0 && !allowed) {
        return state;
      }
      if (tightest == null || state.remaining() < tightest.remaining()) {
        tightest = state;
      }
    }
    return tightest;
  }

  /** A decision that lets the request through without information (Redis failed: fail open). */
  public static Decision open() {
    return new Decision(true, List.of());
  }
}
