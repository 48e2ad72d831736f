package io.claudememory.jobs;

import io.claudememory.platform.EventAddresses;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.eventbus.MessageConsumer;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Function;
import java.util.stream.Collectors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs jobs, deployed as a worker verticle (a handler may block: Flyway, files, ZIP). It claims queued rows when told
 * on {@link EventAddresses#JOBS_SUBMIT} and on every poll, up to {@code concurrency} at once; keeps the heartbeat of
 * its running jobs fresh; and on every poll re-queues jobs whose node stopped beating (and, at start, the jobs this
 * node id left running), so an interrupted job resumes on some node.
 */
public final class JobsVerticle extends VerticleBase {
  private static final Logger LOG = LoggerFactory.getLogger(JobsVerticle.class);

  /** Node identity and timing; {@code staleSeconds} must comfortably exceed {@code heartbeatMs}. */
  public record Settings(String nodeId, int concurrency, long pollMs, long heartbeatMs, int staleSeconds,
      int maxAttempts) {}

  private final Jobs jobs;
  private final Map<String, JobHandler> handlers;
  private final Settings settings;
  private final Set<UUID> running = ConcurrentHashMap.newKeySet();
  private final AtomicBoolean claiming = new AtomicBoolean();
  private volatile boolean stopping;
  private MessageConsumer<String> consumer;
  private long pollTimer;
  private long heartbeatTimer;

  public JobsVerticle(Jobs jobs, List<JobHandler> handlers, Settings settings) {
    this.jobs = jobs;
    this.handlers = handlers.stream().collect(Collectors.toMap(JobHandler::kind, Function.identity()));
    this.settings = settings;
  }

  @Override
  public Future<?> start() {
    consumer = vertx.eventBus().consumer(EventAddresses.JOBS_SUBMIT, message -> {
      message.reply(message.body());
      claimMore();
    });
    pollTimer = vertx.setPeriodic(settings.pollMs(), id -> requeueStale(null).onComplete(done -> claimMore()));
    heartbeatTimer = vertx.setPeriodic(settings.heartbeatMs(), id -> heartbeat());
    return requeueStale(settings.nodeId())
        .compose(done -> consumer.completion())
        .onSuccess(done -> claimMore());
  }

  @Override
  public Future<?> stop() {
    stopping = true;
    vertx.cancelTimer(pollTimer);
    vertx.cancelTimer(heartbeatTimer);
    if (!running.isEmpty()) {
      LOG.info("stopping with jobs {} still running; they will be re-queued", running);
    }
    return consumer.unregister();
  }

  private Future<Void> requeueStale(String orphanedNode) {
    return jobs.requeue(orphanedNode, settings.staleSeconds(), settings.maxAttempts())
        .onSuccess(requeued -> requeued.forEach(job -> LOG.warn("job {} ({}) was interrupted; now {}",
            job.getString("id"), job.getString("kind"), job.getString("status"))))
        .onFailure(err -> LOG.warn("could not re-queue stale jobs: {}", err.getMessage()))
        .mapEmpty();
  }

  /** Claims queued jobs one at a time while there is a free slot and something to claim. */
  private void claimMore() {
    if (stopping || running.size() >= settings.concurrency() || !claiming.compareAndSet(false, true)) {
      return;
    }
    jobs.claim(settings.nodeId()).onComplete(claimed -> {
      claiming.set(false);
      if (claimed.failed()) {
        LOG.warn("could not claim a job: {}", claimed.cause().getMessage());
      } else if (claimed.result() != null) {
        run(claimed.result());
        claimMore();
      }
    });
  }

  private void run(JsonObject job) {
    UUID id = UUID.fromString(job.getString("id"));
    running.add(id);
    jobs.publish(job);
    JobHandler handler = handlers.get(job.getString("kind"));
    LOG.info("job {} ({}) started, attempt {}", id, job.getString("kind"), job.getInteger("attempts"));
    Future<JsonObject> outcome;
    if (handler == null) {
      outcome = Future.failedFuture(new JobFailure("This kind of job is not known."));
    } else {
      try {
        outcome = handler.run(new JobContext(vertx, jobs, settings.nodeId(), job));
      } catch (RuntimeException e) {
        outcome = Future.failedFuture(e);
      }
    }
    outcome.transform(done -> {
      if (done.failed() && stopping) {
        // cut short by this node's shutdown: left running under this node's id, so it is re-queued (at once when
        // the node restarts, else once its heartbeat goes stale) instead of failing
        LOG.info("job {} interrupted by shutdown; it will be re-queued", id);
        return Future.<JsonObject>succeededFuture();
      }
      if (done.succeeded()) {
        LOG.info("job {} succeeded", id);
        return jobs.finish(id, settings.nodeId(), true, done.result(), null);
      }
      Throwable err = done.cause();
      if (err instanceof JobFailure) {
        LOG.info("job {} failed: {}", id, err.getMessage());
      } else {
        LOG.error("job {} failed", id, err);
      }
      String message = err instanceof JobFailure ? err.getMessage() : "The job failed unexpectedly.";
      return jobs.finish(id, settings.nodeId(), false, err instanceof JobFailure failure ? failure.result() : null,
          message);
    }).onComplete(done -> {
      running.remove(id);
      if (done.failed()) {
        LOG.warn("job {} outcome not recorded: {}", id, done.cause().getMessage());
      }
      claimMore();
    });
  }

  private void heartbeat() {
    if (!running.isEmpty()) {
      jobs.heartbeat(settings.nodeId(), new ArrayList<>(running))
          .onFailure(err -> LOG.warn("job heartbeat failed: {}", err.getMessage()));
    }
  }
}
