package io.claudememory.jobs;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import java.util.UUID;

/**
 * What a running job knows and may do: its row's identity and parameters, and progress reports, which refresh the
 * heartbeat and are published to the owner's {@code user.<id>} address. A report fails when this node no longer owns
 * the job (it was re-queued elsewhere), which stops the handler.
 */
public final class JobContext {
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

  /** Records progress ({@code fraction} in 0..1) and counts so far. */
  public Future<Void> progress(double fraction, JsonObject counts) {
    double bounded = Math.max(0, Math.min(1, fraction));
    return jobs.progress(jobId(), nodeId, bounded, counts).compose(updated -> updated == null
        ? Future.failedFuture(new JobFailure("The job was taken over by another node."))
        : Future.succeededFuture());
  }
}
