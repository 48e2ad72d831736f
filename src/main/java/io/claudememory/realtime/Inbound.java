package io.claudememory.realtime;

import io.claudememory.platform.EventAddresses;
import io.claudememory.platform.http.ApiException;
import io.claudememory.platform.http.FailureHandler;
import io.vertx.core.Future;
import io.vertx.core.json.DecodeException;
import io.vertx.core.json.JsonObject;
import java.util.UUID;

/**
 * The client frames of one socket (DESIGN.md section 8): checks, limits, and the use case each frame names. Every
 * refusal is an {@code error} frame carrying the frame's id; the socket stays usable. Confined to the event loop.
 */
final class Inbound {
  private final Session session;
  private final Realtime rt;
  private final TokenBucket frames;
  private final TokenBucket typing;
  private final TokenBucket messages;

  Inbound(Session session) {
    this.session = session;
    this.rt = session.hub.rt;
    this.frames = new TokenBucket(rt.settings.framesPerSecond());
    this.typing = new TokenBucket(rt.settings.typingPerSecond());
    this.messages = new TokenBucket(rt.settings.messagesPerSecond());
  }

  /** A refusal, sent back as an {@code error} frame. */
  static final class Refused extends RuntimeException {
    final String code;

    Refused(String code, String message) {
      super(message, null, false, false);
      this.code = code;
    }
  }

  void handle(String text) {
    if (text.length() > rt.settings.maxFrameBytes() || (text.length() * 3L > rt.settings.maxFrameBytes()
        && Session.utf8Length(text) > rt.settings.maxFrameBytes())) {
      session.send(Frames.error(Frames.FRAME_TOO_LARGE, "Frames are limited to " + rt.settings.maxFrameBytes()
          + " bytes.", null));
      return;
    }
    JsonObject frame;
    try {
      frame = new JsonObject(text);
    } catch (DecodeException | ClassCastException e) {
      session.send(Frames.error(Frames.BAD_FRAME, "A frame is a JSON object {type, id?, data}.", null));
      return;
    }
    Object id = frame.getValue("id");
    if (id != null && !(id instanceof String) && !(id instanceof Number)) {
      id = null;
    }
    Object frameId = id;
    if (!frames.tryTake()) {
      session.send(Frames.error(Frames.RATE_LIMITED, "Too many frames; slow down.", frameId));
      return;
    }
    Future<JsonObject> outcome;
    try {
      outcome = dispatch(frame.getValue("type"), data(frame));
    } catch (Refused refused) {
      outcome = Future.failedFuture(refused);
    }
    outcome.onComplete(ar -> {
      if (ar.failed()) {
        Refused refused = refusal(ar.cause());
        session.send(Frames.error(refused.code, refused.getMessage(), frameId));
      } else if (frameId != null && ar.result() != null) {
        session.send(Frames.frame(Frames.ACK, ar.result().put("id", frameId)));
      }
    });
  }

  private static JsonObject data(JsonObject frame) {
    Object data = frame.getValue("data");
    if (data == null) {
      return new JsonObject();
    }
    if (!(data instanceof JsonObject object)) {
      throw new Refused(Frames.BAD_FRAME, "data must be a JSON object.");
    }
    return object;
  }

  /** Answers the ack's data (the frame id is added), or null when the frame answers with its own frame. */
  private Future<JsonObject> dispatch(Object type, JsonObject data) {
    if (!(type instanceof String name)) {
      throw new Refused(Frames.BAD_FRAME, "type is required.");
    }
    if (name.equals(Frames.PING)) {
      session.send(Frames.frame(Frames.PONG, new JsonObject()));
      return Future.succeededFuture(new JsonObject());
    }
    if (name.equals(Frames.AUTHENTICATE)) {
      return authenticate(data);
    }
    if (session.principal == null) {
      throw new Refused(Frames.UNAUTHENTICATED, "Authenticate first: send {type: authenticate, data: {token}}.");
    }
    return switch (name) {
      case Frames.JOIN_ROOM -> joinRoom(data);
      case Frames.LEAVE_ROOM -> leaveRoom(data);
      case Frames.TYPING -> typing(data);
      case Frames.SEND_MESSAGE -> sendMessage(data);
      case Frames.CANCEL -> cancel(data);
      case Frames.MARK_READ -> markRead(data);
      default -> throw new Refused(Frames.UNKNOWN_TYPE, "Unknown frame type '" + abbreviate(name) + "'.");
    };
  }

  private Future<JsonObject> authenticate(JsonObject data) {
    if (session.principal != null) {
      throw new Refused(Frames.INVALID, "This socket is already authenticated.");
    }
    String token = data.getValue("token") instanceof String s ? s : null;
    return session.here(rt.authenticator.authenticate(token)).transform(ar -> {
      if (ar.failed() || session.closed) {
        session.close(Frames.CLOSE_UNAUTHENTICATED, "invalid credential");
        return Future.succeededFuture(null);
      }
      session.ready(ar.result(), token);
      return Future.succeededFuture(new JsonObject());
    });
  }

  private Future<JsonObject> joinRoom(JsonObject data) {
    UUID roomId = roomId(data);
    Long since = optionalSeq(data, "since_seq");
    Membership existing = session.rooms.get(roomId);
    if (existing != null) {
      return existing.join(since).map(v -> new JsonObject().put("room_id", roomId.toString()));
    }
    if (session.rooms.size() >= rt.settings.maxRoomsPerSocket()) {
      throw new Refused(Frames.TOO_MANY_ROOMS, "A socket may be in at most " + rt.settings.maxRoomsPerSocket()
          + " rooms.");
    }
    return session.hub.resolve(session.principal, roomId).compose(grant -> {
      if (session.closed || session.rooms.containsKey(roomId)) {
        return Future.succeededFuture(null);
      }
      if (session.rooms.size() >= rt.settings.maxRoomsPerSocket()) {
        return Future.failedFuture(new Refused(Frames.TOO_MANY_ROOMS, "Too many rooms."));
      }
      Membership membership = new Membership(session, grant);
      session.rooms.put(roomId, membership);
      return membership.join(since).map(v -> {
        session.hub.arrived(membership);
        return new JsonObject().put("room_id", roomId.toString());
      }).onFailure(err -> {
        if (session.rooms.remove(roomId, membership)) {
          session.hub.leave(membership);
        }
      });
    });
  }

  private Future<JsonObject> leaveRoom(JsonObject data) {
    UUID roomId = roomId(data);
    Membership membership = session.rooms.remove(roomId);
    if (membership == null) {
      throw new Refused(Frames.NOT_JOINED, "This socket is not in that room.");
    }
    session.hub.leave(membership);
    session.send(Frames.frame(Frames.LEFT, new JsonObject().put("room_id", roomId.toString())));
    return Future.succeededFuture(new JsonObject().put("room_id", roomId.toString()));
  }

  private Future<JsonObject> typing(JsonObject data) {
    Membership membership = joined(data);
    if (!typing.tryTake()) {
      throw new Refused(Frames.RATE_LIMITED, "At most " + rt.settings.typingPerSecond() + " typing events a second.");
    }
    writable(membership.grant);
    boolean isTyping = !(data.getValue("is_typing") instanceof Boolean b) || b;
    rt.events.publishTyping(membership.grant, session.principal.userId(), isTyping, session.id);
    return Future.succeededFuture(new JsonObject());
  }

  private Future<JsonObject> sendMessage(JsonObject data) {
    UUID roomId = roomId(data);
    if (!messages.tryTake()) {
      throw new Refused(Frames.RATE_LIMITED, "At most " + rt.settings.messagesPerSecond() + " messages a second.");
    }
    String content = data.getValue("content") instanceof String s ? s : null;
    if (content == null || content.isBlank()) {
      throw new Refused(Frames.INVALID, "content must be non-empty text.");
    }
    String clientId = data.getValue("client_id") instanceof String s && s.length() <= 200 ? s : null;
    return grant(roomId).compose(grant -> {
      writable(grant);
      return session.here(rt.writer.send(session.principal, grant, content, clientId));
    }).map(message -> new JsonObject().put("room_id", roomId.toString()).put("message_id", message.getString("id"))
        .put("seq", message.getLong("seq")).put("client_id", clientId));
  }

  private Future<JsonObject> cancel(JsonObject data) {
    UUID roomId = roomId(data);
    return grant(roomId).map(grant -> {
      writable(grant);
      rt.bus.publish(EventAddresses.CLAUDE_CANCEL, new JsonObject().put("tenant", grant.tenant().toString())
          .put("conversationId", roomId.toString()).put("userId", session.principal.userId().toString()));
      return new JsonObject().put("room_id", roomId.toString());
    });
  }

  private Future<JsonObject> markRead(JsonObject data) {
    UUID roomId = roomId(data);
    Long seq = optionalSeq(data, "seq");
    if (seq == null) {
      throw new Refused(Frames.INVALID, "seq is required.");
    }
    return grant(roomId).compose(grant -> session.here(rt.readPositions.mark(grant, session.principal.userId(), seq)))
        .map(stored -> new JsonObject().put("room_id", roomId.toString()).put("seq", stored));
  }

  /** The grant of a joined room, else resolved afresh (sending does not require joining). */
  private Future<RoomGrant> grant(UUID roomId) {
    Membership membership = session.rooms.get(roomId);
    return membership != null ? Future.succeededFuture(membership.grant)
        : session.hub.resolve(session.principal, roomId);
  }

  private Membership joined(JsonObject data) {
    Membership membership = session.rooms.get(roomId(data));
    if (membership == null) {
      throw new Refused(Frames.NOT_JOINED, "Join the room first.");
    }
    return membership;
  }

  private static void writable(RoomGrant grant) {
    if (!grant.canWrite()) {
      throw new Refused(Frames.FORBIDDEN, "You may read this room but not write in it.");
    }
  }

  private static UUID roomId(JsonObject data) {
    if (data.getValue("room_id") instanceof String s) {
      try {
        return UUID.fromString(s);
      } catch (IllegalArgumentException e) {
        // answered below
      }
    }
    throw new Refused(Frames.INVALID, "room_id must be a conversation id (UUID).");
  }

  private static Long optionalSeq(JsonObject data, String field) {
    Object value = data.getValue(field);
    if (value == null) {
      return null;
    }
    if (value instanceof Number n && n.doubleValue() == n.longValue() && n.longValue() >= 0) {
      return n.longValue();
    }
    throw new Refused(Frames.INVALID, field + " must be a non-negative whole number.");
  }

  /**
   * The error frame for a failure, by the rules REST answers use ({@link FailureHandler#toProblem}): what the client
   * sent is {@code invalid} (text PostgreSQL cannot store, a message too long), a database out of reach
   * {@code unavailable}; only what has no client meaning is logged.
   */
  private static Refused refusal(Throwable err) {
    if (err instanceof Refused refused) {
      return refused;
    }
    if (err instanceof RoomAccess.RoomNotFound) {
      return new Refused(Frames.ROOM_NOT_FOUND, "No such room.");
    }
    if (err instanceof io.vertx.core.http.ConnectionPoolTooBusyException) {
      return new Refused(Frames.UNAVAILABLE, "The server is busy; try again shortly.");
    }
    ApiException problem = FailureHandler.toProblem(err, -1);
    return switch (problem.status()) {
      case 403 -> new Refused(Frames.FORBIDDEN, problem.getMessage());
      case 404 -> new Refused(Frames.ROOM_NOT_FOUND, "No such room.");
      case 429 -> new Refused(Frames.RATE_LIMITED, problem.getMessage());
      case 503 -> new Refused(Frames.UNAVAILABLE,
          "The room's database cannot be reached right now; try again shortly.");
      default -> {
        if (problem.status() >= 400 && problem.status() < 500) {
          yield new Refused(Frames.INVALID, problem.getMessage());
        }
        org.slf4j.LoggerFactory.getLogger(Inbound.class).warn("frame failed", err);
        yield new Refused(Frames.UNAVAILABLE, "That could not be done right now; try again.");
      }
    };
  }

  private static String abbreviate(String text) {
    String safe = text.replaceAll("[^A-Za-z0-9_.-]", "?");
    return safe.length() > 40 ? safe.substring(0, 40) : safe;
  }
}
