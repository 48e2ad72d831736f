package io.claudememory.platform.ratelimit;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.LongSupplier;

/**
 * Buckets in this JVM, for a single node. Memory is bounded: a bucket that has refilled completely holds no
 * information and is dropped by a periodic sweep, and when {@code maxBuckets} is reached anyway (many distinct
 * clients at once) the sweep runs early and then drops the oldest-touched buckets beyond the bound.
 *
 * <p>Concurrency: each bucket has a lock; a multi-bucket take locks its buckets in key order, so two requests never
 * wait on each other in opposite orders.
 */
public final class LocalBucketStore implements BucketStore {
  private static final long SWEEP_EVERY_MS = 30_000;
  private final Map<String, State> buckets = new ConcurrentHashMap<>();
  private final int maxBuckets;
  private final LongSupplier clockMillis;
  private final Vertx vertx;
  private final long sweeper;

  private static final class State {
    final ReentrantLock lock = new ReentrantLock();
    double tokens;
    long updatedAt;
    long fullAt;

    State(double tokens, long now) {
      this.tokens = tokens;
      this.updatedAt = now;
      this.fullAt = now;
    }
  }

  public LocalBucketStore(Vertx vertx, int maxBuckets) {
    this(vertx, maxBuckets, System::currentTimeMillis);
  }

  LocalBucketStore(Vertx vertx, int maxBuckets, LongSupplier clockMillis) {
    this.vertx = vertx;
    this.maxBuckets = maxBuckets;
    this.clockMillis = clockMillis;
    this.sweeper = vertx == null ? -1 : vertx.setPeriodic(SWEEP_EVERY_MS, id -> sweep());
  }

  @Override
  public Future<Decision> take(List<Bucket> asked) {
    return Future.succeededFuture(takeNow(asked));
  }

  /** The synchronous core, also used by the benchmark. */
  public Decision takeNow(List<Bucket> asked) {
    long now = clockMillis.getAsLong();
    if (buckets.size() >= maxBuckets) {
      evict(now);
    }
    List<Bucket> ordered = new ArrayList<>(asked);
    ordered.sort(Comparator.comparing(Bucket::key));
    List<State> locked = new ArrayList<>(ordered.size());
    try {
      for (Bucket bucket : ordered) {
        State state = buckets.computeIfAbsent(bucket.key(), k -> new State(bucket.capacity(), now));
        state.lock.lock();
        locked.add(state);
      }
      boolean allowed = true;
      double[] tokens = new double[asked.size()];
      for (int i = 0; i < asked.size(); i++) {
        Bucket bucket = asked.get(i);
        State state = locked.get(ordered.indexOf(bucket));
        tokens[i] = TokenMath.refill(state.tokens, state.updatedAt, now, bucket);
        allowed &= tokens[i] >= 1;
      }
      List<Decision.State> states = new ArrayList<>(asked.size());
      for (int i = 0; i < asked.size(); i++) {
        Bucket bucket = asked.get(i);
        State state = locked.get(ordered.indexOf(bucket));
        state.tokens = allowed ? tokens[i] - 1 : tokens[i];
        state.updatedAt = now;
        state.fullAt = now + TokenMath.millisUntilFull(state.tokens, bucket);
        states.add(TokenMath.state(bucket, state.tokens));
      }
      return new Decision(allowed, states);
    } finally {
      locked.forEach(s -> s.lock.unlock());
    }
  }

  /** Buckets held now (for tests and metrics). */
  public int size() {
    return buckets.size();
  }

  /** Drops every bucket that has refilled completely: forgetting it changes no answer. */
  void sweep() {
    long now = clockMillis.getAsLong();
    buckets.entrySet().removeIf(e -> e.getValue().fullAt <= now && !e.getValue().lock.isLocked());
  }

  private void evict(long now) {
    sweep();
    int excess = buckets.size() - maxBuckets * 9 / 10;
    if (excess <= 0) {
      return;
    }
    // Still too many active clients: forget those seen longest ago (they regain a full bucket, the memory bound holds).
    buckets.entrySet().stream()
        .sorted(Comparator.comparingLong(e -> e.getValue().updatedAt))
        .limit(excess)
        .map(Map.Entry::getKey)
        .toList()
        .forEach(buckets::remove);
  }

  @Override
  public void close() {
    if (vertx != null) {
      vertx.cancelTimer(sweeper);
    }
  }
}
