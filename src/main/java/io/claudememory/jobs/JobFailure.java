package io.claudememory.jobs;

import io.vertx.core.json.JsonObject;

/**
 * A job failure whose message is fit for the user (it becomes the job's {@code error}); {@code result}, when given,
 * becomes the failed job's {@code result} (e.g. an import's report of what it refused).
 */
public final class JobFailure extends RuntimeException {
  private final JsonObject result;

  public JobFailure(String message) {
    this(message, null);
  }

  public JobFailure(String message, JsonObject result) {
    super(message, null, false, false);
    this.result = result;
  }

  public JsonObject result() {
    return result;
  }
}
