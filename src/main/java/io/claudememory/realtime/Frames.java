package io.claudememory.realtime;

import io.vertx.core.json.JsonObject;

/**
 * The wire vocabulary of {@code /ws} (DESIGN.md section 8): frame types, error codes and close codes. Frames are
 * JSON {@code {"type", "id"?, "data"}}; {@code ack} and {@code error} carry the client frame's id in their data.
 */
final class Frames {
  private Frames() {}

  // client → server
  static final String AUTHENTICATE = "authenticate";
  static final String JOIN_ROOM = "join_room";
  static final String LEAVE_ROOM = "leave_room";
  static final String SEND_MESSAGE = "send_message";
  static final String CANCEL = "cancel";
  static final String MARK_READ = "mark_read";
  static final String PING = "ping";

  // server → client
  static final String READY = "ready";
  static final String JOINED = "joined";
  static final String LEFT = "left";
  static final String MESSAGE_CREATED = "message.created";
  static final String ASSISTANT_DELTA = "assistant.delta";
  static final String ASSISTANT_DONE = "assistant.done";
  static final String ASSISTANT_ERROR = "assistant.error";
  static final String TYPING = "typing";
  static final String PRESENCE = "presence";
  static final String NOTIFICATION = "notification";
  static final String ACK = "ack";
  static final String ERROR = "error";
  static final String PONG = "pong";

  /** No valid credential, or none within the authentication timeout. */
  static final short CLOSE_UNAUTHENTICATED = 4401;
  /** No pong (nor any frame) within the pong timeout after a ping. */
  static final short CLOSE_PONG_TIMEOUT = 4408;
  /** The outbound queue stayed over its bound: the client reads too slowly; it may reconnect and resume. */
  static final short CLOSE_SLOW_CONSUMER = 4008;
  /** The node is shutting down; reconnect (to another node) and resume. */
  static final short CLOSE_GOING_AWAY = 1001;

  static final String BAD_FRAME = "bad_frame";
  static final String UNKNOWN_TYPE = "unknown_type";
  static final String FRAME_TOO_LARGE = "frame_too_large";
  static final String UNAUTHENTICATED = "unauthenticated";
  static final String ROOM_NOT_FOUND = "room_not_found";
  static final String NOT_JOINED = "not_joined";
  static final String FORBIDDEN = "forbidden";
  static final String TOO_MANY_ROOMS = "too_many_rooms";
  static final String RATE_LIMITED = "rate_limited";
  static final String INVALID = "invalid";
  static final String UNAVAILABLE = "unavailable";

  static JsonObject frame(String type, JsonObject data) {
    return new JsonObject().put("type", type).put("data", data);
  }

  /** The data of a {@code message.created} frame: the room, the message's seq and the message. */
  static JsonObject messageCreated(String roomId, JsonObject message) {
    return new JsonObject().put("room_id", roomId).put("seq", message.getLong("seq")).put("message", message);
  }

  static JsonObject error(String code, String message, Object id) {
    return frame(ERROR, new JsonObject().put("code", code).put("message", message).put("id", id));
  }

  static JsonObject ack(Object id) {
    return frame(ACK, new JsonObject().put("id", id));
  }
}
