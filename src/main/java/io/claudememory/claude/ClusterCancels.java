package io.claudememory.claude;

import io.claudememory.platform.EventAddresses;
import io.claudememory.platform.redis.RedisSubscriber;
import io.micrometer.core.instrument.MeterRegistry;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.MessageConsumer;
import io.vertx.core.json.JsonObject;
import io.vertx.redis.client.RedisAPI;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Carries {@link EventAddresses#CLAUDE_CANCEL} to every node: an answer runs on the node that started it, while the
 * cancel (REST or WebSocket) may arrive at any node. A cancel published on this node's event bus without an
 * {@code origin} is published on the Redis channel {@code <prefix>claude-cancel} with this node's id; a cancel heard
 * there from another node is published on this node's event bus with its {@code origin}, where the
 * {@link ClaudeVerticle} acts on it (and this relay leaves it alone). Pub/sub keeps nothing, so a cancel sent while a
 * node's subscriber is reconnecting is lost; the user can cancel again. Without Redis, nothing to do.
 *
 * <p>The subscriber is a {@link RedisSubscriber} (dedicated connection, reconnects; its metrics are tagged
 * {@code subscriber="claude-cancel"}).
 */
public final class ClusterCancels {
  private static final Logger LOG = LoggerFactory.getLogger(ClusterCancels.class);
  private final Vertx vertx;
  private final String nodeId;
  private final RedisAPI publisher;
  private final String channel;
  private final RedisSubscriber subscriber;
  private MessageConsumer<JsonObject> local;

  public ClusterCancels(Vertx vertx, String nodeId, RedisAPI publisher, String redisUrl, String channelPrefix,
      MeterRegistry metrics) {
    this.vertx = vertx;
    this.nodeId = nodeId;
    this.publisher = publisher;
    this.channel = channelPrefix + "claude-cancel";
    this.subscriber = new RedisSubscriber(vertx, redisUrl, channel,
        RedisSubscriber.clientName("claude-cancel", nodeId), "claude-cancel", metrics, this::heard,
        () -> { });
  }

  public Future<Void> start() {
    subscriber.start();
    local = vertx.eventBus().consumer(EventAddresses.CLAUDE_CANCEL, message -> {
      JsonObject cancel = message.body();
      if (cancel.getString("origin") == null) {
        publisher.publish(channel, cancel.copy().put("origin", nodeId).encode()).onFailure(err -> LOG.warn(
            "could not relay a cancel to the other nodes (an answer running there goes on): {}", err.getMessage()));
      }
    });
    return local.completion();
  }

  private void heard(String payload) {
    try {
      JsonObject cancel = new JsonObject(payload);
      if (cancel.getString("origin") != null && !nodeId.equals(cancel.getString("origin"))) {
        vertx.eventBus().publish(EventAddresses.CLAUDE_CANCEL, cancel);
      }
    } catch (RuntimeException e) {
      LOG.warn("ignored a malformed message on {}: {}", channel, e.getMessage());
    }
  }

  public boolean subscribed() {
    return subscriber.subscribed();
  }

  public Future<Void> close() {
    Future<Void> unregistered = local == null ? Future.succeededFuture() : local.unregister();
    return Future.join(unregistered, subscriber.close()).mapEmpty();
  }
}
