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
 * Serves HTTP and WebSocket on one event loop; deployed once per event loop, all sharing the port. Stopping it is
 * graceful: no new connections, and in-flight requests get {@code graceSeconds} to finish, those whose clients have
 * left included ({@link InFlightRequests}). The wait is part of stopping, while the verticle's context still runs the
 * requests' callbacks: once it is undeployed, they would never run.
 */
public final class HttpVerticle extends VerticleBase {
  private final Function<Vertx, Router> routes;
  private final Handler<HttpServerRequest> invalidRequests;
  private final InFlightRequests inFlight;
  private final HttpServerOptions options;
  private final int graceSeconds;
  private HttpServer server;

  /** {@code invalidRequests} answers what the HTTP decoder refuses before routing (a malformed or too long URI). */
  public HttpVerticle(Function<Vertx, Router> routes, Handler<HttpServerRequest> invalidRequests,
      InFlightRequests inFlight, HttpServerOptions options, int graceSeconds) {
    this.routes = routes;
    this.invalidRequests = invalidRequests;
    this.inFlight = inFlight;
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
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(graceSeconds);
    return server.shutdown(graceSeconds, TimeUnit.SECONDS)
        .compose(v -> inFlight.drained(vertx, Math.max(0, (deadline - System.nanoTime()) / 1_000_000)));
  }
}
