package io.claudememory.conversations;

import io.claudememory.platform.db.TenantPools;
import io.claudememory.platform.http.ApiException;
import io.claudememory.projects.Access;
import io.vertx.core.Future;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.Tuple;
import java.util.UUID;

/** A conversation's row and the tenant database it lives in, for reads that need both. */
record LocatedConversation(UUID tenant, Row row) {
  /**
   * Finds the conversation as {@link Access#conversation} does, but fetches its row in the same query for the common
   * case (the caller's own); a conversation in a project shared with the caller is read from its owner's database.
   * Fails with 404 when the caller may not see it.
   */
  static Future<LocatedConversation> find(TenantPools tenants, Access access, UUID caller, UUID id) {
    return read(tenants, caller, id).compose(own -> own != null ? Future.succeededFuture(own)
        : access.sharedConversation(caller, id).compose(grant -> read(tenants, grant.tenant(), id))
            .compose(shared -> shared != null ? Future.succeededFuture(shared)
                : Future.failedFuture(ApiException.notFound("The conversation"))));
  }

  private static Future<LocatedConversation> read(TenantPools tenants, UUID tenant, UUID id) {
    return tenants.withReads(tenant, reads -> reads.preparedQuery(ConversationsSql.BY_ID).execute(Tuple.of(id)))
        .map(rows -> rows.size() == 0 ? null : new LocatedConversation(tenant, rows.iterator().next()));
  }
}
