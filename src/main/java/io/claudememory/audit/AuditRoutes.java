package io.claudememory.audit;

import static io.claudememory.platform.http.Responses.reply;

import io.claudememory.auth.Authenticator;
import io.claudememory.platform.http.ApiException;
import io.claudememory.platform.http.Ids;
import io.claudememory.platform.http.Principal;
import io.claudememory.platform.http.Responses;
import io.vertx.core.MultiMap;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import java.time.OffsetDateTime;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;

/**
 * {@code GET /api/v1/audit?action&from&to&limit&cursor}: the caller's trail (security events and data changes);
 * an admin may add {@code userId} to read another user's security events.
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
    MultiMap q = ctx.queryParams();
    List<ApiException.FieldError> errors = new ArrayList<>();
    OffsetDateTime from = time(q.get("from"), "from", errors);
    OffsetDateTime to = time(q.get("to"), "to", errors);
    int limit = 50;
    if (q.get("limit") != null) {
      try {
        limit = Integer.parseInt(q.get("limit"));
      } catch (NumberFormatException e) {
        limit = -1;
      }
      if (limit < 1 || limit > 200) {
        errors.add(new ApiException.FieldError("limit", "must be a whole number from 1 to 200"));
      }
    }
    String action = q.get("action");
    if (action != null && (action.isBlank() || action.length() > 100)) {
      errors.add(new ApiException.FieldError("action", "must be 1 to 100 characters"));
    }
    UUID userId = caller.userId();
    if (q.get("userId") != null) {
      userId = Ids.parseOrNull(q.get("userId"));
      if (userId == null) {
        errors.add(new ApiException.FieldError("userId", "must be an id (UUID)"));
      }
    }
    if (!errors.isEmpty()) {
      throw ApiException.validation(errors);
    }
    boolean own = userId.equals(caller.userId());
    if (!own && !caller.admin()) {
      throw ApiException.forbidden("Only admins can read another user's trail.");
    }
    reply(ctx, trail.page(new AuditTrail.Query(userId, own, action, from, to, limit, q.get("cursor"))),
        page -> Responses.page(ctx, page.getJsonArray("data"), page.getString("nextCursor")));
  }

  private static OffsetDateTime time(String value, String field, List<ApiException.FieldError> errors) {
    if (value == null) {
      return null;
    }
    try {
      return OffsetDateTime.parse(value);
    } catch (DateTimeParseException e) {
      errors.add(new ApiException.FieldError(field, "must be an ISO-8601 date-time with an offset"));
      return null;
    }
  }
}
