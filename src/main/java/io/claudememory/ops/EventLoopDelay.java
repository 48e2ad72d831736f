package io.claudememory.ops;

import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.vertx.core.Context;
import io.vertx.core.Vertx;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicLongArray;

/**
 * Measures how late each event loop runs a timer: a loop that is blocked or saturated fires its 100 ms tick late by
 * as much. Keeps the worst lateness of the last few seconds per loop; exported as a gauge and used by health.
 */
public final class EventLoopDelay {
  private static final long TICK_MS = 100;
  private static final int WINDOW_TICKS = 50;
  private final Vertx vertx;
  private final AtomicLongArray worstNanos;
  private final List<Long> timers = java.util.Collections.synchronizedList(new ArrayList<>());

  public EventLoopDelay(Vertx vertx, int eventLoops, MeterRegistry metrics) {
    this.vertx = vertx;
    this.worstNanos = new AtomicLongArray(eventLoops);
    for (int i = 0; i < eventLoops; i++) {
      int loop = i;
      // From a non-Vert.x thread each call hands out the next event loop, so every loop gets its own probe.
      Context context = vertx.getOrCreateContext();
      context.runOnContext(v -> timers.add(probe(loop)));
    }
    Gauge.builder("cmb_event_loop_delay_seconds", this, d -> d.worstMillis() / 1000.0)
        .description("Worst lateness of an event-loop timer over the last 5 seconds").register(metrics);
  }

  private long probe(int loop) {
    long[] state = {System.nanoTime() + TICK_MS * 1_000_000L, 0, 0};
    return vertx.setPeriodic(TICK_MS, id -> {
      long now = System.nanoTime();
      long late = Math.max(0, now - state[0]);
      state[0] = now + TICK_MS * 1_000_000L;
      state[1] = Math.max(state[1], late);
      if (++state[2] >= WINDOW_TICKS) {
        worstNanos.set(loop, state[1]);
        state[1] = 0;
        state[2] = 0;
      } else if (late > worstNanos.get(loop)) {
        worstNanos.set(loop, late);
      }
    });
  }

  /** The worst lateness seen recently on any loop, in milliseconds. */
  public double worstMillis() {
    long worst = 0;
    for (int i = 0; i < worstNanos.length(); i++) {
      worst = Math.max(worst, worstNanos.get(i));
    }
    return worst / 1_000_000.0;
  }

  public void close() {
    synchronized (timers) {
      timers.forEach(vertx::cancelTimer);
    }
  }
}
