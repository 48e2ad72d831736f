package io.claudememory.conversations;

import io.claudememory.platform.db.DbTarget;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.pgclient.PgBuilder;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.PoolOptions;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.Tuple;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;

/**
 * What PostgreSQL alone can do for search, with no node in the way: the data-plane bench runs, straight against a
 * tenant database and over the tenant's own kind of connections (planned per call, as the server sends them), the
 * first page of {@link SearchSql#SEARCH} and {@link #NEWEST_MATCHES}, the least work any window of the newest matches
 * needs, and counts how many of each complete per second. Test code: the server never runs it.
 */
public final class SearchFloor {
  /** The window's candidates and nothing else: the newest {@code $2} messages matching the tsquery {@code $1}. */
  static final String NEWEST_MATCHES = DbTarget.PLANNED_PER_CALL + """
      SELECT m.id, m.created_at FROM messages m WHERE m.search @@ $1::text::tsquery
      ORDER BY m.created_at DESC, m.id DESC LIMIT $2""";

  private SearchFloor() {}

  /**
   * Runs each statement closed-loop on {@code connections} connections for {@code warmup} (not counted), then for
   * {@code measured}, over {@code queries} in turn, with windows of {@code candidates} and pages of {@code limit}.
   */
  public static JsonObject measure(Vertx vertx, DbTarget tenant, List<String> queries, int candidates, int limit,
      int connections, Duration warmup, Duration measured) {
    Pool pool = PgBuilder.pool().with(new PoolOptions().setMaxSize(connections))
        .connectingTo(tenant.connectOptions()).using(vertx).build();
    try {
      List<String> tsqueries = new ArrayList<>();
      for (String q : queries) {
        SearchQuery query = SearchQuery.parse(q);
        Row terms = pool.preparedQuery(SearchSql.TERMS).execute(Tuple.of(query.leading(), query.lastPrefix()))
            .await().iterator().next();
        tsqueries.add(terms.getString("terms"));
      }
      List<Tuple> search = tsqueries.stream().map(t -> Tuple.from(Arrays.asList(t, null, null, null, null, null,
          null, null, null, candidates, limit + 1))).toList();
      List<Tuple> newest = tsqueries.stream().map(t -> Tuple.of(t, candidates + 1)).toList();
      return new JsonObject().put("connections", connections).put("warmupSeconds", warmup.toSeconds())
          .put("seconds", measured.toSeconds()).put("candidates", candidates).put("limit", limit)
          .put("searchPerSecond", perSecond(vertx, pool, SearchSql.SEARCH, search, connections, warmup, measured))
          .put("newestMatchesPerSecond", perSecond(vertx, pool, NEWEST_MATCHES, newest, connections, warmup,
              measured));
    } finally {
      pool.close().await();
    }
  }

  private static double perSecond(Vertx vertx, Pool pool, String sql, List<Tuple> params, int connections,
      Duration warmup, Duration measured) {
    run(vertx, pool, sql, params, connections, warmup, new AtomicLong());
    AtomicLong done = new AtomicLong();
    long start = System.nanoTime();
    run(vertx, pool, sql, params, connections, measured, done);
    double perSecond = done.get() * 1e9 / (System.nanoTime() - start);
    return Math.round(perSecond * 10) / 10.0;
  }

  /** {@code connections} loops, each sending the next statement when its last one has answered, until the end. */
  private static void run(Vertx vertx, Pool pool, String sql, List<Tuple> params, int connections, Duration length,
      AtomicLong done) {
    long end = System.nanoTime() + length.toNanos();
    List<Future<Void>> loops = new ArrayList<>();
    for (int i = 0; i < connections; i++) {
      Promise<Void> finished = Promise.promise();
      int first = i;
      vertx.runOnContext(v -> next(pool, sql, params, first, end, done, finished));
      loops.add(finished.future());
    }
    Future.all(loops).await();
  }

  private static void next(Pool pool, String sql, List<Tuple> params, int i, long end, AtomicLong done,
      Promise<Void> finished) {
    if (System.nanoTime() >= end) {
      finished.complete();
      return;
    }
    pool.preparedQuery(sql).execute(params.get(i % params.size())).onComplete(result -> {
      if (result.failed()) {
        finished.fail(result.cause());
      } else {
        done.incrementAndGet();
        next(pool, sql, params, i + 1, end, done, finished);
      }
    });
  }
}
