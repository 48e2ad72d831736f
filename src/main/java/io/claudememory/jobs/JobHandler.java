package io.claudememory.jobs;

import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;

/**
 * One kind of background job. {@link #run} may be called again for the same job after an interruption (the node
 * died, or the job was re-queued), so its steps must be restartable and idempotent. Its result becomes the job's
 * {@code result}; a failure with {@link JobFailure} is shown to the user as is, any other as a generic message.
 */
public interface JobHandler {
  String kind();

  Future<JsonObject> run(JobContext ctx);
}
