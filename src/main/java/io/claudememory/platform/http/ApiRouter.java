package io.claudememory.platform.http;

import io.vertx.core.Handler;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import io.vertx.ext.web.handler.BodyHandler;
import io.vertx.ext.web.handler.CorsHandler;
import java.util.List;
import java.util.Set;
import java.util.function.BiConsumer;
import java.util.function.Consumer;

/**
 * Assembles the router: the count of requests in flight, request ids, access log, security headers and the refusal
 * of undecodable URIs first, CORS (listed origins only), the per-address rate limit, a bounded body reader, every
 * capability's routes under {@code /api/v1}, the few routes outside it (the API docs) at the root, and one failure
 * handler for everything (404 and 405 included).
 */
public final class ApiRouter {
  private final List<Consumer<Router>> groups;
  private final List<Consumer<Router>> rootGroups;
  private final long bodyLimit;
  private final List<String> allowedOrigins;
  private final boolean production;
  private final Handler<RoutingContext> rateLimit;
  private final Set<String> streamedBodies;
  private final List<BiConsumer<Vertx, Router>> socketGroups;
  private final InFlightRequests inFlight = new InFlightRequests();

  /**
   * {@code groups} mount under {@code /api/v1}; {@code rootGroups} on the root router, with full paths.
   * {@code rateLimit} runs before the routes (per client address); per-user limits run after authentication.
   * {@code streamedBodies} are the full paths whose routes read their own bodies (uploads streamed to disk, with a
   * limit of their own): the bounded JSON body reader leaves those alone. {@code socketGroups} mount outside
   * {@code /api/v1} and before CORS (the WebSocket endpoint: a token-authenticated socket carries no ambient
   * credential, so cross-origin use is harmless); each is called on the verticle's loop.
   */
  public ApiRouter(List<Consumer<Router>> groups, List<Consumer<Router>> rootGroups, long bodyLimit,
      List<String> allowedOrigins, boolean production, Handler<RoutingContext> rateLimit,
      Set<String> streamedBodies, List<BiConsumer<Vertx, Router>> socketGroups) {
    this.groups = groups;
    this.rootGroups = rootGroups;
    this.bodyLimit = bodyLimit;
    this.allowedOrigins = allowedOrigins;
    this.production = production;
    this.rateLimit = rateLimit;
    this.streamedBodies = Set.copyOf(streamedBodies);
    this.socketGroups = socketGroups;
  }

  public Router build(Vertx vertx) {
    Router root = Router.router(vertx);
    root.route().handler(inFlight).handler(new RequestIds()).handler(new AccessLog()).handler(new SecurityHeaders(production))
        .handler(new RequestTargets());
    socketGroups.forEach(group -> group.accept(vertx, root));
    // With no origin listed there is no CORS at all (same origin only): an empty CorsHandler would allow "*".
    if (!allowedOrigins.isEmpty()) {
      CorsHandler cors = CorsHandler.create()
          .allowedMethods(Set.of(HttpMethod.GET, HttpMethod.POST, HttpMethod.PUT, HttpMethod.PATCH, HttpMethod.DELETE))
          .allowedHeaders(Set.of("Authorization", "Content-Type", "Idempotency-Key", RequestIds.HEADER))
          .exposedHeaders(Set.of(RequestIds.HEADER, "Retry-After", "RateLimit", "RateLimit-Policy",
              Idempotency.REPLAYED))
          .allowCredentials(true)
          .maxAgeSeconds(600);
      allowedOrigins.forEach(cors::addOrigin);
      root.route().handler(ctx -> {
        if (sameOrigin(ctx)) {
          ctx.next();
        } else {
          cors.handle(ctx);
        }
      });
    }
    // Path-less routes, limited to /api by the handlers themselves: a route with a path would become part of every
    // request's route label (see RouteLabels).
    BodyHandler body = BodyHandler.create(false).setBodyLimit(bodyLimit);
    root.route().handler(ctx -> apiOnly(ctx, rateLimit));
    root.route().handler(ctx -> {
      if (streamedBodies.contains(ctx.normalizedPath())) {
        ctx.next(); // an upload route reads its own body, with its own limit
      } else {
        apiOnly(ctx, body);
      }
    });

    Router api = Router.router(vertx);
    groups.forEach(group -> group.accept(api));
    api.route().failureHandler(new FailureHandler());
    root.route("/api/v1/*").subRouter(api);
    rootGroups.forEach(group -> group.accept(root));

    root.route().failureHandler(new FailureHandler());
    root.errorHandler(404, ctx -> FailureHandler.send(ctx, FailureHandler.fromStatus(404, null)));
    root.errorHandler(405, ctx -> FailureHandler.send(ctx, FailureHandler.fromStatus(405, null)));
    return root;
  }

  /** The requests being handled by the routers this builds, on every event loop. */
  public InFlightRequests inFlight() {
    return inFlight;
  }

  /** The server's answer to requests its HTTP decoder refuses, before any route (see {@link InvalidRequests}). */
  public Handler<HttpServerRequest> invalidRequests() {
    return new InvalidRequests(production);
  }

  /**
   * A browser sends Origin on same-origin POSTs too (the docs page trying the API): that is not CORS. The scheme is
   * left out, since TLS usually ends at the proxy in front.
   */
  private static boolean sameOrigin(RoutingContext ctx) {
    String origin = ctx.request().getHeader("Origin");
    String host = ctx.request().getHeader("Host");
    if (origin == null || host == null) {
      return false;
    }
    int scheme = origin.indexOf("://");
    return scheme > 0 && origin.substring(scheme + 3).equalsIgnoreCase(host);
  }

  private static void apiOnly(RoutingContext ctx, Handler<RoutingContext> handler) {
    if (ctx.normalizedPath().startsWith("/api/")) {
      handler.handle(ctx);
    } else {
      ctx.next();
    }
  }
}
