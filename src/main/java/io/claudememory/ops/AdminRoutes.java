package io.claudememory.ops;

import io.claudememory.auth.Authenticator;
import io.claudememory.platform.db.TenantPools;
import io.claudememory.platform.http.Ids;
import io.claudememory.platform.http.Principal;
import io.claudememory.platform.http.QueryParams;
import io.claudememory.platform.http.Responses;
import io.claudememory.platform.http.Validation;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Row;
import java.util.Set;

/**
 * {@code /api/v1/admin/*}: for the admin role only; everyone else gets 403. Statistics, the list of users (cursor
 * pages) and changes of a user's role or status ({@code PATCH /admin/users/{id}} with {@code {role?, active?}}).
 */
public final class AdminRoutes {
  private static final String STATS = """
      SELECT (SELECT count(*) FROM users) AS users,
             (SELECT count(*) FROM users WHERE active) AS active_users,
             (SELECT count(*) FROM tenant_databases WHERE kind = 'managed') AS managed_databases,
             (SELECT count(*) FROM tenant_databases WHERE kind = 'external') AS external_databases""";
  private final Authenticator auth;
  private final Pool master;
  private final TenantPools tenants;
  private final AdminUsers users;

  public AdminRoutes(Authenticator auth, Pool master, TenantPools tenants, AdminUsers users) {
    this.auth = auth;
    this.master = master;
    this.tenants = tenants;
    this.users = users;
  }

  public void mount(Router api) {
    api.get("/admin/stats").handler(auth).handler(Authenticator::requireAdmin).handler(this::stats);
    api.get("/admin/users").handler(auth).handler(Authenticator::requireAdmin).handler(this::listUsers);
    api.patch("/admin/users/:id").handler(auth).handler(Authenticator::requireAdmin).handler(this::updateUser);
  }

  private void listUsers(RoutingContext ctx) {
    QueryParams q = QueryParams.of(ctx);
    int limit = q.limit();
    q.check();
    String cursor = ctx.queryParams().get("cursor");
    Responses.reply(ctx, users.list(cursor == null || cursor.isEmpty() ? null : cursor, limit),
        page -> Responses.page(ctx, page.users(), page.nextCursor()));
  }

  private void updateUser(RoutingContext ctx) {
    var id = Ids.pathId(ctx, "id", "The user");
    Validation v = Validation.of(ctx, Set.of("role", "active"));
    String role = v.optionalString("role", 1, 20);
    if (role != null && !role.equals("user") && !role.equals("admin")) {
      v.error("role", "must be user or admin");
    }
    Boolean active = v.optionalBoolean("active");
    if (role == null && active == null && !v.hasError("role") && !v.hasError("active")) {
      v.error("role", "role or active is required");
    }
    v.check();
    Responses.reply(ctx, users.update(Principal.required(ctx).userId(), id, new AdminUsers.Change(role, active),
        Responses.caller(ctx)), user -> Responses.ok(ctx, user));
  }

  private void stats(RoutingContext ctx) {
    Responses.reply(ctx, master.query(STATS).execute(), rows -> {
      Row row = rows.iterator().next();
      Responses.ok(ctx, new JsonObject()
          .put("users", row.getLong("users"))
          .put("activeUsers", row.getLong("active_users"))
          .put("managedDatabases", row.getLong("managed_databases"))
          .put("externalDatabases", row.getLong("external_databases"))
          .put("tenantPoolsOpen", tenants.openCount())
          .put("tenantPoolsFailing", tenants.failingCount()));
    });
  }
}
