package io.claudememory.claude;

import io.claudememory.platform.EventAddresses;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.MessageConsumer;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;

/**
 * Streams one answer as {@code text/event-stream} on an HTTP response (the {@code Accept: text/event-stream} form of
 * sending a message): {@code event: assistant.delta}, then {@code assistant.done} or {@code assistant.error}, then
 * the response ends. Each {@code data:} is the room event's JSON.
 *
 * <p>No gap, no duplicate: the writer subscribes to the room first, then writes the text so far as one delta (with the
 * snapshot's index), and afterwards only deltas with a greater index. A comment line every 15 s keeps proxies from
 * closing a quiet stream. When the client goes away the subscription ends (the answer goes on).
 */
public final class SseWriter {
  private static final long KEEPALIVE_MS = 15_000;
  private static final long LINGER_MS = 1000;

  private SseWriter() {}

  /** Headers of an event stream; call before the first {@link #event}. */
  public static void begin(HttpServerResponse response) {
    if (!response.headWritten()) {
      response.setStatusCode(200).setChunked(true).putHeader("Content-Type", "text/event-stream; charset=utf-8")
          .putHeader("Cache-Control", "no-cache").putHeader("X-Accel-Buffering", "no");
    }
  }

  /** Writes one event. */
  public static void event(HttpServerResponse response, String type, JsonObject data) {
    response.write("event: " + type + "\ndata: " + data.encode() + "\n\n");
  }

  /** Streams the answer {@code assistantMessageId} of {@code conversationId} until it is over, then ends. */
  public static void stream(Vertx vertx, HttpServerResponse response, Generations generations, UUID tenant,
      UUID conversationId, UUID assistantMessageId) {
    begin(response);
    String messageId = assistantMessageId.toString();
    List<JsonObject> early = new ArrayList<>();
    int[] sent = {Integer.MIN_VALUE};
    boolean[] live = {false};
    MessageConsumer<JsonObject> consumer = vertx.eventBus().consumer(EventAddresses.room(tenant, conversationId));
    long keepalive = vertx.setPeriodic(KEEPALIVE_MS, t -> {
      if (!response.ended()) {
        response.write(": keepalive\n\n");
      }
    });
    // The room's events keep coming after this answer's end (its message.created, other answers): unregistering
    // at once would make the event bus warn about each message already on its way, so the consumer lingers a moment.
    boolean[] closed = {false};
    Runnable close = () -> {
      if (!closed[0]) {
        closed[0] = true;
        vertx.cancelTimer(keepalive);
        vertx.setTimer(LINGER_MS, t -> consumer.unregister());
      }
    };
    response.closeHandler(v -> close.run());
    consumer.handler(message -> {
      JsonObject event = io.claudememory.realtime.RoomEvents.flatten(message.body());
      if (closed[0]) {
        return;
      }
      if (!messageId.equals(event.getString("message_id"))) {
        return;
      }
      if (!live[0]) {
        early.add(event);
      } else {
        forward(response, event, sent, close);
      }
    });
    consumer.completion().onComplete(registered -> {
      StreamSnapshot snapshot = generations.localSnapshot(assistantMessageId);
      if (snapshot != null) {
        if (!snapshot.text().isEmpty()) {
          event(response, "assistant.delta", new JsonObject().put("type", "assistant.delta")
              .put("room_id", conversationId.toString()).put("message_id", messageId)
              .put("index", snapshot.index()).put("text", snapshot.text()));
        }
        sent[0] = snapshot.index();
      } else {
        JsonObject finished = generations.recentlyFinished(assistantMessageId);
        if (finished != null && early.isEmpty()) {
          String type = finished.isEmpty() ? "assistant.error" : "assistant.done";
          forward(response, new JsonObject().put("type", type).put("room_id", conversationId.toString())
              .put("message_id", messageId).put("message", finished.isEmpty() ? null : finished), sent, close);
          return;
        }
      }
      live[0] = true;
      early.forEach(event -> forward(response, event, sent, close));
      early.clear();
    });
  }

  private static void forward(HttpServerResponse response, JsonObject event, int[] sent, Runnable close) {
    if (response.ended()) {
      return;
    }
    String type = event.getString("type");
    if ("assistant.delta".equals(type)) {
      int index = event.getInteger("index");
      if (index <= sent[0]) {
        return;
      }
      sent[0] = index;
      event(response, type, event);
    } else if ("assistant.done".equals(type) || "assistant.error".equals(type)) {
      event(response, type, event);
      close.run();
      response.end();
    }
  }
}
