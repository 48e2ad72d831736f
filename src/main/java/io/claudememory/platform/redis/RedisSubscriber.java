package io.claudememory.platform.redis;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.redis.client.Command;
import io.vertx.redis.client.Redis;
import io.vertx.redis.client.RedisConnection;
import io.vertx.redis.client.RedisOptions;
import io.vertx.redis.client.Request;
import io.vertx.redis.client.Response;
import io.vertx.redis.client.ResponseType;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A Redis pub/sub subscriber to one channel, on a dedicated connection (a subscribed connection can do nothing else,
 * so never one from the command pool), named {@code clientName} so that an operator can tell it apart in CLIENT LIST.
 * It reconnects with capped exponential backoff and subscribes again; {@code onSubscribed} runs after every
 * (re)subscription, since pub/sub keeps nothing for a disconnected subscriber and messages may have been missed.
 *
 * <p>Metrics, tagged {@code subscriber=<name>}: {@code cmb_redis_subscriber_up} is 1 while subscribed, and
 * {@code cmb_redis_subscriber_connects_total} counts (re)subscriptions (a rising count means a flapping link).
 */
public final class RedisSubscriber {
  private static final Logger LOG = LoggerFactory.getLogger(RedisSubscriber.class);
  private final Vertx vertx;
  private final Redis client;
  private final String channel;
  private final String clientName;
  private final Consumer<String> onMessage;
  private final Runnable onSubscribed;
  private final Counter connects;
  private volatile boolean subscribed;
  private volatile RedisConnection current;
  private volatile boolean closed;
  private int attempt;

  public RedisSubscriber(Vertx vertx, String redisUrl, String channel, String clientName, String metricName,
      MeterRegistry metrics, Consumer<String> onMessage, Runnable onSubscribed) {
    this.vertx = vertx;
    this.client = Redis.createClient(vertx, new RedisOptions().setConnectionString(redisUrl).setMaxPoolSize(1));
    this.channel = channel;
    this.clientName = clientName;
    this.onMessage = onMessage;
    this.onSubscribed = onSubscribed;
    this.connects = Counter.builder("cmb_redis_subscriber_connects_total")
        .description("Successful (re)subscriptions of the Redis pub/sub subscriber")
        .tag("subscriber", metricName)
        .register(metrics);
    Gauge.builder("cmb_redis_subscriber_up", this, s -> s.subscribed ? 1 : 0)
        .description("1 while the Redis pub/sub subscriber is subscribed").tag("subscriber", metricName)
        .register(metrics);
  }

  /** The Redis client name of a node's subscriber for {@code role}: {@code cmb-<role>-<node id, made safe>}. */
  public static String clientName(String role, String nodeId) {
    return "cmb-" + role + "-" + nodeId.replaceAll("[^A-Za-z0-9_.-]", "_");
  }

  /** Connects in the background; start-up does not wait for Redis. */
  public void start() {
    connect();
  }

  public boolean subscribed() {
    return subscribed;
  }

  public Future<Void> close() {
    closed = true;
    subscribed = false;
    return client.close();
  }

  private void connect() {
    if (closed) {
      return;
    }
    RedisConnection[] opened = {null};
    client.connect().compose(conn -> {
      opened[0] = conn;
      current = conn;
      conn.handler(this::onPush);
      conn.exceptionHandler(err -> lost(conn, err.getMessage()));
      conn.endHandler(v -> lost(conn, "connection closed"));
      return conn.send(Request.cmd(Command.CLIENT).arg("SETNAME").arg(clientName))
          .compose(named -> conn.send(Request.cmd(Command.SUBSCRIBE).arg(channel))).map(conn);
    }).onSuccess(conn -> {
      attempt = 0;
      subscribed = true;
      connects.increment();
      LOG.info("subscribed to {}", channel);
      onSubscribed.run();
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
    LOG.warn("{} subscriber down ({}), reconnecting in {} ms", channel, reason, delay);
    vertx.setTimer(delay, id -> connect());
  }

  /** RESP3 delivers PUSH frames, RESP2 arrays: {@code ["message", channel, payload]}. */
  private void onPush(Response response) {
    if (response.type() != ResponseType.PUSH && response.type() != ResponseType.MULTI || response.size() < 3
        || !"message".equals(response.get(0).toString())) {
      return;
    }
    onMessage.accept(response.get(2).toString());
  }
}
