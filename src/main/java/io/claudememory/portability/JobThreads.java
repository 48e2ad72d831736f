package io.claudememory.portability;

import io.vertx.core.Future;
import io.vertx.core.Promise;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Threads of their own for export and import jobs. A job is one sequential pipeline of blocking steps (ZIP, cipher,
 * files, JSON parsing) that waits for its reactive SQL with {@code Future.await()}, which Vert.x allows only off its
 * own threads; so the pipeline runs here, never on an event loop or a Vert.x worker. {@link #close()} interrupts what
 * still runs (on shutdown the job is re-queued and runs again: its steps are idempotent).
 */
public final class JobThreads implements AutoCloseable {
  private final ExecutorService executor;

  public JobThreads(int threads) {
    AtomicInteger n = new AtomicInteger();
    this.executor = Executors.newFixedThreadPool(threads, r -> {
      Thread t = new Thread(r, "portability-job-" + n.incrementAndGet());
      t.setDaemon(true);
      return t;
    });
  }

  /** Runs {@code work} on a job thread; the future completes with its result or failure. */
  public <T> Future<T> run(Callable<T> work) {
    Promise<T> promise = Promise.promise();
    executor.execute(() -> {
      try {
        promise.complete(work.call());
      } catch (Throwable e) {
        promise.fail(e);
      }
    });
    return promise.future();
  }

  @Override
  public void close() {
    executor.shutdownNow();
  }
}
