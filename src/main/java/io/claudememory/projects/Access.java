package io.claudememory.projects;

import io.claudememory.platform.db.TenantPools;
import io.claudememory.platform.http.ApiException;
import io.vertx.core.Future;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.Tuple;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;

/**
 * Finds which tenant database holds a project or conversation for a caller, and with what role: the caller's own
 * tenant first (owner), then the projects shared with them (read from master on every call: shares are not cached,
 * so a removed member loses access with the next request). Anything else is 404, exactly as if it did not exist, so
 * ids leak nothing; a member who can see something but lacks the role for an action gets 403 from {@link Grant}.
 */
public final class Access {
  private static final String OWN_PROJECT = "SELECT 1 FROM projects WHERE id = $1";
  private static final String OWN_CONVERSATION = "SELECT project_id FROM conversations WHERE id = $1";
  private static final String SHARED_CONVERSATION = """
      SELECT project_id FROM conversations WHERE id = $1 AND project_id = ANY($2)""";

  private final Pool master;
  private final TenantPools tenants;

  public Access(Pool master, TenantPools tenants) {
    this.master = master;
    this.tenants = tenants;
  }

  /** The caller's grant on a project; 404 when it is neither theirs nor shared with them. */
  public Future<Grant> project(UUID caller, UUID projectId) {
    return tenants.withPool(caller, pool -> pool.preparedQuery(OWN_PROJECT).execute(Tuple.of(projectId)))
        .compose(own -> own.size() > 0 ? Future.succeededFuture(new Grant(caller, Role.OWNER, projectId))
            : sharedProject(caller, projectId));
  }

  private Future<Grant> sharedProject(UUID caller, UUID projectId) {
    return master.preparedQuery(SharesSql.SHARE_OF).execute(Tuple.of(projectId, caller)).compose(shares -> {
      if (shares.size() == 0) {
        return Future.failedFuture(ApiException.notFound("The project"));
      }
      Row share = shares.iterator().next();
      UUID owner = share.getUUID("owner_id");
      return tenants.withPool(owner, pool -> pool.preparedQuery(OWN_PROJECT).execute(Tuple.of(projectId)))
          .compose(found -> found.size() == 0 ? Future.failedFuture(ApiException.notFound("The project"))
              : Future.succeededFuture(new Grant(owner, Role.ofShare(share.getString("role")), projectId)));
    });
  }

  /** The caller's grant on a conversation; 404 when it is neither theirs nor in a project shared with them. */
  public Future<Grant> conversation(UUID caller, UUID conversationId) {
    return tenants.withPool(caller, pool -> pool.preparedQuery(OWN_CONVERSATION).execute(Tuple.of(conversationId)))
        .compose(own -> own.size() > 0
            ? Future.succeededFuture(new Grant(caller, Role.OWNER, own.iterator().next().getUUID("project_id")))
            : sharedConversation(caller, conversationId));
  }

  private record OwnerShares(UUID owner, List<UUID> projects, Map<UUID, Role> roles) {}

  /**
   * The caller's grant on a conversation that is not their own: one in a project shared with them. For callers that
   * already looked in the caller's own database (reads that fetch the row they need there in the same query).
   */
  public Future<Grant> sharedConversation(UUID caller, UUID conversationId) {
    return master.preparedQuery(SharesSql.SHARES_OF_MEMBER).execute(Tuple.of(caller)).compose(rows -> {
      Map<UUID, OwnerShares> byOwner = new LinkedHashMap<>();
      for (Row row : rows) {
        OwnerShares shares = byOwner.computeIfAbsent(row.getUUID("owner_id"),
            owner -> new OwnerShares(owner, new ArrayList<>(), new LinkedHashMap<>()));
        shares.projects().add(row.getUUID("project_id"));
        shares.roles().put(row.getUUID("project_id"), Role.ofShare(row.getString("role")));
      }
      Future<Grant> search = Future.failedFuture(ApiException.notFound("The conversation"));
      for (OwnerShares shares : byOwner.values()) {
        search = search.recover(notYet -> tenants.withPool(shares.owner(), pool ->
                pool.preparedQuery(SHARED_CONVERSATION)
                    .execute(Tuple.of(conversationId, (Object) shares.projects().toArray(new UUID[0]))))
            .compose(found -> {
              if (found.size() == 0) {
                return Future.failedFuture(notYet);
              }
              UUID project = found.iterator().next().getUUID("project_id");
              return Future.succeededFuture(new Grant(shares.owner(), shares.roles().get(project), project));
            }));
      }
      return search;
    });
  }
}
