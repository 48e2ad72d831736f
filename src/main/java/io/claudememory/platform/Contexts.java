package io.claudememory.platform;

import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;

/** Keeping work on the Vert.x context of the request it belongs to. */
public final class Contexts {
  private Contexts() {}

  /**
   * {@code future}, completing on the caller's context. A future shared by several requests (a cache entry being
   * loaded, a pool being opened) completes on the context of the request that started it, and work continued there
   * would carry that request's context data: its request id in the logs, its context for the queries it issues.
   */
  public static <T> Future<T> onCaller(Vertx vertx, Future<T> future) {
    return on(vertx.getOrCreateContext(), future);
  }

  /** {@code future}, completing on {@code context} whatever context completes it. */
  public static <T> Future<T> on(Context context, Future<T> future) {
    if (future.isComplete() && Vertx.currentContext() == context) {
      return future;
    }
    Promise<T> there = Promise.promise();
    future.onComplete(done -> {
      if (Vertx.currentContext() == context) {
        there.handle(done);
      } else {
        context.runOnContext(v -> there.handle(done));
      }
    });
    return there.future();
  }
}
