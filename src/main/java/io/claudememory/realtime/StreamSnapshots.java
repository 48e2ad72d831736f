package io.claudememory.realtime;

import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;
import java.util.List;
import java.util.UUID;

/**
 * Seam for the Claude capability: the text generated so far of answers still streaming in a conversation, as frames
 * ({@code assistant.delta} with the text so far) sent to a socket right after it joins, before live events.
 */
public interface StreamSnapshots {
  StreamSnapshots NONE = (tenant, conversation) -> Future.succeededFuture(List.of());

  Future<List<JsonObject>> inProgress(UUID tenant, UUID conversation);
}
