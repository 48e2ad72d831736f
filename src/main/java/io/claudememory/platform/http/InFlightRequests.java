package io.claudememory.platform.http;

import io.vertx.core.Future;
import io.vertx.core.Handler;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.ext.web.RoutingContext;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Counts the requests being handled, from the first handler until the handler ends the answer (writes its headers).
 *
 * <p>Shutting an HTTP server down waits for its connections, not for its handlers: a client that gives up closes
 * its connection while the handler goes on (a message half stored, a webhook event being written), and would then
 * meet pools that shutdown had already closed. A handler ends its answer even when the client has left, so the answer's
 * headers are when its work is over; the end of the connection, which is what {@code addEndHandler} reports, is not.
 * WebSocket upgrades are not counted: a socket is closed by the realtime layer, not drained.
 */
public final class InFlightRequests implements Handler<RoutingContext> {
  private static final long POLL_MS = 20;
  private final AtomicInteger count = new AtomicInteger();

  @Override
  public void handle(RoutingContext ctx) {
    if (!"websocket".equalsIgnoreCase(ctx.request().getHeader("Upgrade"))) {
      count.incrementAndGet();
      ctx.addHeadersEndHandler(done -> count.decrementAndGet());
    }
    ctx.next();
  }

  public int count() {
    return count.get();
  }

  /** Completes once no request is being handled, or after {@code limitMs} (it never fails). */
  public Future<Void> drained(Vertx vertx, long limitMs) {
    Promise<Void> drained = Promise.promise();
    long deadline = System.nanoTime() + limitMs * 1_000_000;
    if (count.get() == 0) {
      return Future.succeededFuture();
    }
    vertx.setPeriodic(POLL_MS, id -> {
      if (count.get() == 0 || System.nanoTime() > deadline) {
        vertx.cancelTimer(id);
        drained.tryComplete();
      }
    });
    return drained.future();
  }
}
