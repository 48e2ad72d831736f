package io.claudememory.platform;

import java.util.UUID;

/**
 * Every event-bus address of the node, with the shape of its messages (DESIGN.md section 3). All messages are
 * {@code JsonObject}s.
 *
 * <p>Room and user events travel inside an <em>envelope</em> (see {@code realtime.RoomEvents}):
 * <pre>{ "frame": {"type": ..., "data": {...}},   // exactly what sockets receive
 *   "origin": "node-a",                          // node that published it; fan-out skips its own
 *   "at": 1732170000000,                         // publish time, epoch ms (fan-out delay metric)
 *   "seq": 42,                                   // message.created only: the message's seq
 *   "exclude": "session id" }                    // typing only: the sending socket, not echoed to it</pre>
 * Publish room and user events through {@code RoomEvents}, never straight onto the bus: it also relays them to the
 * other nodes through Redis.
 */
public final class EventAddresses {
  /**
   * Request/reply, HTTP → Jobs. Message: the job id as a string, of a row already inserted in master {@code jobs} with
   * status {@code queued}. Reply: the same id once a Jobs verticle has taken note (it runs the job when it has a free
   * slot). Nothing is lost when nobody answers: every Jobs verticle also polls for queued rows.
   */
  public static final String JOBS_SUBMIT = "jobs.submit";

  /**
   * Request/reply, HTTP → Claude: {@code {tenant, conversationId, userMessageId, options?: {model?, maxTokens?,
   * regenerate?}}} → {@code {accepted: true, generationId, assistantMessageId}} or {@code {accepted: false, status,
   * code, reason}} (status is the HTTP status the refusal maps to).
   */
  public static final String CLAUDE_GENERATE = "claude.generate";

  /** publish, HTTP/WS → Claude: the conversation id, or {@code {tenant?, conversationId, userId?}}; stop it. */
  public static final String CLAUDE_CANCEL = "claude.cancel";

  /**
   * Publish, anyone → Webhook on every node: the tenant id (a string) that has new {@code webhook_outbox} rows or
   * due deliveries. Sent after the commit; nothing is lost without it, as every node also sweeps periodically.
   */
  public static final String WEBHOOKS_KICK = "webhooks.kick";

  /** The {@code type} of a job progress notification on {@link #user}: {@code {type, job}}. */
  public static final String JOB_PROGRESS = "job.progress";

  /** The {@code type} of the notification on {@link #user} when a webhook subscription was disabled. */
  public static final String WEBHOOK_DISABLED = "webhook.disabled";

  /**
   * publish, node-local, fan-out → socket hubs: {@code {addresses: [room/user address, ...]}}. Events on those
   * addresses may have been lost (Redis subscriber reconnected); sockets there catch up from the database.
   */
  public static final String REALTIME_RESYNC = "realtime.resync";

  private static final String ROOM = "room.";
  private static final String USER = "user.";

  private EventAddresses() {}

  /** publish, anyone → sockets in the room: an envelope whose frame is a section 8 room event. */
  public static String room(UUID tenant, UUID conversation) {
    return ROOM + tenant + "." + conversation;
  }

  /** publish, anyone → that user's sockets: an envelope whose frame is a {@code notification}. */
  public static String user(UUID userId) {
    return USER + userId;
  }

  public static boolean isRoom(String address) {
    return address.startsWith(ROOM);
  }
}
