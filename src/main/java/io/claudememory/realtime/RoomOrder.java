package io.claudememory.realtime;

import io.micrometer.core.instrument.Counter;
import io.vertx.core.json.JsonObject;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.BiConsumer;

/**
 * Puts one room's persisted events back in seq order on one event loop, before any socket sees them. Messages are
 * published after their transaction commits and the commits of one conversation are serialized, but two publications
 * can still arrive swapped (published from different event loops, or relayed from different nodes). Left to the
 * sockets, every member of a large room would see the gap and read the database on its own; here an early event waits
 * up to {@link #HOLD_MS} for those before it, and only a gap that does not close by itself is read, once for the room.
 * Confined to the hub's event loop.
 */
final class RoomOrder {
  /** How long an early event waits for the ones before it; a swap closes in well under a millisecond. */
  static final long HOLD_MS = 200;
  /** Held events beyond which the gap is read at once. */
  static final int HOLD_MAX = 1_000;

  private record Held(JsonObject envelope, String text) {}

  private final SocketHub hub;
  private final RoomGrant grant;
  private final BiConsumer<JsonObject, String> members;
  private final Counter filled;
  private final TreeMap<Long, Held> early = new TreeMap<>();
  /** The highest seq passed on, -1 before the first. */
  private long passed = -1;
  private long timer = -1;
  private boolean filling;

  RoomOrder(SocketHub hub, RoomGrant grant, BiConsumer<JsonObject, String> members) {
    this.hub = hub;
    this.grant = grant;
    this.members = members;
    this.filled = hub.rt.metrics.replayed;
  }

  /** The room's newest seq read from the database by a joiner: a start for the order when none is known yet. */
  void knownUpTo(long seq) {
    if (passed < 0) {
      passed = seq;
    }
  }

  /** A live event of the room. Events without a seq (typing, deltas, presence) are never held. */
  void accept(JsonObject envelope, String text) {
    Long seq = envelope.getLong("seq");
    if (seq == null || passed < 0 || seq <= passed + 1) {
      pass(envelope, text);
      release();
      return;
    }
    early.put(seq, new Held(envelope, text));
    if (early.size() > HOLD_MAX) {
      fill();
    } else {
      waitForGap();
    }
  }

  private void waitForGap() {
    if (timer < 0 && !filling) {
      timer = hub.vertx().setTimer(HOLD_MS, id -> {
        timer = -1;
        fill();
      });
    }
  }

  void close() {
    cancelTimer();
    early.clear();
  }

  private void pass(JsonObject envelope, String text) {
    Long seq = envelope.getLong("seq");
    if (seq != null) {
      passed = Math.max(passed, seq);
    }
    members.accept(envelope, text);
  }

  /** Passes the held events that are next in order. */
  private void release() {
    while (!early.isEmpty() && early.firstKey() <= passed + 1) {
      Held next = early.pollFirstEntry().getValue();
      pass(next.envelope(), next.text());
    }
    if (early.isEmpty()) {
      cancelTimer();
    }
  }

  /**
   * The gap did not close by itself (an event lost on the way): reads it once from the database and passes it with
   * the held events, in order. What the database cannot give stays a gap, which each socket then handles itself;
   * events held meanwhile beyond what was read wait for their own gap.
   */
  private void fill() {
    cancelTimer();
    if (filling || early.isEmpty()) {
      return;
    }
    filling = true;
    long upTo = early.lastKey();
    int limit = (int) Math.min(HOLD_MAX + 1L, upTo - passed);
    hub.here(hub.rt.history.after(grant, passed, limit)).onComplete(read -> {
      filling = false;
      for (JsonObject message : read.succeeded() ? read.result() : List.<JsonObject>of()) {
        long seq = message.getLong("seq");
        if (seq <= passed) {
          continue;
        }
        Held live = early.remove(seq);
        if (live != null) {
          pass(live.envelope(), live.text());
        } else {
          JsonObject frame = Frames.frame(Frames.MESSAGE_CREATED,
              Frames.messageCreated(grant.conversation().toString(), message));
          pass(new JsonObject().put("frame", frame).put("seq", seq), frame.encode());
          filled.increment();
        }
      }
      while (!early.isEmpty() && early.firstKey() <= upTo) {
        Map.Entry<Long, Held> next = early.pollFirstEntry();
        pass(next.getValue().envelope(), next.getValue().text());
      }
      release();
      if (!early.isEmpty()) {
        waitForGap();
      }
    });
  }

  private void cancelTimer() {
    if (timer >= 0) {
      hub.vertx().cancelTimer(timer);
      timer = -1;
    }
  }
}
