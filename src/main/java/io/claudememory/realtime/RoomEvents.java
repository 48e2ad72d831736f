package io.claudememory.realtime;

import io.claudememory.platform.EventAddresses;
import io.vertx.core.eventbus.EventBus;
import io.vertx.core.json.JsonObject;
import java.util.UUID;

/**
 * The one way to publish room and user events: onto this node's event bus (sockets here) and, when Redis is set,
 * through the fan-out relay to the other nodes. Envelopes carry this node's id so no node delivers an event twice
 * (the shape is documented on {@link EventAddresses}). Thread-safe.
 */
public final class RoomEvents {
  /** Carries envelopes to the other nodes; the fan-out verticle is one. */
  public interface Relay {
    void publish(String address, JsonObject envelope);
  }

  private final EventBus bus;
  private final String nodeId;
  private volatile Relay relay;

  public RoomEvents(EventBus bus, String nodeId) {
    this.bus = bus;
    this.nodeId = nodeId;
  }

  void relayThrough(Relay relay) {
    this.relay = relay;
  }

  /** A persisted message, whatever created it (REST, WebSocket, import, Claude). {@code clientId} may be null. */
  public void publishMessageCreated(UUID tenant, UUID conversation, JsonObject message, String clientId) {
    JsonObject data = Frames.messageCreated(conversation.toString(), message);
    if (clientId != null) {
      data.put("client_id", clientId);
    }
    JsonObject envelope = envelope(Frames.MESSAGE_CREATED, data).put("seq", message.getLong("seq"));
    publish(EventAddresses.room(tenant, conversation), envelope);
  }

  /** A piece of a streaming answer; coalesced for slow readers. */
  public void publishAssistantDelta(UUID tenant, UUID conversation, UUID messageId, int index, String text) {
    publish(EventAddresses.room(tenant, conversation), envelope(Frames.ASSISTANT_DELTA, new JsonObject()
        .put("room_id", conversation.toString()).put("message_id", messageId.toString()).put("index", index)
        .put("text", text)));
  }

  /** {@code type} is {@code assistant.done} or {@code assistant.error}; {@code room_id} is added to data. */
  public void publishAssistant(UUID tenant, UUID conversation, String type, JsonObject data) {
    publish(EventAddresses.room(tenant, conversation),
        envelope(type, data.copy().put("room_id", conversation.toString())));
  }

  void publishTyping(RoomGrant room, UUID userId, boolean typing, String senderSession) {
    publish(room.address(), envelope(Frames.TYPING, new JsonObject().put("room_id", room.conversation().toString())
        .put("user_id", userId.toString()).put("is_typing", typing)).put("exclude", senderSession));
  }

  void publishPresence(RoomGrant room, UUID userId, String status) {
    publish(room.address(), envelope(Frames.PRESENCE, new JsonObject().put("room_id", room.conversation().toString())
        .put("user_id", userId.toString()).put("status", status)));
  }

  /** A room event as one object {@code {type, ...data}}, out of its envelope (for SSE, which sends events flat). */
  public static JsonObject flatten(JsonObject envelope) {
    JsonObject frame = envelope.getJsonObject("frame");
    return frame == null ? envelope : frame.getJsonObject("data").copy().put("type", frame.getString("type"));
  }

  /** Something for one user wherever they are connected (job progress, ...). */
  public void publishNotification(UUID userId, JsonObject data) {
    publish(EventAddresses.user(userId), envelope(Frames.NOTIFICATION, data));
  }

  private void publish(String address, JsonObject envelope) {
    bus.publish(address, envelope);
    Relay current = relay;
    if (current != null) {
      current.publish(address, envelope);
    }
  }

  private JsonObject envelope(String type, JsonObject data) {
    return new JsonObject().put("frame", new JsonObject().put("type", type).put("data", data))
        .put("origin", nodeId).put("at", System.currentTimeMillis());
  }
}
