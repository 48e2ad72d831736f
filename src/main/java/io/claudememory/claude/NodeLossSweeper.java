package io.claudememory.claude;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Makes sure the death of a node is never silent for its answers (with Redis only: alone, a node's death takes its
 * clients with it). Every node refreshes the heartbeat of its running answers every {@code lossSeconds / 3}; every
 * {@code lossSeconds / 2} it looks for answers whose heartbeat is older than {@code lossSeconds}, takes each over
 * (exactly one node wins the claim), stores the text that had reached Redis with stop reason {@code error} when there
 * was any, and sends {@code assistant.error} with code {@code node_lost} to the room, so clients can regenerate.
 */
final class NodeLossSweeper {
  private static final Logger LOG = LoggerFactory.getLogger(NodeLossSweeper.class);
  static final String REASON = "The server writing this answer stopped; what it had written is kept. Regenerate to "
      + "try again.";
  private final Vertx vertx;
  private final RedisSnapshots redis;
  private final Answers answers;
  private final long lossMillis;
  private final long heartbeatTimer;
  private final long sweepTimer;

  NodeLossSweeper(Vertx vertx, RedisSnapshots redis, Answers answers, int lossSeconds,
      java.util.function.Supplier<List<Answers.Ref>> running) {
    this.vertx = vertx;
    this.redis = redis;
    this.answers = answers;
    this.lossMillis = lossSeconds * 1000L;
    this.heartbeatTimer = vertx.setPeriodic(Math.max(100, lossMillis / 3), t -> redis.heartbeat(running.get()));
    this.sweepTimer = vertx.setPeriodic(Math.max(100, lossMillis / 2), t -> sweep());
  }

  private void sweep() {
    redis.stale(System.currentTimeMillis() - lossMillis).onSuccess(refs -> refs.forEach(ref ->
        redis.claim(ref).compose(won -> won ? takeOver(ref) : Future.succeededFuture())
            .onFailure(err -> LOG.warn("could not close the orphaned answer {}: {}", ref.assistantMessageId(),
                err.getMessage()))));
  }

  private Future<Void> takeOver(Answers.Ref ref) {
    LOG.warn("answer {} lost its node; closing it", ref.assistantMessageId());
    return redis.text(ref.assistantMessageId()).compose(text -> {
      if (text.isEmpty()) {
        answers.announceError(ref, "node_lost", REASON, null);
        return Future.succeededFuture();
      }
      JsonArray blocks = new JsonArray().add(new JsonObject().put("type", "text").put("text", text));
      return answers.persist(ref, text, blocks, null, "error", null).map(message -> {
        answers.announceError(ref, "node_lost", REASON, message);
        answers.announceCreated(ref, message);
        return null;
      });
    }).eventually(() -> {
      redis.clear(ref);
      return Future.succeededFuture();
    }).mapEmpty();
  }

  void close() {
    vertx.cancelTimer(heartbeatTimer);
    vertx.cancelTimer(sweepTimer);
  }
}
