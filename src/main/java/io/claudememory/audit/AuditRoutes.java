package io.claudememory.audit;

import static io.claudememory.platform.http.Responses.reply;

import io.claudememory.auth.Authenticator;
import io.claudememory.platform.http.ApiException;
import io.claudememory.platform.http.Principal;
import io.claudememory.platform.http.QueryParams;
import io.claudememory.platform.http.Responses;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import java.time.OffsetDateTime;
import java.util.UUID;

/**
 * {@code GET /api/v1/audit?action&from&to&limit&cursor}: the caller's trail (security events and data changes);
 * an admin may add {@code userId} to read another user's security events, or {@code scope=all} to read every user's,
 * those of no user included (a failed login for an unknown email).
 */
public final class AuditRoutes {
  private final AuditTrail trail;
  private final Authenticator auth;

  public AuditRoutes(AuditTrail trail, Authenticator auth) {
    this.trail = trail;
    this.auth = auth;
  }

  public void mount(Router api) {
    api.get("/audit").handler(auth).handler(this::listAuditEvents);
  }

  private void listAuditEvents(RoutingContext ctx) {
    Principal caller = Principal.required(ctx);
    QueryParams q = QueryParams.of(ctx);
    OffsetDateTime from = q.timestamp("from");
    OffsetDateTime to = q.timestamp("to");
    int limit = q.limit();
    String action = q.string("action", 100);
    if (action != null && action.isBlank()) {
      q.error("action", "must be 1 to 100 characters");
    }
    UUID userId = q.uuid("userId");
    String scope = q.string("scope", 10);
    boolean everyone = "all".equals(scope);
    if (scope != null && !everyone && !"own".equals(scope)) {
      q.error("scope", "must be own or all");
    }
    if (everyone && userId != null) {
      q.error("userId", "is not for scope all, which reads every user");
    }
    q.check();
    if (userId == null && !everyone) {
      userId = caller.userId();
    }
    boolean own = caller.userId().equals(userId);
    if (!own && !caller.admin()) {
      throw ApiException.forbidden("Only admins can read another user's trail.");
    }
    reply(ctx, trail.page(new AuditTrail.Query(userId, own, action, from, to, limit,
        ctx.queryParams().get("cursor"))), page -> Responses.page(ctx, page.getJsonArray("data"),
        page.getString("nextCursor")));
  }
}
