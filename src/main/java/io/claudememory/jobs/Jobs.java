package io.claudememory.jobs;

import io.claudememory.platform.EventAddresses;
import io.claudememory.platform.http.ApiException;
import io.claudememory.platform.http.Ids;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.RowSet;
import io.vertx.sqlclient.SqlClient;
import io.vertx.sqlclient.Tuple;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The master {@code jobs} table: submitting, claiming ({@code FOR UPDATE SKIP LOCKED}: two nodes never run the same
 * job), progress with heartbeat, completion, and re-queueing jobs whose node died. Updates by a runner name its node
 * ({@code locked_by}), so a node that lost a job to a re-queue can no longer change it.
 */
public final class Jobs {
  private static final Logger LOG = LoggerFactory.getLogger(Jobs.class);
  static final String USER_ID = "userId";
  /** Job parameters never shown to clients. */
  public static final java.util.Set<String> HIDDEN_PARAMS = java.util.Set.of("passphrase", "upload");
  private static final String COLUMNS = """
      id, user_id, kind, status, progress, counts, error, params, result, attempts, created_at, started_at,
      finished_at""";
  static final String INSERT = "INSERT INTO jobs (id, user_id, kind, params) VALUES ($1, $2, $3, $4) RETURNING "
      + COLUMNS;
  static final String FIND_OWN = "SELECT " + COLUMNS + " FROM jobs WHERE id = $1 AND user_id = $2";
  /** Serialises submissions of one user (a transaction-scoped advisory lock), so a cap on them is exact. */
  static final String LOCK_USER = "SELECT pg_advisory_xact_lock(hashtextextended($1::text, 7001))";
  static final String ACTIVE_OF_KINDS = """
      SELECT count(*) AS active FROM jobs WHERE user_id = $1 AND kind = ANY($2) AND status IN ('queued', 'running')""";
  static final String CLAIM = """
      UPDATE jobs SET status = 'running', locked_by = $1, heartbeat_at = now(),
        started_at = coalesce(started_at, now()), attempts = attempts + 1
      WHERE id = (SELECT id FROM jobs WHERE status = 'queued' ORDER BY created_at LIMIT 1 FOR UPDATE SKIP LOCKED)
      RETURNING """ + " " + COLUMNS;
  static final String PROGRESS = """
      UPDATE jobs SET progress = $3, counts = $4, heartbeat_at = now()
      WHERE id = $1 AND locked_by = $2 AND status = 'running' RETURNING""" + " " + COLUMNS;
  static final String FINISH = """
      UPDATE jobs SET status = $3, progress = CASE WHEN $3 = 'succeeded' THEN 1 ELSE progress END, result = $4,
        error = $5, finished_at = now(), locked_by = NULL, heartbeat_at = NULL
      WHERE id = $1 AND locked_by = $2 AND status = 'running' RETURNING""" + " " + COLUMNS;
  static final String OWNED = "SELECT 1 FROM jobs WHERE id = $1 AND locked_by = $2 AND status = 'running'";
  static final String HEARTBEAT = """
      UPDATE jobs SET heartbeat_at = now() WHERE locked_by = $1 AND status = 'running' AND id = ANY($2)""";
  /** $1: a node whose running jobs are all orphans (this node, at start), or null; $2: stale seconds. */
  static final String REQUEUE = """
      UPDATE jobs SET
        status = CASE WHEN attempts >= $3 THEN 'failed' ELSE 'queued' END,
        error = CASE WHEN attempts >= $3 THEN 'The job was interrupted too many times.' ELSE error END,
        finished_at = CASE WHEN attempts >= $3 THEN now() END,
        locked_by = NULL, heartbeat_at = NULL
      WHERE status = 'running' AND (locked_by = $1 OR heartbeat_at < now() - make_interval(secs => $2))
      RETURNING""" + " " + COLUMNS;

  private final Vertx vertx;
  private final Pool master;

  private final java.util.function.BiConsumer<UUID, JsonObject> notify;

  public Jobs(Vertx vertx, Pool master) {
    this(vertx, master, (user, note) -> vertx.eventBus().publish(EventAddresses.user(user), note));
  }

  /** {@code notify} delivers a notification to a user's sockets (on every node, through the room fan-out). */
  public Jobs(Vertx vertx, Pool master, java.util.function.BiConsumer<UUID, JsonObject> notify) {
    this.vertx = vertx;
    this.master = master;
    this.notify = notify;
  }

  /** Inserts a queued job on {@code client} (part of the caller's transaction when it is one). */
  public Future<JsonObject> insert(SqlClient client, UUID userId, String kind, JsonObject params) {
    return client.preparedQuery(INSERT).execute(Tuple.of(Ids.newId(), userId, kind, params)).map(Jobs::single);
  }

  /**
   * Inserts a queued job unless the user already has {@code maxActive} jobs of {@code kinds} queued or running: then
   * the answer is a 429 (one user's mass submissions would otherwise fill the queue every node shares).
   */
  public Future<JsonObject> insertUnlessBusy(UUID userId, String kind, JsonObject params, List<String> kinds,
      int maxActive) {
    return master.withTransaction(conn -> conn.preparedQuery(LOCK_USER).execute(Tuple.of(userId.toString()))
        .compose(locked -> conn.preparedQuery(ACTIVE_OF_KINDS).execute(Tuple.tuple().addUUID(userId)
            .addArrayOfString(kinds.toArray(new String[0]))))
        .compose(rows -> rows.iterator().next().getLong("active") >= maxActive
            ? Future.failedFuture(ApiException.tooManyRequests("You already have " + maxActive + " exports or imports "
                + "waiting or running; start another when one has finished.", 10))
            : insert(conn, userId, kind, params)));
  }

  /** Tells the Jobs verticles a job is waiting; harmless when none listens, as they also poll. */
  public void kick(JsonObject job) {
    vertx.eventBus().request(EventAddresses.JOBS_SUBMIT, job.getString("id"), new DeliveryOptions()
        .setSendTimeout(5000)).onFailure(err -> LOG.debug("job {} not acknowledged ({}); the poll will find it",
            job.getString("id"), err.getMessage()));
  }

  /** The caller's own job, or null (someone else's job is as absent as a missing one). */
  public Future<JsonObject> findOwn(UUID userId, UUID jobId) {
    return master.preparedQuery(FIND_OWN).execute(Tuple.of(jobId, userId)).map(Jobs::single).map(Jobs::visible);
  }

  /**
   * The job as its owner may see it: parameters only the runner needs ({@link #HIDDEN_PARAMS}: a sealed passphrase,
   * a server-side file path) are left out.
   */
  public static JsonObject visible(JsonObject job) {
    if (job == null) {
      return null;
    }
    JsonObject copy = job.copy();
    JsonObject params = copy.getJsonObject("params");
    if (params != null) {
      HIDDEN_PARAMS.forEach(params::remove);
    }
    return copy;
  }

  Future<JsonObject> claim(String nodeId) {
    return master.preparedQuery(CLAIM).execute(Tuple.of(nodeId)).map(Jobs::single);
  }

  Future<JsonObject> progress(UUID jobId, String nodeId, double progress, JsonObject counts) {
    return master.preparedQuery(PROGRESS).execute(Tuple.of(jobId, nodeId, progress,
        counts == null ? new JsonObject() : counts)).map(Jobs::single).onSuccess(this::publish);
  }

  Future<JsonObject> finish(UUID jobId, String nodeId, boolean succeeded, JsonObject result, String error) {
    return master.preparedQuery(FINISH).execute(Tuple.of(jobId, nodeId, succeeded ? "succeeded" : "failed",
        result, error)).map(Jobs::single).onSuccess(this::publish);
  }

  /** Whether {@code nodeId} still runs the job (it was not re-queued and taken up elsewhere). */
  Future<Boolean> owned(UUID jobId, String nodeId) {
    return master.preparedQuery(OWNED).execute(Tuple.of(jobId, nodeId)).map(rows -> rows.size() > 0);
  }

  Future<Void> heartbeat(String nodeId, List<UUID> running) {
    return master.preparedQuery(HEARTBEAT)
        .execute(Tuple.tuple().addString(nodeId).addArrayOfUUID(running.toArray(new UUID[0]))).mapEmpty();
  }

  Future<List<JsonObject>> requeue(String orphanedNode, int staleSeconds, int maxAttempts) {
    return master.preparedQuery(REQUEUE).execute(Tuple.of(orphanedNode, (double) staleSeconds, maxAttempts)).map(rows -> {
      List<JsonObject> jobs = new ArrayList<>();
      rows.forEach(row -> jobs.add(toJson(row)));
      jobs.forEach(this::publish);
      return jobs;
    });
  }

  /** Publishes a {@code job.progress} notification to the job's owner. */
  void publish(JsonObject job) {
    if (job != null) {
      notify.accept(UUID.fromString(job.getString(USER_ID)),
          new JsonObject().put("type", EventAddresses.JOB_PROGRESS).put("job", visible(job)));
    }
  }

  private static JsonObject single(RowSet<Row> rows) {
    return rows.size() == 0 ? null : toJson(rows.iterator().next());
  }

  /** The job as clients see it. */
  static JsonObject toJson(Row row) {
    return new JsonObject()
        .put("id", row.getUUID("id").toString())
        .put(USER_ID, row.getUUID("user_id").toString())
        .put("kind", row.getString("kind"))
        .put("status", row.getString("status"))
        .put("progress", row.getDouble("progress"))
        .put("counts", row.getJsonObject("counts"))
        .put("error", row.getString("error"))
        .put("params", row.getJsonObject("params"))
        .put("result", row.getJsonObject("result"))
        .put("attempts", row.getInteger("attempts"))
        .put("createdAt", instant(row.getOffsetDateTime("created_at")))
        .put("startedAt", instant(row.getOffsetDateTime("started_at")))
        .put("finishedAt", instant(row.getOffsetDateTime("finished_at")));
  }

  private static String instant(OffsetDateTime time) {
    return time == null ? null : time.toInstant().toString();
  }
}
