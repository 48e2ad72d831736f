package io.claudememory.realtime;

import io.claudememory.conversations.MessageService;
import io.claudememory.platform.http.Principal;
import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;

/**
 * {@code send_message} has exactly the effect of the REST POST: the same service stores the message (access rules,
 * seq, audit, webhook event) and announces {@code message.created} with the client's id.
 */
public final class ServiceMessageWriter implements MessageWriter {
  private final MessageService messages;

  public ServiceMessageWriter(MessageService messages) {
    this.messages = messages;
  }

  @Override
  public Future<JsonObject> send(Principal author, RoomGrant room, String content, String clientId) {
    return messages.post(author.userId(), room.conversation(), "user", content, null, clientId);
  }
}
