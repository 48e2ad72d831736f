package io.claudememory.bench;

import io.vertx.core.Future;
import io.vertx.core.Promise;
import java.util.ArrayList;
import java.util.List;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;

/** Closed-loop load: {@code concurrency} workers, each issuing its next request when the previous one completes. */
final class Workers {
  private Workers() {}

  /** Runs until {@code more} says stop; the future completes when every worker's last request has completed. */
  static Future<Void> run(int concurrency, BooleanSupplier more, Supplier<Future<?>> request) {
    List<Future<Void>> workers = new ArrayList<>();
    for (int i = 0; i < concurrency; i++) {
      Promise<Void> done = Promise.promise();
      next(more, request, done);
      workers.add(done.future());
    }
    return Future.all(workers).mapEmpty();
  }

  private static void next(BooleanSupplier more, Supplier<Future<?>> request, Promise<Void> done) {
    if (!more.getAsBoolean()) {
      done.complete();
      return;
    }
    request.get().onComplete(ignored -> next(more, request, done));
  }
}
