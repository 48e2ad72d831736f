package io.claudememory.realtime;

import io.claudememory.platform.http.ApiException;
import io.claudememory.platform.http.Principal;
import io.claudememory.projects.Access;
import io.vertx.core.Future;
import java.util.UUID;

/**
 * Rooms by the data plane's own rules: a conversation's owner, and the members of its project (editors may write,
 * viewers only read). Anything else, missing or foreign alike, is {@link RoomNotFound}.
 */
public final class ProjectRoomAccess implements RoomAccess {
  private final Access access;

  public ProjectRoomAccess(Access access) {
    this.access = access;
  }

  @Override
  public Future<RoomGrant> resolve(Principal principal, UUID conversationId) {
    return access.conversation(principal.userId(), conversationId)
        .map(grant -> new RoomGrant(grant.tenant(), conversationId, grant.role().canWrite()))
        .recover(err -> Future.failedFuture(err instanceof ApiException api && api.status() == 404
            ? new RoomNotFound() : err));
  }
}
