package io.claudememory.auth;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.redis.client.Command;
import io.vertx.redis.client.Redis;
import io.vertx.redis.client.RedisAPI;
import io.vertx.redis.client.RedisConnection;
import io.vertx.redis.client.RedisOptions;
import io.vertx.redis.client.Request;
import io.vertx.redis.client.Response;
import io.vertx.redis.client.ResponseType;
import java.util.UUID;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Makes a change to an account (deactivation, role) take effect at once on every node. The node that made the change
 * drops its cached {@link UserStates} entry, and publishes {@code {userId, deactivated, origin}} on the Redis channel
 * {@value #CHANNEL}; every other node drops its entry when the message arrives. A deactivation is also published on
 * this node's event bus as {@code user.<userId>.deactivated} (body: {@code {userId}}), on every node, so that the
 * realtime layer closes that user's sockets.
 *
 * <p>Why pub/sub rather than a shorter cache: the cache (auth.stateCacheSeconds) saves a master query on every
 * request, and a few seconds of it stay correct for everything but revocation; pub/sub makes revocation immediate
 * without giving that up. Pub/sub has no replay, so while the subscriber is disconnected the cache TTL is the bound,
 * and on every (re)subscription the whole cache is dropped, since messages may have been missed meanwhile.
 *
 * <p>The subscriber uses a dedicated connection (never one from the command pool) and reconnects with capped
 * exponential backoff; {@code cmb_redis_subscriber_up{subscriber="auth-invalidate"}} is 1 while it is subscribed,
 * and {@code cmb_redis_subscriber_connects_total} counts (re)subscriptions (a rising count means a flapping link).
 */
public final class UserInvalidations {
  public static final String CHANNEL = "cmb:auth:invalidate";
  private static final Logger LOG = LoggerFactory.getLogger(UserInvalidations.class);
  private final Vertx vertx;
  private final UserStates states;
  private final String nodeId;
  private final RedisAPI publisher;
  private final Redis subscriberClient;
  private volatile boolean subscribed;
  private volatile RedisConnection current;
  private final Counter connects;
  private volatile boolean closed;
  private int attempt;

  /** {@code redisUrl} null: a single node, local invalidation only. */
  public UserInvalidations(Vertx vertx, UserStates states, String nodeId, String redisUrl, RedisAPI publisher,
      MeterRegistry metrics) {
    this.vertx = vertx;
    this.states = states;
    this.nodeId = nodeId;
    this.publisher = publisher;
    this.subscriberClient = redisUrl == null ? null
        : Redis.createClient(vertx, new RedisOptions().setConnectionString(redisUrl).setMaxPoolSize(1));
    this.connects = Counter.builder("cmb_redis_subscriber_connects_total")
        .description("Successful (re)subscriptions of the Redis pub/sub subscriber")
        .tag("subscriber", "auth-invalidate")
        .register(metrics);
    if (subscriberClient != null) {
      Gauge.builder("cmb_redis_subscriber_up", this, u -> u.subscribed ? 1 : 0)
          .description("1 while the Redis pub/sub subscriber is subscribed").tag("subscriber", "auth-invalidate")
          .register(metrics);
    }
  }

  /** The event-bus address on which a deactivation is announced (on every node). */
  public static String deactivatedAddress(UUID userId) {
    return "user." + userId + ".deactivated";
  }

  /** Starts the subscriber in the background; start-up does not wait for Redis. */
  public void start() {
    if (subscriberClient != null) {
      connect();
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
    return subscribed;
  }

  /** The Redis client name of this node's subscriber connection. */
  public String clientName() {
    return "cmb-auth-invalidate-" + nodeId.replaceAll("[^A-Za-z0-9_.-]", "_");
  }

  private void apply(UUID userId, boolean deactivated) {
    states.invalidate(userId);
    if (deactivated) {
      vertx.eventBus().publish(deactivatedAddress(userId), new JsonObject().put("userId", userId.toString()));
    }
  }

  private void connect() {
    if (closed) {
      return;
    }
    RedisConnection[] opened = {null};
    subscriberClient.connect().compose(conn -> {
      opened[0] = conn;
      current = conn;
      conn.handler(this::onMessage);
      conn.exceptionHandler(err -> lost(conn, err.getMessage()));
      conn.endHandler(v -> lost(conn, "connection closed"));
      // Named, so that an operator can tell it apart in CLIENT LIST.
      return conn.send(Request.cmd(Command.CLIENT).arg("SETNAME").arg(clientName()))
          .compose(named -> conn.send(Request.cmd(Command.SUBSCRIBE).arg(CHANNEL))).map(conn);
    }).onSuccess(conn -> {
      attempt = 0;
      subscribed = true;
      connects.increment();
      // Messages sent while this node was not subscribed are lost: forget everything cached.
      states.invalidateAll();
      LOG.info("subscribed to {}", CHANNEL);
    }).onFailure(err -> {
      if (opened[0] == null) {
        retry(err.getMessage());
      } else {
        lost(opened[0], err.getMessage());
      }
    });
  }

  /** Each connection is given up once, whichever of its handlers reports first. */
  private void lost(RedisConnection conn, String reason) {
    if (conn == current) {
      current = null;
      retry(reason);
    }
  }

  private void retry(String reason) {
    subscribed = false;
    if (closed) {
      return;
    }
    long delay = Math.min(1L << Math.min(attempt++, 10), 1024) * 10;
    LOG.warn("{} subscriber down ({}), reconnecting in {} ms", CHANNEL, reason, delay);
    vertx.setTimer(delay, id -> connect());
  }

  private void onMessage(Response response) {
    if (response.type() != ResponseType.PUSH && response.type() != ResponseType.MULTI || response.size() < 3
        || !"message".equals(response.get(0).toString())) {
      return;
    }
    try {
      JsonObject body = new JsonObject(response.get(2).toString());
      if (!nodeId.equals(body.getString("origin"))) {
        apply(UUID.fromString(body.getString("userId")), body.getBoolean("deactivated", false));
      }
    } catch (RuntimeException e) {
      LOG.warn("ignored a malformed message on {}: {}", CHANNEL, e.getMessage());
    }
  }

  public Future<Void> close() {
    closed = true;
    subscribed = false;
    if (subscriberClient != null) {
      subscriberClient.close();
    }
    return Future.succeededFuture();
  }
}
