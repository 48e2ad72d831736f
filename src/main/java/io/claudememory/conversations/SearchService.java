package io.claudememory.conversations;

import io.claudememory.platform.db.TenantPools;
import io.claudememory.platform.http.QueryParams;
import io.vertx.core.Future;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.claudememory.platform.http.ApiException;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.Tuple;
import java.time.OffsetDateTime;
import java.util.Arrays;
import java.util.UUID;

/**
 * Searches the caller's own tenant: every message of every branch, and conversation titles (a title hit has no
 * {@code messageId} or {@code seq}). Projects shared with the caller are not searched (they live in other tenants).
 */
public final class SearchService {
  private final TenantPools tenants;

  public SearchService(TenantPools tenants) {
    this.tenants = tenants;
  }

  /** Filters and position of a search; {@code afterRank}/{@code afterId} is the keyset of the last hit served. */
  public record Request(String q, UUID projectId, String role, OffsetDateTime from, OffsetDateTime to,
      Float afterRank, UUID afterId, int limit) {}

  public record Page(JsonArray data, String nextCursor) {}

  public Future<Page> search(UUID caller, SearchQuery query, Request r) {
    return tenants.withPool(caller, pool -> projectExists(pool, r.projectId()).compose(ok ->
        pool.preparedQuery(SearchSql.SEARCH).execute(Tuple.from(Arrays.asList(query.leading(),
            query.lastPrefix(), r.projectId(), r.role(), r.from(), r.to(), r.afterRank(), r.afterId(),
            r.limit() + 1)))))
        .map(rows -> {
          JsonArray data = new JsonArray();
          String next = null;
          float lastRank = 0;
          String lastId = null;
          for (Row row : rows) {
            if (data.size() == r.limit()) {
              next = QueryParams.encodeCursor(new JsonArray().add(lastRank).add(lastId));
              break;
            }
            lastRank = row.getFloat("rank");
            lastId = row.getUUID("hit_id").toString();
            data.add(toJson(row));
          }
          return new Page(data, next);
        });
  }

  /** A project filter must name one of the caller's own projects: anything else is 404, as on every route. */
  private static Future<Void> projectExists(Pool pool, UUID projectId) {
    return projectId == null ? Future.succeededFuture()
        : pool.preparedQuery(ConversationsSql.PROJECT_EXISTS).execute(Tuple.of(projectId))
            .compose(rows -> rows.size() == 0 ? Future.failedFuture(ApiException.notFound("The project"))
                : Future.<Void>succeededFuture());
  }

  private static JsonObject toJson(Row row) {
    UUID message = row.getUUID("message_id");
    return new JsonObject()
        .put("conversationId", row.getUUID("conversation_id").toString())
        .put("messageId", message == null ? null : message.toString())
        .put("seq", row.getLong("seq"))
        .put("title", row.getString("title"))
        .put("snippet", row.getString("snippet"))
        .put("rank", row.getFloat("rank"))
        .put("createdAt", row.getOffsetDateTime("created_at").toInstant().toString());
  }
}
