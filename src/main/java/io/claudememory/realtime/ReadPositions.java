package io.claudememory.realtime;

import io.claudememory.platform.db.TenantPools;
import io.vertx.core.Future;
import io.vertx.sqlclient.Tuple;
import java.util.UUID;

/**
 * Read positions per reader per conversation ({@code read_positions}, tenant V2): kept in the tenant database that
 * holds the conversation, so the owner and shared-project members are covered alike and a conversation listing can
 * join it. Monotonic and never past the conversation's last seq.
 */
public final class ReadPositions {
  private final TenantPools tenants;

  public ReadPositions(TenantPools tenants) {
    this.tenants = tenants;
  }

  /** Stores {@code seq} as read (if further than before) and answers the stored position. */
  public Future<Long> mark(RoomGrant room, UUID reader, long seq) {
    return tenants.withPool(room.tenant(), pool -> pool.preparedQuery(RealtimeSql.MARK_READ)
        .execute(Tuple.of(room.conversation(), reader, seq))
        .compose(rows -> rows.size() == 0 ? Future.failedFuture(new RoomAccess.RoomNotFound())
            : Future.succeededFuture(rows.iterator().next().getLong(0))));
  }
}
