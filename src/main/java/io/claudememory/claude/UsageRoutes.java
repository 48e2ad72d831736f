package io.claudememory.claude;

import io.claudememory.auth.Authenticator;
import io.claudememory.platform.db.TenantPools;
import io.claudememory.platform.http.ApiException;
import io.claudememory.platform.http.Principal;
import io.claudememory.platform.http.QueryParams;
import io.claudememory.platform.http.Responses;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import io.vertx.sqlclient.Tuple;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.Objects;

/**
 * {@code GET /api/v1/usage?from&to&groupBy=day|model|project}: tokens used by the caller's assistant messages,
 * from the usage persisted with each ({@code from} inclusive, {@code to} exclusive; dates or date-times; default the
 * last 30 days). Input, output and both cache counts are kept apart; {@code totalTokens} adds all four.
 *
 * <p>Usage is per tenant database: the caller's own conversations, including answers members of their shared projects
 * asked for there; what the caller asks for in a project shared with them is the project owner's usage.
 */
public final class UsageRoutes {
  /** The default window starts 30 days before {@code to}, but never before year 1 (see QueryParams#timestamp). */
  private static final OffsetDateTime EARLIEST = OffsetDateTime.of(1, 1, 1, 0, 0, 0, 0, ZoneOffset.UTC);
  private final Authenticator auth;
  private final TenantPools pools;

  public UsageRoutes(Authenticator auth, TenantPools pools) {
    this.auth = auth;
    this.pools = pools;
  }

  public void mount(Router api) {
    api.get("/usage").handler(auth).handler(this::usage);
  }

  private void usage(RoutingContext ctx) {
    QueryParams q = QueryParams.of(ctx);
    String groupBy = Objects.requireNonNullElse(q.string("groupBy", 20), "day");
    String sql = switch (groupBy) {
      case "day" -> ClaudeSql.USAGE_BY_DAY;
      case "model" -> ClaudeSql.USAGE_BY_MODEL;
      case "project" -> ClaudeSql.USAGE_BY_PROJECT;
      default -> {
        q.error("groupBy", "must be day, model or project");
        yield null;
      }
    };
    OffsetDateTime givenTo = q.dateOrTimestamp("to");
    OffsetDateTime givenFrom = q.dateOrTimestamp("from");
    q.check();
    OffsetDateTime to = givenTo != null ? givenTo : OffsetDateTime.now(ZoneOffset.UTC);
    OffsetDateTime from = givenFrom != null ? givenFrom : latest(to.minusDays(30), EARLIEST);
    if (!from.isBefore(to)) {
      throw ApiException.validation("from", "must be before to");
    }
    Responses.reply(ctx, pools.withPool(Principal.required(ctx).userId(), pool ->
        pool.preparedQuery(sql).execute(Tuple.of(from, to))), rows -> {
          JsonArray groups = new JsonArray();
          JsonObject totals = new JsonObject().put("messages", 0L).put("inputTokens", 0L).put("outputTokens", 0L)
              .put("cacheCreationInputTokens", 0L).put("cacheReadInputTokens", 0L).put("totalTokens", 0L);
          rows.forEach(r -> {
            JsonObject group = new JsonObject().put(groupBy.equals("project") ? "projectId" : groupBy,
                    r.getString("key"))
                .put("messages", r.getLong("messages"))
                .put("inputTokens", r.getLong("input_tokens"))
                .put("outputTokens", r.getLong("output_tokens"))
                .put("cacheCreationInputTokens", r.getLong("cache_creation_input_tokens"))
                .put("cacheReadInputTokens", r.getLong("cache_read_input_tokens"))
                .put("totalTokens", r.getLong("total_tokens"));
            groups.add(group);
            group.fieldNames().stream().filter(totals::containsKey)
                .forEach(k -> totals.put(k, totals.getLong(k) + group.getLong(k)));
          });
          Responses.ok(ctx, new JsonObject().put("from", from.toInstant().toString())
              .put("to", to.toInstant().toString()).put("groupBy", groupBy).put("groups", groups)
              .put("totals", totals));
        });
  }

  private static OffsetDateTime latest(OffsetDateTime a, OffsetDateTime b) {
    return a.isAfter(b) ? a : b;
  }
}
