package io.claudememory.platform.http;

import io.vertx.ext.web.RoutingContext;
import java.util.UUID;

/**
 * Who is calling: set on the routing context by {@link AuthHandler}. {@code apiKeyId} is set when the caller used an
 * API key instead of a JWT.
 */
public record Principal(UUID userId, String role, UUID apiKeyId) {
  private static final String KEY = "principal";

  public boolean admin() {
    return "admin".equals(role);
  }

  public void attach(RoutingContext ctx) {
    ctx.put(KEY, this);
  }

  public static Principal of(RoutingContext ctx) {
    return ctx.get(KEY);
  }

  /** The caller of a route behind {@link AuthHandler}; never null there. */
  public static Principal required(RoutingContext ctx) {
    Principal principal = of(ctx);
    if (principal == null) {
      throw ApiException.unauthorized("Authentication is required.");
    }
    return principal;
  }
}
