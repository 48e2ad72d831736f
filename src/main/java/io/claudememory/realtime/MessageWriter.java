package io.claudememory.realtime;

import io.claudememory.platform.http.Principal;
import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;

/**
 * Seam: persists a user message sent over the socket, with the same effect as {@code POST
 * /conversations/:id/messages} (next seq, {@code message.created} published to the room). Answers the message as
 * DESIGN.md section 7 shapes it.
 */
public interface MessageWriter {
  Future<JsonObject> send(Principal author, RoomGrant room, String content, String clientId);
}
