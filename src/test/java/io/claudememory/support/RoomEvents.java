package io.claudememory.support;

import static org.junit.jupiter.api.Assertions.fail;

import io.claudememory.platform.EventAddresses;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.MessageConsumer;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/** Listens on a conversation's room address, as a WebSocket relay would, and lets a test wait for events. */
public final class RoomEvents implements AutoCloseable {
  private final Vertx vertx;
  private final MessageConsumer<JsonObject> consumer;
  private final LinkedBlockingQueue<JsonObject> queue = new LinkedBlockingQueue<>();
  private final List<JsonObject> seen = new ArrayList<>();

  public RoomEvents(Vertx vertx, UUID tenant, UUID conversation) {
    this.vertx = vertx;
    consumer = vertx.eventBus().consumer(EventAddresses.room(tenant, conversation), m -> queue.add(flat(m.body())));
    try {
      consumer.completion().await(10, TimeUnit.SECONDS);
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }

  /** A room event as {@code {type, ...data}}, from the envelope the node publishes ({@code {frame: {type, data}}}). */
  public static JsonObject flat(JsonObject envelope) {
    return io.claudememory.realtime.RoomEvents.flatten(envelope);
  }

  /** Waits (bounded) for the next event of {@code type}, keeping every event seen on the way. */
  public JsonObject next(String type, long timeoutMs) {
    long deadline = System.currentTimeMillis() + timeoutMs;
    while (true) {
      long left = deadline - System.currentTimeMillis();
      JsonObject event;
      try {
        event = left <= 0 ? null : queue.poll(left, TimeUnit.MILLISECONDS);
      } catch (InterruptedException e) {
        throw new IllegalStateException(e);
      }
      if (event == null) {
        fail("no " + type + " event within " + timeoutMs + " ms; saw " + types());
      }
      seen.add(event);
      if (type.equals(event.getString("type"))) {
        return event;
      }
    }
  }

  /** Waits for the answer's end: {@code assistant.done} or {@code assistant.error}. */
  public JsonObject end(long timeoutMs) {
    long deadline = System.currentTimeMillis() + timeoutMs;
    while (true) {
      JsonObject event;
      try {
        long left = deadline - System.currentTimeMillis();
        event = left <= 0 ? null : queue.poll(left, TimeUnit.MILLISECONDS);
      } catch (InterruptedException e) {
        throw new IllegalStateException(e);
      }
      if (event == null) {
        fail("the answer did not end within " + timeoutMs + " ms; saw " + types());
      }
      seen.add(event);
      String type = event.getString("type");
      if ("assistant.done".equals(type) || "assistant.error".equals(type)) {
        return event;
      }
    }
  }

  /** Every event taken so far, in order. */
  public List<JsonObject> seen() {
    return seen;
  }

  public List<JsonObject> seen(String type) {
    return seen.stream().filter(e -> type.equals(e.getString("type"))).toList();
  }

  public List<String> types() {
    return seen.stream().map(e -> e.getString("type")).toList();
  }

  /** Stops listening; the consumer lingers a moment so events already on their way are not warned about. */
  @Override
  public void close() {
    consumer.handler(m -> { });
    vertx.setTimer(1000, t -> consumer.unregister());
  }
}
