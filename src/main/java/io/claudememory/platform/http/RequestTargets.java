package io.claudememory.platform.http;

import io.vertx.core.Handler;
import io.vertx.ext.web.RoutingContext;

/**
 * Refuses a request whose path or query cannot be decoded (a bad percent-encoding such as {@code %zz} or a lone
 * {@code %}) with a 400 problem, before any route sees it. Left to the router, such a request fails while routes are
 * matched, outside every handler: Vert.x then answers a bare 400 (or, when a route had paused the request to read
 * its body, nothing at all).
 */
public final class RequestTargets implements Handler<RoutingContext> {
  @Override
  public void handle(RoutingContext ctx) {
    try {
      ctx.normalizedPath();
      ctx.request().params();
    } catch (IllegalArgumentException malformed) {
      FailureHandler.send(ctx, ApiException.badRequest(
          "The request URI is malformed: its path or query has an invalid percent-encoding."));
      return;
    }
    ctx.next();
  }

  /** The normalised path, or the path as sent when it cannot be normalised (this handler refuses it later). */
  static String path(RoutingContext ctx) {
    try {
      return ctx.normalizedPath();
    } catch (IllegalArgumentException malformed) {
      return ctx.request().path();
    }
  }
}
