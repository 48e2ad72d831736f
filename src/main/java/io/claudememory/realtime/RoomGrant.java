package io.claudememory.realtime;

import io.claudememory.platform.EventAddresses;
import java.util.UUID;

/**
 * What a caller may do in a room: the tenant (owner user id) whose database holds the conversation, and whether the
 * caller may write (send, type, cancel) or only read (join, replay, mark_read).
 */
public record RoomGrant(UUID tenant, UUID conversation, boolean canWrite) {
  public String address() {
    return EventAddresses.room(tenant, conversation);
  }
}
