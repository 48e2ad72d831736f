package io.claudememory.jobs;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import java.util.UUID;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What a running job knows and may do: its row's identity and parameters, and progress reports, which refresh the
 * heartbeat and are published to the owner's {@code user.<id>} address. A report fails when this node no longer owns
 * the job (it was re-queued elsewhere), which stops the handler.
 */
public final class JobContext {
  private static final Logger LOG = LoggerFactory.getLogger(JobContext.class);
  private static final long FIRST_RETRY_MS = 1000;
  private static final long LAST_RETRY_MS = 60_000;
  private final Vertx vertx;
  private final Jobs jobs;
  private final String nodeId;
  private final JsonObject job;

  JobContext(Vertx vertx, Jobs jobs, String nodeId, JsonObject job) {
    this.vertx = vertx;
    this.jobs = jobs;
    this.nodeId = nodeId;
    this.job = job;
  }

  public Vertx vertx() {
    return vertx;
  }

  public UUID jobId() {
    return UUID.fromString(job.getString("id"));
  }

  public UUID userId() {
    return UUID.fromString(job.getString(Jobs.USER_ID));
  }

  public JsonObject params() {
    return job.getJsonObject("params", new JsonObject());
  }

  /** 1 on the first run, more after an interruption. */
  public int attempt() {
    return job.getInteger("attempts");
  }

  /**
   * Runs {@code step} until it succeeds, waiting 1 s after a failure, then twice as long each time up to a minute, for
   * as long as this node runs the job. For a job's last step when its effect must not be lost once the work is done
   * (the job's webhook event, which lives in another database than the job and so cannot share its transaction):
   * failing the job there would lose it, while a job still running is re-run elsewhere if this node dies, and that
   * run repeats the step. So the step is done at least once, and must be idempotent.
   */
  public <T> Future<T> untilDone(String what, Supplier<Future<T>> step) {
    return untilDone(what, step, FIRST_RETRY_MS);
  }

  private <T> Future<T> untilDone(String what, Supplier<Future<T>> step, long waitMs) {
    return step.get().recover(err -> {
      LOG.warn("job {}: {} failed, trying again in {} ms: {}", jobId(), what, waitMs, err.getMessage());
      // when the master cannot tell, keep trying: giving up would end the job without the step
      return vertx.timer(waitMs).compose(v -> jobs.owned(jobId(), nodeId).otherwise(true))
          .compose(owned -> owned ? untilDone(what, step, Math.min(2 * waitMs, LAST_RETRY_MS))
              : Future.failedFuture(new JobFailure("The job was taken over by another node.")));
    });
  }

  /** Records progress ({@code fraction} in 0..1) and counts so far. */
  public Future<Void> progress(double fraction, JsonObject counts) {
    double bounded = Math.max(0, Math.min(1, fraction));
    return jobs.progress(jobId(), nodeId, bounded, counts).compose(updated -> updated == null
        ? Future.failedFuture(new JobFailure("The job was taken over by another node."))
        : Future.succeededFuture());
  }
}
