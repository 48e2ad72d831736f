package io.claudememory.auth;

import io.claudememory.platform.redis.RedisSubscriber;
import io.micrometer.core.instrument.MeterRegistry;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.redis.client.RedisAPI;
import java.util.UUID;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Makes a change to an account (deactivation, role, an ended sign-in, a revoked API key) take effect at once on every
 * node. The node that made the change drops what it cached of the user ({@link UserStates}, {@link ApiKeys}), and
 * publishes {@code {userId, deactivated, origin}} on the Redis channel {@value #CHANNEL}; every other node does the same
 * when the message arrives. Every node then announces the change on its event bus ({@link #changedAddress}), on which
 * the realtime layer checks the user's open sockets again.
 *
 * <p>Why pub/sub rather than a shorter cache: the cache (auth.stateCacheSeconds) saves a master query on every
 * request, and a few seconds of it stay correct for everything but revocation; pub/sub makes revocation immediate
 * without giving that up. Pub/sub has no replay, so while the subscriber is disconnected the cache TTL is the bound,
 * and on every (re)subscription the whole cache is dropped, since messages may have been missed meanwhile.
 *
 * <p>The subscriber is a {@link RedisSubscriber} (dedicated connection, reconnects; its metrics are tagged
 * {@code subscriber="auth-invalidate"}).
 */
public final class UserInvalidations {
  public static final String CHANNEL = "cmb:auth:invalidate";
  private static final Logger LOG = LoggerFactory.getLogger(UserInvalidations.class);
  private final Vertx vertx;
  private final UserStates states;
  private final ApiKeys apiKeys;
  private final String nodeId;
  private final RedisAPI publisher;
  private final RedisSubscriber subscriber;

  /** {@code redisUrl} null: a single node, local invalidation only. */
  public UserInvalidations(Vertx vertx, UserStates states, ApiKeys apiKeys, String nodeId, String redisUrl,
      RedisAPI publisher, MeterRegistry metrics) {
    this.vertx = vertx;
    this.states = states;
    this.apiKeys = apiKeys;
    this.nodeId = nodeId;
    this.publisher = publisher;
    // Messages sent while this node was not subscribed are lost: on every (re)subscription, forget everything cached.
    this.subscriber = redisUrl == null ? null : new RedisSubscriber(vertx, redisUrl, CHANNEL, clientName(),
        "auth-invalidate", metrics, this::onMessage, () -> {
          states.invalidateAll();
          apiKeys.forgetAll();
        });
  }

  /**
   * The event-bus address on which every change to the user's account or sign-ins is announced (on every node), body
   * {@code {userId, deactivated}}: open sockets check their credential again.
   */
  public static String changedAddress(UUID userId) {
    return "user." + userId + ".changed";
  }

  /** Starts the subscriber in the background; start-up does not wait for Redis. */
  public void start() {
    if (subscriber != null) {
      subscriber.start();
    }
  }

  /** Called after a committed change to a user's role or status. */
  public Future<Void> changed(UUID userId, boolean deactivated) {
    apply(userId, deactivated);
    if (publisher == null) {
      return Future.succeededFuture();
    }
    String message = new JsonObject().put("userId", userId.toString()).put("deactivated", deactivated)
        .put("origin", nodeId).encode();
    return publisher.publish(CHANNEL, message).<Void>mapEmpty().recover(err -> {
      LOG.warn("could not publish the invalidation of user {} (other nodes catch up within the cache TTL): {}",
          userId, err.getMessage());
      return Future.succeededFuture();
    });
  }

  public boolean subscribed() {
    return subscriber != null && subscriber.subscribed();
  }

  /** The Redis client name of this node's subscriber connection. */
  public String clientName() {
    return RedisSubscriber.clientName("auth-invalidate", nodeId);
  }

  private void apply(UUID userId, boolean deactivated) {
    states.invalidate(userId);
    apiKeys.forget(userId);
    vertx.eventBus().publish(changedAddress(userId), new JsonObject().put("userId", userId.toString())
        .put("deactivated", deactivated));
  }

  private void onMessage(String payload) {
    try {
      JsonObject body = new JsonObject(payload);
      if (!nodeId.equals(body.getString("origin"))) {
        apply(UUID.fromString(body.getString("userId")), body.getBoolean("deactivated", false));
      }
    } catch (RuntimeException e) {
      LOG.warn("ignored a malformed message on {}: {}", CHANNEL, e.getMessage());
    }
  }

  public Future<Void> close() {
    return subscriber == null ? Future.succeededFuture() : subscriber.close();
  }
}
