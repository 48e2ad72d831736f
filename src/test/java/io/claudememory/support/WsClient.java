package io.claudememory.support;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.ClientWebSocket;
import io.vertx.core.http.WebSocketClient;
import io.vertx.core.http.WebSocketClientOptions;
import io.vertx.core.http.WebSocketConnectOptions;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingDeque;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;

/**
 * A WebSocket test client for {@code /ws}, used from the test thread: frames received are queued and read with
 * bounded waits ({@link #next}, {@link #expect}); nothing sleeps. Frames skipped while looking for another are kept
 * in {@link #seen()} so a test can still assert on them.
 */
public final class WsClient implements AutoCloseable {
  private static final long WAIT_SECONDS = 15;
  private final WebSocketClient client;
  private final ClientWebSocket ws;
  private final LinkedBlockingDeque<JsonObject> frames = new LinkedBlockingDeque<>();
  private final List<JsonObject> seen = new ArrayList<>();
  private final CompletableFuture<Short> closed = new CompletableFuture<>();
  private int nextId;

  private WsClient(Vertx vertx, WebSocketClientOptions options) {
    this.client = vertx.createWebSocketClient(options);
    this.ws = client.webSocket();
    ws.textMessageHandler(text -> frames.add(new JsonObject(text)));
    ws.closeHandler(v -> closed.complete(ws.closeStatusCode() == null ? (short) 1006 : ws.closeStatusCode()));
    ws.exceptionHandler(err -> { });
  }

  /** Connects with {@code ?token=} (none when null) and waits for the upgrade; fails when it is refused. */
  public static WsClient connect(Vertx vertx, int port, String token) {
    return open(vertx, port, token == null ? "/ws" : "/ws?token=" + token, List.of(), new WebSocketClientOptions());
  }

  /** Connects offering {@code Sec-WebSocket-Protocol: bearer, <token>}. */
  public static WsClient connectWithSubprotocol(Vertx vertx, int port, String token) {
    return open(vertx, port, "/ws", List.of("bearer", token), new WebSocketClientOptions());
  }

  /** Connects with a small receive buffer, for slow-reader tests. */
  public static WsClient connect(Vertx vertx, int port, String token, WebSocketClientOptions options) {
    return open(vertx, port, "/ws?token=" + token, List.of(), options);
  }

  /** Attempts a connection and answers how it ended: the upgrade's failure, or null when it succeeded. */
  public static Throwable refusal(Vertx vertx, int port, String uri) {
    WsClient c = new WsClient(vertx, new WebSocketClientOptions());
    try {
      c.ws.connect(new WebSocketConnectOptions().setHost("127.0.0.1").setPort(port).setURI(uri))
          .await(WAIT_SECONDS, TimeUnit.SECONDS);
      c.close();
      return null;
    } catch (Exception e) {
      return e;
    }
  }

  private static WsClient open(Vertx vertx, int port, String uri, List<String> protocols,
      WebSocketClientOptions options) {
    WsClient c = new WsClient(vertx, options.setMaxFrameSize(1 << 20).setMaxMessageSize(1 << 22));
    WebSocketConnectOptions connect = new WebSocketConnectOptions().setHost("127.0.0.1").setPort(port).setURI(uri);
    protocols.forEach(connect::addSubProtocol);
    try {
      c.ws.connect(connect).await(WAIT_SECONDS, TimeUnit.SECONDS);
    } catch (Exception e) {
      throw new IllegalStateException("WebSocket upgrade to " + uri.replaceAll("token=.*", "token=***")
          + " failed: " + e.getMessage(), e);
    }
    return c;
  }

  /** Sends a frame {type, id, data}; answers the id it used. */
  public String send(String type, JsonObject data) {
    String id = "c" + (++nextId);
    sendRaw(new JsonObject().put("type", type).put("id", id).put("data", data).encode());
    return id;
  }

  public void sendRaw(String text) {
    await(ws.writeTextMessage(text));
  }

  public void sendBinary(Buffer bytes) {
    await(ws.writeBinaryMessage(bytes));
  }

  /** The next frame, whatever it is. */
  public JsonObject next() {
    return poll(WAIT_SECONDS, TimeUnit.SECONDS);
  }

  /** The next frame, or null when none comes within {@code millis}. */
  public JsonObject next(long millis) {
    return poll(millis, TimeUnit.MILLISECONDS);
  }

  /**
   * The first frame of {@code type}, from those skipped earlier or arriving now; frames skipped while looking stay in
   * {@link #seen()} (in arrival order) for later expectations and assertions.
   */
  public JsonObject expect(String type) {
    return expect(f -> type.equals(f.getString("type")), "a frame of type " + type);
  }

  /** The ack or error answering the frame with {@code id}. */
  public JsonObject answer(String id) {
    return expect(f -> ("ack".equals(f.getString("type")) || "error".equals(f.getString("type")))
        && id.equals(f.getJsonObject("data").getString("id")), "the answer to frame " + id);
  }

  public JsonObject expect(Predicate<JsonObject> wanted, String what) {
    for (int i = 0; i < seen.size(); i++) {
      if (wanted.test(seen.get(i))) {
        return seen.remove(i);
      }
    }
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(WAIT_SECONDS);
    while (true) {
      long left = deadline - System.nanoTime();
      JsonObject frame = left <= 0 ? null : poll(left, TimeUnit.NANOSECONDS);
      if (frame == null) {
        throw new AssertionError("expected " + what + " within " + WAIT_SECONDS + " s; saw " + seen);
      }
      if (wanted.test(frame)) {
        return frame;
      }
      seen.add(frame);
    }
  }

  /** Asserts nothing matching arrives within {@code millis} (used only after a later frame proved delivery order). */
  public List<JsonObject> drain(long millis) {
    List<JsonObject> out = new ArrayList<>();
    long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(millis);
    while (true) {
      long left = deadline - System.nanoTime();
      JsonObject frame = left <= 0 ? frames.poll() : poll(left, TimeUnit.NANOSECONDS);
      if (frame == null) {
        return out;
      }
      out.add(frame);
    }
  }

  private JsonObject poll(long amount, TimeUnit unit) {
    try {
      return frames.poll(amount, unit);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  public List<JsonObject> seen() {
    return seen;
  }

  /** Waits for the server to close the socket and answers the close code. */
  public short closeCode() {
    try {
      return closed.get(WAIT_SECONDS, TimeUnit.SECONDS);
    } catch (Exception e) {
      throw new AssertionError("the socket was not closed within " + WAIT_SECONDS + " s");
    }
  }

  public boolean isClosed() {
    return closed.isDone();
  }

  public String subProtocol() {
    return ws.subProtocol();
  }

  /** Stops reading from the network: the server's writes pile up on its side. */
  public void pause() {
    ws.pause();
  }

  public void resume() {
    ws.resume();
  }

  @Override
  public void close() {
    try {
      if (!ws.isClosed()) {
        ws.close().await(5, TimeUnit.SECONDS);
      }
    } catch (Exception ignored) {
      // already closed by the server
    }
    client.close();
  }

  private static <T> T await(Future<T> future) {
    try {
      return future.await(WAIT_SECONDS, TimeUnit.SECONDS);
    } catch (Exception e) {
      throw new IllegalStateException(e.getMessage(), e);
    }
  }
}
