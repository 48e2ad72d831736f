package io.claudememory.conversations;

import io.claudememory.platform.db.TenantPools;
import io.claudememory.platform.http.ApiException;
import io.claudememory.platform.http.QueryParams;
import io.vertx.core.Future;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.RowSet;
import io.vertx.sqlclient.SqlClient;
import io.vertx.sqlclient.Tuple;
import java.time.OffsetDateTime;
import java.util.Arrays;
import java.util.UUID;

/**
 * Searches the caller's own tenant: every message of every branch, and conversation titles (a title hit has no
 * {@code messageId} or {@code seq}). Projects shared with the caller are not searched (they live in other tenants).
 *
 * <p>Order: hits come in windows of the {@code candidates} most recent matches, newest window first; within a window,
 * best rank first ({@link SearchSql} explains why). A page that empties its window goes on with the next one, so
 * pages are full until the last, and paging walks every hit exactly once.
 */
public final class SearchService {
  private final TenantPools tenants;
  private final int candidates;

  /** {@code candidates}: how many of the most recent matches are ranked together (configuration search.candidates). */
  public SearchService(TenantPools tenants, int candidates) {
    this.tenants = tenants;
    this.candidates = candidates;
  }

  /** Filters and position of a search; {@code cursor} is null on the first page. */
  public record Request(UUID projectId, String role, OffsetDateTime from, OffsetDateTime to, Cursor cursor,
      int limit) {}

  public record Page(JsonArray data, String nextCursor) {}

  /**
   * Where a page starts: the window whose first (newest) hit is {@code windowAt}/{@code windowId}, after the hit
   * {@code afterRank}/{@code afterId} of it (both null at the start of a window). Opaque to clients.
   */
  public record Cursor(OffsetDateTime windowAt, UUID windowId, Float afterRank, UUID afterId) {
    static Cursor of(JsonArray key) {
      Number rank = key.getNumber(2);
      String after = key.getString(3);
      if (rank == null != (after == null)) {
        throw new IllegalArgumentException("rank and hit id go together");
      }
      return new Cursor(OffsetDateTime.parse(key.getString(0)), UUID.fromString(key.getString(1)),
          rank == null ? null : rank.floatValue(), after == null ? null : UUID.fromString(after));
    }

    String encode() {
      return QueryParams.encodeCursor(new JsonArray().add(windowAt.toString()).add(windowId.toString())
          .add(afterRank).add(afterId == null ? null : afterId.toString()));
    }
  }

  public Future<Page> search(UUID caller, SearchQuery query, Request r) {
    return tenants.withPool(caller, pool -> Future.all(
            pool.preparedQuery(SearchSql.TERMS).execute(Tuple.of(query.leading(), query.lastPrefix())),
            projectConversations(pool, r.projectId()))
        .compose(both -> {
          Row terms = both.<RowSet<Row>>resultAt(0).iterator().next();
          String tsquery = terms.getString("terms");
          if (tsquery.isEmpty()) {
            return Future.succeededFuture(new Page(new JsonArray(), null)); // stop words only: nothing can match
          }
          Snippets.Highlighter highlighter = Snippets.highlighter(terms.getString("language"),
              Snippets.Terms.of(tsquery));
          return fill(pool, new Window(tsquery, both.resultAt(1), highlighter, r), r.cursor(), new JsonArray());
        }));
  }

  /** What every window of one search shares. */
  private record Window(String tsquery, UUID[] project, Snippets.Highlighter highlighter, Request request) {}

  /** Adds the hits of the window {@code at} to {@code data}; moves on to the next window while the page is not full. */
  private Future<Page> fill(SqlClient client, Window w, Cursor at, JsonArray data) {
    Request r = w.request();
    int wanted = r.limit() - data.size();
    Tuple params = Tuple.from(Arrays.asList(w.tsquery(), w.project(), r.role(), r.from(), r.to(),
        at == null ? null : at.windowAt(), at == null ? null : at.windowId(),
        at == null ? null : at.afterRank(), at == null ? null : at.afterId(), candidates, wanted + 1));
    return client.preparedQuery(SearchSql.SEARCH).execute(params).compose(rows -> {
      Row bounds = null;
      Row last = null;
      for (Row row : rows) {
        bounds = bounds == null ? row : bounds;
        if (row.getUUID("hit_id") == null) {
          break;
        }
        if (data.size() == r.limit()) {
          return Future.succeededFuture(new Page(data, new Cursor(row.getOffsetDateTime("window_at"),
              row.getUUID("window_id"), last.getFloat("rank"), last.getUUID("hit_id")).encode()));
        }
        data.add(toJson(row, w.highlighter()));
        last = row;
      }
      OffsetDateTime nextAt = bounds.getOffsetDateTime("next_at");
      if (nextAt == null) {
        return Future.succeededFuture(new Page(data, null));
      }
      Cursor next = new Cursor(nextAt, bounds.getUUID("next_id"), null, null);
      return data.size() == r.limit() ? Future.succeededFuture(new Page(data, next.encode()))
          : fill(client, w, next, data);
    });
  }

  /**
   * The ids of the project's conversations, null without a project filter. A project filter must name one of the
   * caller's own projects: anything else is 404, as on every route.
   */
  private static Future<UUID[]> projectConversations(Pool pool, UUID projectId) {
    return projectId == null ? Future.succeededFuture()
        : pool.preparedQuery(SearchSql.PROJECT_CONVERSATIONS).execute(Tuple.of(projectId))
            .compose(rows -> rows.size() == 0 ? Future.failedFuture(ApiException.notFound("The project"))
                : Future.succeededFuture(rows.iterator().next().getArrayOfUUIDs("conversations")));
  }

  private static JsonObject toJson(Row row, Snippets.Highlighter highlighter) {
    UUID message = row.getUUID("message_id");
    return new JsonObject()
        .put("conversationId", row.getUUID("conversation_id").toString())
        .put("messageId", message == null ? null : message.toString())
        .put("seq", row.getLong("seq"))
        .put("title", row.getString("title"))
        .put("snippet", highlighter.snippet(row.getString("text")))
        .put("rank", row.getFloat("rank"))
        .put("createdAt", row.getOffsetDateTime("created_at").toInstant().toString());
  }
}
