package io.claudememory.realtime;

import io.claudememory.platform.http.Principal;
import io.vertx.core.Future;
import java.util.UUID;

/**
 * Seam: who may enter a room. Implementations fail with {@link RoomNotFound} both when the conversation does not
 * exist and when the caller may not read it, so a foreign user learns nothing about the room.
 */
public interface RoomAccess {
  Future<RoomGrant> resolve(Principal principal, UUID conversationId);

  /** The one failure for "no such room" and "not yours". */
  final class RoomNotFound extends RuntimeException {
    public RoomNotFound() {
      super("No such room.", null, false, false);
    }
  }
}
