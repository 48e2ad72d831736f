package io.claudememory.realtime;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.IntSupplier;

/** The realtime meters of one node (Prometheus names in {@code cmb_ws_*} and {@code cmb_fanout_*}). Thread-safe. */
public final class RealtimeMetrics {
  final AtomicInteger sockets = new AtomicInteger();
  final Counter framesIn;
  final Counter framesOut;
  final Counter replayed;
  final Counter slowClientCloses;
  final Counter heartbeatCloses;
  final Counter fanoutDropped;
  final Counter reconnects;
  final Timer fanoutDelay;
  final AtomicInteger subscriberUp = new AtomicInteger();
  private final AtomicLong pendingBytes = new AtomicLong();
  private final AtomicLong pendingHighWater = new AtomicLong();

  RealtimeMetrics(MeterRegistry registry, IntSupplier rooms) {
    Gauge.builder("cmb_ws_sockets_open", sockets, AtomicInteger::get).description("Open WebSockets")
        .register(registry);
    Gauge.builder("cmb_ws_rooms", rooms::getAsInt).description("Rooms with members on this node").register(registry);
    framesIn = Counter.builder("cmb_ws_frames_in_total").register(registry);
    framesOut = Counter.builder("cmb_ws_frames_out_total").register(registry);
    replayed = Counter.builder("cmb_ws_replayed_events_total")
        .description("Persisted events replayed to resuming or catching-up sockets").register(registry);
    slowClientCloses = Counter.builder("cmb_ws_slow_client_closes_total")
        .description("Sockets closed because their outbound queue stayed over its bound").register(registry);
    heartbeatCloses = Counter.builder("cmb_ws_heartbeat_closes_total")
        .description("Sockets closed because no pong came within the timeout").register(registry);
    Gauge.builder("cmb_ws_outbound_pending_bytes", pendingBytes, AtomicLong::get)
        .description("Bytes held in our own outbound queues while sockets' write queues are full").register(registry);
    Gauge.builder("cmb_ws_outbound_pending_high_water_bytes", pendingHighWater, AtomicLong::get)
        .description("The most bytes one socket's own outbound queue ever held").register(registry);
    fanoutDelay = Timer.builder("cmb_fanout_delay").description("Room event publish (any node) → written to every socket of one event loop")
        .publishPercentiles(0.5, 0.99).register(registry);
    Gauge.builder("cmb_fanout_subscriber_up", subscriberUp, AtomicInteger::get)
        .description("1 while the Redis subscriber connection is up (absent without Redis)").register(registry);
    reconnects = Counter.builder("cmb_fanout_reconnects_total").register(registry);
    fanoutDropped = Counter.builder("cmb_fanout_dropped_total")
        .description("Events not relayed to Redis because the publisher was disconnected").register(registry);
  }

  void pending(long delta, long socketTotal) {
    pendingBytes.addAndGet(delta);
    pendingHighWater.accumulateAndGet(socketTotal, Math::max);
  }

  void delivered(long publishedAtMillis) {
    fanoutDelay.record(Math.max(0, System.currentTimeMillis() - publishedAtMillis), TimeUnit.MILLISECONDS);
  }

  public long pendingHighWater() {
    return pendingHighWater.get();
  }

  public int openSockets() {
    return sockets.get();
  }
}
