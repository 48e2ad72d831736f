package io.claudememory.fuzz;

import io.claudememory.support.ApiClient;
import io.claudememory.support.ApiClient.Reply;
import io.claudememory.support.WsClient;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.Set;

/**
 * Fuzzes the WebSocket protocol (DESIGN.md section 8, README "Real-time rooms"): malformed JSON, unknown and
 * mistyped frames, each client frame with every field broken, oversized and binary frames. Every frame the server
 * sends back must be one the README lists (an {@code error} with a listed code, an {@code ack}, ...); after a
 * recoverable error the socket must still answer a {@code ping}; where the protocol closes the socket, the close code
 * must be a listed one. Results go to the {@link FuzzSummary}.
 */
final class WsFuzzer {
  static final Set<String> SERVER_TYPES = Set.of("ready", "joined", "left", "message.created", "assistant.delta",
      "assistant.done", "assistant.error", "typing", "presence", "notification", "ack", "error", "pong");
  static final Set<String> ERROR_CODES = Set.of("bad_frame", "unknown_type", "frame_too_large", "unauthenticated",
      "invalid", "room_not_found", "not_joined", "forbidden", "too_many_rooms", "rate_limited", "unavailable");
  private static final long ANSWER_MS = 10_000;
  private final Vertx vertx;
  private final int port;
  private final ApiClient api;
  private final Fixtures fx;
  private final FuzzSummary summary;
  private final Random rng;
  private int probes;

  /**
   * A frame to send; {@code expected} is the error code it must get (null: any documented answer will do). A frame
   * too large to be read gets its error without its id, so only {@code readable} frames must have theirs echoed.
   */
  private record WsCase(String label, Object frame, String expected, boolean readable) {
    WsCase(String label, Object frame, String expected) {
      this(label, frame, expected, true);
    }
  }

  WsFuzzer(Vertx vertx, ApiClient api, Fixtures fx, FuzzSummary summary, Random rng) {
    this.vertx = vertx;
    this.api = api.withoutContractCheck(); // /ws is not a REST operation of the document
    this.port = api.port();
    this.fx = fx;
    this.summary = summary;
    this.rng = rng;
  }

  void run() {
    WsClient ws = connect();
    for (WsCase c : cases()) {
      ws = send(ws, c);
    }
    ws.close();
    oversized();
    unauthenticated();
    refusedUpgrades();
  }

  private WsClient connect() {
    WsClient ws = WsClient.connect(vertx, port, fx.owner.accessToken);
    ws.expect("ready");
    return ws;
  }

  /** Sends one case, checks every frame that answers it and that the socket still answers a ping. */
  private WsClient send(WsClient ws, WsCase c) {
    String fuzzId = c.readable() && c.frame() instanceof String text ? idOf(text) : null;
    if (c.frame() instanceof Buffer bytes) {
      ws.sendBinary(bytes);
    } else {
      ws.sendRaw((String) c.frame());
    }
    String probe = "probe-" + (++probes);
    ws.sendRaw(new JsonObject().put("type", "ping").put("id", probe).encode());
    List<String> problems = new ArrayList<>();
    boolean probed = false;
    boolean answered = fuzzId == null;
    String expectedSeen = null;
    long deadline = System.currentTimeMillis() + ANSWER_MS;
    while ((!probed || !answered) && System.currentTimeMillis() < deadline && !ws.isClosed()) {
      JsonObject frame = ws.next(Math.max(1, deadline - System.currentTimeMillis()));
      if (frame == null) {
        break;
      }
      String problem = undocumented(frame);
      if (problem != null) {
        problems.add(problem);
      }
      JsonObject data = frame.getValue("data") instanceof JsonObject d ? d : new JsonObject();
      Object id = data.getValue("id");
      probed |= probe.equals(id);
      answered |= fuzzId != null && fuzzId.equals(String.valueOf(id));
      if ("error".equals(frame.getString("type")) && (id == null || !probe.equals(id))) {
        expectedSeen = expectedSeen == null ? data.getString("code") : expectedSeen;
      }
    }
    if (ws.isClosed()) {
      problems.add("the socket was closed (" + ws.closeCode() + ") after a recoverable frame");
      ws.close();
      ws = connect();
    } else if (!probed) {
      problems.add("no answer to a ping within " + ANSWER_MS + " ms after it (the socket is stuck)");
    } else if (!answered) {
      problems.add("the frame's id " + fuzzId + " got neither an ack nor an error");
    }
    if (c.expected() != null && !c.expected().equals(expectedSeen) && !"rate_limited".equals(expectedSeen)) {
      problems.add("expected error " + c.expected() + ", got " + expectedSeen);
    }
    summary.ws(c.label(), problems.isEmpty() ? null : String.join("; ", problems));
    return ws;
  }

  /** Null when the frame is one the README documents, else what is wrong with it. */
  static String undocumented(JsonObject frame) {
    String type = frame.getValue("type") instanceof String t ? t : null;
    if (type == null || !SERVER_TYPES.contains(type)) {
      return "a frame of undocumented type: " + FuzzCase.abbreviate(frame.encode(), 300);
    }
    if (!(frame.getValue("data") instanceof JsonObject data)) {
      return "a frame without a data object: " + FuzzCase.abbreviate(frame.encode(), 300);
    }
    if (type.equals("error") && (!ERROR_CODES.contains(String.valueOf(data.getValue("code")))
        || !(data.getValue("message") instanceof String))) {
      return "an error frame with an undocumented code or no message: " + FuzzCase.abbreviate(frame.encode(), 300);
    }
    return null;
  }

  private static String idOf(String text) {
    try {
      Object id = new JsonObject(text).getValue("id");
      return id instanceof String || id instanceof Number ? String.valueOf(id) : null;
    } catch (RuntimeException notAnObject) {
      return null;
    }
  }

  private List<WsCase> cases() {
    List<WsCase> out = new ArrayList<>();
    for (String text : new String[] {"{", "not json", "", "[1,2]", "\"text\"", "42", "null", "true", "{\"type\":",
        "\ufeff{\"type\":\"ping\"}", "{\"type\":\"ping\",\"type\":\"ping\"}", "[".repeat(5000) + "]".repeat(5000)}) {
      out.add(new WsCase("malformed: " + FuzzCase.abbreviate(text, 30), text, null));
    }
    for (Object type : new Object[] {"nope", "", "ACK", "pong", "error", "ready", "x".repeat(5000), "join_room\u0000",
        42, true, null, new JsonObject(), new JsonArray().add("ping")}) {
      out.add(new WsCase("type " + FuzzCase.abbreviate(String.valueOf(type), 30),
          new JsonObject().put("type", type).put("id", "t" + out.size()).put("data", new JsonObject()).encode(), null));
    }
    for (Object id : new Object[] {new JsonObject().put("a", 1), new JsonArray(), "i".repeat(10_000), 1.5, true,
        Long.MAX_VALUE}) {
      out.add(new WsCase("id " + FuzzCase.abbreviate(String.valueOf(id), 30),
          new JsonObject().put("type", "ping").put("id", id).encode(), null));
    }
    for (Object data : new Object[] {new JsonArray(), "text", 7, false}) {
      out.add(new WsCase("data " + data, new JsonObject().put("type", "join_room").put("id", "d" + out.size())
          .put("data", data).encode(), "bad_frame"));
    }
    out.add(new WsCase("authenticate again", frame("authenticate", new JsonObject().put("token", "x")), "invalid"));
    out.add(new WsCase("binary frame", Buffer.buffer(new byte[] {0, 1, 2, (byte) 0xff}), "bad_frame"));
    out.add(new WsCase("frame just over the limit", frame("send_message", new JsonObject()
        .put("room_id", fx.conversationId).put("content", "c".repeat(66_000))), "frame_too_large", false));
    fields(out);
    return out;
  }

  /** Every client frame with each of its fields valid, missing, null, of every wrong type and hostile. */
  private void fields(List<WsCase> out) {
    JsonObject valid = new JsonObject().put("room_id", fx.conversationId).put("since_seq", 0).put("seq", 1)
        .put("content", "hello over the socket").put("client_id", "c-1").put("is_typing", true);
    String[][] frames = {{"join_room", "room_id", "since_seq"}, {"leave_room", "room_id"},
        {"typing", "room_id", "is_typing"}, {"send_message", "room_id", "content", "client_id"}, {"cancel", "room_id"},
        {"mark_read", "room_id", "seq"}};
    List<Object> hostile = new ArrayList<>(List.of(-1, 1.5, "1", Long.MAX_VALUE, new FuzzJson.Raw("1e400"),
        new FuzzJson.Raw("9223372036854775808"), "", "   ", "not-a-uuid", fx.strangerConversationId,
        "00000000-0000-0000-0000-000000000000", new JsonArray(), new JsonObject(), true, "x".repeat(300)));
    Hostile.STRINGS.forEach(v -> hostile.add(v.value()));
    for (String[] spec : frames) {
      String type = spec[0];
      JsonObject base = new JsonObject();
      for (int i = 1; i < spec.length; i++) {
        base.put(spec[i], valid.getValue(spec[i]));
      }
      out.add(new WsCase(type + " valid", frame(type, base), null));
      for (int i = 1; i < spec.length; i++) {
        String field = spec[i];
        JsonObject missing = base.copy();
        missing.remove(field);
        out.add(new WsCase(type + " without " + field, frame(type, missing), null));
        out.add(new WsCase(type + " " + field + " null", frame(type, base.copy().putNull(field)), null));
        for (Object value : hostile) {
          if (rng.nextInt(3) == 0) {
            continue; // a third left out each run: the seed decides which
          }
          java.util.Map<String, Object> fields = new java.util.LinkedHashMap<>(base.getMap());
          fields.put(field, value);
          out.add(new WsCase(type + " " + field + "=" + FuzzCase.abbreviate(String.valueOf(value), 30),
              FuzzJson.encode(java.util.Map.of("type", type, "id", "f" + out.size(), "data", fields)), null));
        }
      }
    }
  }

  private String frame(String type, JsonObject data) {
    return FuzzJson.encode(new JsonObject().put("type", type).put("id", "f" + rng.nextInt(1_000_000))
        .put("data", data));
  }

  /** Past 4x the frame limit the transport drops the connection: documented as 1006. The node must live on. */
  private void oversized() {
    WsClient ws = connect();
    ws.sendRaw(frame("send_message", new JsonObject().put("room_id", fx.conversationId)
        .put("content", "o".repeat(300_000))));
    short code = ws.closeCode();
    summary.ws("frame past the transport's cap", code == 1006 ? null
        : "closed with " + code + ", but the README documents 1006 for a frame over 4x the limit");
    ws.close();
    WsClient again = connect();
    again.close();
  }

  /** Before authenticating only ping and authenticate work; a bad credential closes with 4401. */
  private void unauthenticated() {
    WsClient ws = WsClient.connect(vertx, port, null);
    ws.sendRaw(frame("join_room", new JsonObject().put("room_id", fx.conversationId)));
    JsonObject refused = ws.next(ANSWER_MS);
    summary.ws("join before authenticating", refused != null && "error".equals(refused.getString("type"))
        && "unauthenticated".equals(refused.getJsonObject("data").getString("code")) ? null
        : "expected error unauthenticated, got " + refused);
    for (Object token : new Object[] {"garbage", 42, null, "x".repeat(5000), fx.owner.refreshToken}) {
      WsClient bad = WsClient.connect(vertx, port, null);
      bad.sendRaw(FuzzJson.encode(new JsonObject().put("type", "authenticate").put("id", "a")
          .put("data", new JsonObject().put("token", token))));
      short code = bad.closeCode();
      summary.ws("authenticate with " + FuzzCase.abbreviate(String.valueOf(token), 20),
          code == 4401 ? null : "closed with " + code + ", documented: 4401");
      bad.close();
    }
    ws.close();
  }

  /**
   * A bad token in the URL is refused with a 401 problem before the upgrade, and a URL that cannot be decoded with a
   * 400 one. Sent as plain HTTP upgrade requests: Vert.x's WebSocket client never completes a connect whose URI it
   * cannot parse itself, so it cannot send these.
   */
  private void refusedUpgrades() {
    String[][] tokens = {{"garbage", "401"}, {"%zz", "400"}, {"%27%20OR%201=1--", "401"}, {"x".repeat(3000), "401"},
        {"%", "400"}, {fx.owner.refreshToken, "401"}};
    for (String[] token : tokens) {
      Reply reply = api.send(api.request(HttpMethod.GET, "/ws?token=" + token[0], null)
          .putHeader("Connection", "Upgrade").putHeader("Upgrade", "websocket")
          .putHeader("Sec-WebSocket-Version", "13").putHeader("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ=="), null);
      boolean problem = String.valueOf(reply.header("Content-Type")).startsWith("application/problem+json");
      summary.ws("upgrade with token " + FuzzCase.abbreviate(token[0], 20),
          token[1].equals(Integer.toString(reply.status())) && problem ? null
              : "expected a " + token[1] + " problem, got " + reply.status() + ": " + reply.body());
    }
  }
}
