package io.claudememory.platform.ratelimit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

@DisplayName("In-process token buckets: exact arithmetic, all-or-nothing checks, bounded memory")
class LocalBucketStoreTest {
  final AtomicLong clock = new AtomicLong(1_000_000);
  final LocalBucketStore store = new LocalBucketStore(null, 100, clock::get);

  static Bucket bucket(String key, int capacity, long windowMillis) {
    return new Bucket("test", "test:" + key, capacity, windowMillis);
  }

  @Test
  @DisplayName("a bucket gives its capacity, refuses the next, and refills evenly over its window")
  void refill() {
    Bucket b = bucket("a", 2, 1000);
    assertTrue(store.takeNow(List.of(b)).allowed());
    Decision second = store.takeNow(List.of(b));
    assertTrue(second.allowed());
    assertEquals(0, second.states().get(0).remaining());
    Decision refused = store.takeNow(List.of(b));
    assertFalse(refused.allowed());
    assertEquals(1, refused.states().get(0).retryAfterSeconds(), "one token is back within 500 ms: 1 s rounded up");
    clock.addAndGet(499);
    assertFalse(store.takeNow(List.of(b)).allowed(), "499 ms give back less than one token");
    clock.addAndGet(1);
    assertTrue(store.takeNow(List.of(b)).allowed(), "500 ms give back one token");
  }

  @Test
  @DisplayName("several buckets are taken from together or not at all")
  void allOrNothing() {
    Bucket wide = bucket("wide", 10, 60_000);
    Bucket narrow = bucket("narrow", 1, 60_000);
    assertTrue(store.takeNow(List.of(wide, narrow)).allowed());
    Decision refused = store.takeNow(List.of(wide, narrow));
    assertFalse(refused.allowed());
    assertEquals(narrow, refused.tightest().bucket(), "the refusing bucket is the one reported");
    assertEquals(9, refused.states().get(0).remaining(), "a refused check takes nothing from the other bucket");
  }

  @Test
  @DisplayName("full buckets are forgotten, and the number kept never passes the bound")
  void boundedMemory() {
    for (int i = 0; i < 1000; i++) {
      store.takeNow(List.of(bucket("client-" + i, 5, 10_000)));
    }
    assertTrue(store.size() <= 100, "at most maxBuckets kept, was " + store.size());
    clock.addAndGet(10_000);
    store.sweep();
    assertEquals(0, store.size(), "refilled buckets carry no information and are dropped");
  }
}
