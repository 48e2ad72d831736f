package io.claudememory.realtime;

import io.claudememory.platform.http.Principal;
import io.vertx.core.Future;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.ServerWebSocket;
import io.vertx.core.json.JsonObject;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.HashMap;
import java.util.Map;
import java.util.UUID;

/**
 * One WebSocket: its authentication, rooms, rate limits, heartbeat and outbound queue. Confined to its event loop.
 *
 * <p>Slow readers: frames go straight to the socket while its transport queue has room (bounded at half of
 * {@code outboundQueueBytes}). While it is full they wait in our own queue, where consecutive {@code assistant.delta}
 * frames of one answer are merged into one (carrying the index of the last delta merged); when our queue passes the
 * other half, the socket is closed with 4008. So a reader that stops reading costs at most
 * {@code outboundQueueBytes} (plus one frame) of server memory.
 */
final class Session {
  final String id = UUID.randomUUID().toString();
  final SocketHub hub;
  final ServerWebSocket ws;
  final Map<UUID, Membership> rooms = new HashMap<>();
  private final Inbound inbound;
  private final ArrayDeque<Pending> pending = new ArrayDeque<>();
  private final int pendingCap;
  private long pendingBytes;
  Principal principal;
  /** What the socket authenticated with, checked again when the user's account or sign-ins change. */
  String credential;
  boolean closed;
  long lastHeard = System.nanoTime();
  long pingSentAt;
  boolean awaitingPong;
  private long authTimer = -1;

  /** A frame waiting for the transport; a delta keeps its data so later deltas can be merged into it. */
  private static final class Pending {
    String text;
    JsonObject delta;
    long bytes;
  }

  Session(SocketHub hub, ServerWebSocket ws) {
    this.hub = hub;
    this.ws = ws;
    this.inbound = new Inbound(this);
    int bound = hub.rt.settings.outboundQueueBytes();
    this.pendingCap = bound / 2;
    ws.setWriteQueueMaxSize(bound - pendingCap);
  }

  /** {@code authenticated} and the {@code credential} it came from, or both null until an authenticate frame. */
  void start(Principal authenticated, String credential) {
    hub.rt.metrics.sockets.incrementAndGet();
    ws.textMessageHandler(this::onText);
    ws.binaryMessageHandler(binary -> {
      heard();
      send(Frames.error(Frames.BAD_FRAME, "Frames are JSON text.", null));
    });
    ws.pongHandler(pong -> heard());
    ws.exceptionHandler(err -> { });
    ws.closeHandler(v -> onClosed());
    ws.drainHandler(v -> drain());
    if (authenticated != null) {
      ready(authenticated, credential);
    } else {
      authTimer = hub.vertx().setTimer(hub.rt.settings.authTimeoutMs(), id -> {
        if (principal == null) {
          close(Frames.CLOSE_UNAUTHENTICATED, "authentication timeout");
        }
      });
    }
  }

  void ready(Principal who, String credential) {
    principal = who;
    this.credential = credential;
    if (authTimer >= 0) {
      hub.vertx().cancelTimer(authTimer);
    }
    hub.attachUser(this);
    send(Frames.frame(Frames.READY, new JsonObject().put("user_id", who.userId().toString())
        .put("session_id", id).put("node_id", hub.rt.nodeId)
        .put("heartbeat_ms", hub.rt.settings.pingIntervalMs())
        .put("limits", new JsonObject().put("max_frame_bytes", hub.rt.settings.maxFrameBytes())
            .put("max_rooms", hub.rt.settings.maxRoomsPerSocket())
            .put("typing_per_second", hub.rt.settings.typingPerSecond())
            .put("messages_per_second", hub.rt.settings.messagesPerSecond()))));
  }

  private void onText(String text) {
    heard();
    hub.rt.metrics.framesIn.increment();
    if (closed) {
      return;
    }
    inbound.handle(text);
  }

  void heard() {
    lastHeard = System.nanoTime();
    awaitingPong = false;
  }

  /** Runs {@code future}'s continuation on this socket's event loop, whatever context completes it. */
  <T> Future<T> here(Future<T> future) {
    return hub.here(future);
  }

  void send(JsonObject frame) {
    boolean delta = Frames.ASSISTANT_DELTA.equals(frame.getString("type"));
    write(delta ? null : frame.encode(), delta ? frame.copy() : null);
  }

  /** A room or user event, encoded once for every socket of this event loop. */
  void deliver(String text, JsonObject envelope) {
    if (gone()) {
      return;
    }
    JsonObject frame = envelope.getJsonObject("frame");
    if (Frames.ASSISTANT_DELTA.equals(frame.getString("type")) && (!pending.isEmpty() || ws.writeQueueFull())) {
      write(null, frame.copy());
    } else {
      write(text, null);
    }
  }

  /** Closed by us, or by the peer before our close handler ran (then the socket refuses every call). */
  boolean gone() {
    return closed || ws.isClosed();
  }

  private void write(String text, JsonObject delta) {
    if (gone()) {
      return;
    }
    if (pending.isEmpty() && !ws.writeQueueFull()) {
      ws.writeTextMessage(text != null ? text : delta.encode());
      hub.rt.metrics.framesOut.increment();
      return;
    }
    enqueue(text, delta);
  }

  private void enqueue(String text, JsonObject delta) {
    long bytes;
    Pending last = pending.peekLast();
    if (delta != null && last != null && last.delta != null && continues(last.delta, delta)) {
      JsonObject more = delta.getJsonObject("data");
      String piece = more.getString("text", "");
      JsonObject data = last.delta.getJsonObject("data");
      data.put("text", data.getString("text", "") + piece).put("index", more.getValue("index"));
      bytes = utf8Length(piece);
      last.bytes += bytes;
    } else {
      Pending item = new Pending();
      item.text = text;
      item.delta = delta;
      item.bytes = text != null ? utf8Length(text) : utf8Length(delta.encode());
      bytes = item.bytes;
      pending.add(item);
    }
    pendingBytes += bytes;
    hub.rt.metrics.pending(bytes, pendingBytes);
    if (pendingBytes > pendingCap) {
      hub.rt.metrics.slowClientCloses.increment();
      close(Frames.CLOSE_SLOW_CONSUMER, "slow consumer: outbound queue over its bound");
    }
  }

  private void drain() {
    while (!gone() && !pending.isEmpty() && !ws.writeQueueFull()) {
      Pending item = pending.poll();
      ws.writeTextMessage(item.text != null ? item.text : item.delta.encode());
      hub.rt.metrics.framesOut.increment();
      pendingBytes -= item.bytes;
      hub.rt.metrics.pending(-item.bytes, pendingBytes);
    }
  }

  /**
   * Whether {@code next} carries on the answer of the delta waiting before it, so both make one frame: its text
   * appended, and the index of the last delta it includes (the meaning of a delta's {@code index}). A snapshot is the
   * whole text so far, never a continuation, so it is not merged into what waits before it.
   */
  private static boolean continues(JsonObject waiting, JsonObject next) {
    JsonObject x = waiting.getJsonObject("data");
    JsonObject y = next.getJsonObject("data");
    return !y.getBoolean("snapshot", false)
        && x.getString("room_id", "").equals(y.getString("room_id"))
        && x.getString("message_id", "").equals(y.getString("message_id"));
  }

  static long utf8Length(String text) {
    return text.length() < 1024 ? text.getBytes(StandardCharsets.UTF_8).length
        : Buffer.buffer(text, "UTF-8").length();
  }

  void close(short code, String reason) {
    if (closed) {
      return;
    }
    releasePending();
    closed = true;
    ws.close(code, reason);
  }

  private void releasePending() {
    if (pendingBytes > 0) {
      hub.rt.metrics.pending(-pendingBytes, 0);
    }
    pending.clear();
    pendingBytes = 0;
  }

  private void onClosed() {
    if (!closed) {
      releasePending();
    }
    closed = true;
    if (authTimer >= 0) {
      hub.vertx().cancelTimer(authTimer);
    }
    rooms.values().forEach(hub::leave);
    rooms.clear();
    if (principal != null) {
      hub.detachUser(this);
    }
    hub.forget(this);
    hub.rt.metrics.sockets.decrementAndGet();
  }
}
