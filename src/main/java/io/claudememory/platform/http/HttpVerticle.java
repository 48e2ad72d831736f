package io.claudememory.platform.http;

import io.vertx.core.Future;
import io.vertx.core.Handler;
import io.vertx.core.VerticleBase;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.ext.web.Router;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;

/**
 * Serves HTTP (and, later, WebSocket) on one event loop; deployed once per event loop, all sharing the port. Stopping
 * it is graceful: no new connections, in-flight requests get {@code graceSeconds} to finish.
 */
public final class HttpVerticle extends VerticleBase {
  private final Function<Vertx, Router> routes;
  private final Handler<HttpServerRequest> invalidRequests;
  private final HttpServerOptions options;
  private final int graceSeconds;
  private HttpServer server;

  /** {@code invalidRequests} answers what the HTTP decoder refuses before routing (a malformed or too long URI). */
  public HttpVerticle(Function<Vertx, Router> routes, Handler<HttpServerRequest> invalidRequests,
      HttpServerOptions options, int graceSeconds) {
    this.routes = routes;
    this.invalidRequests = invalidRequests;
    this.options = options;
    this.graceSeconds = graceSeconds;
  }

  @Override
  public Future<?> start() {
    server = vertx.createHttpServer(options).requestHandler(routes.apply(vertx))
        .invalidRequestHandler(invalidRequests);
    return server.listen();
  }

  @Override
  public Future<?> stop() {
    return server.shutdown(graceSeconds, TimeUnit.SECONDS);
  }
}
