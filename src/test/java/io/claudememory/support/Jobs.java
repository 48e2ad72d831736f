package io.claudememory.support;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.fail;

import io.vertx.core.json.JsonObject;
import java.util.Set;

/** Waiting for a job through {@code GET /api/v1/jobs/:id}, polling with a bound. */
public final class Jobs {
  private Jobs() {}

  /** The job once it succeeded or failed; fails the test after {@code seconds}. */
  public static JsonObject awaitFinished(ApiClient api, String token, String jobId, int seconds) {
    return awaitFinishedAt(api, token, "/api/v1/jobs/" + jobId, seconds);
  }

  /** Polls {@code path} (a job as {@code GET /jobs/{id}} or {@code /export/jobs/{id}} shows it) until it ends. */
  public static JsonObject awaitFinishedAt(ApiClient api, String token, String path, int seconds) {
    String jobId = path.substring(path.lastIndexOf('/') + 1);
    long deadline = System.nanoTime() + seconds * 1_000_000_000L;
    JsonObject job = null;
    while (System.nanoTime() < deadline) {
      ApiClient.Reply reply = api.get(path, token);
      assertEquals(200, reply.status(), reply.body());
      job = reply.data();
      if (Set.of("succeeded", "failed").contains(job.getString("status"))) {
        return job;
      }
      try {
        Thread.sleep(100);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        break;
      }
    }
    return fail("job " + jobId + " did not finish within " + seconds + "s; last seen: " + job);
  }
}
