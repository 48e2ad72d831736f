package io.claudememory.realtime;

import io.claudememory.config.AppConfig;
import io.claudememory.platform.EventAddresses;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.VerticleBase;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.redis.client.Command;
import io.vertx.redis.client.Redis;
import io.vertx.redis.client.RedisConnection;
import io.vertx.redis.client.RedisOptions;
import io.vertx.redis.client.Request;
import io.vertx.redis.client.Response;
import io.vertx.redis.client.ResponseType;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Relays room and user events between nodes through Redis pub/sub: one channel per address
 * ({@code <prefix>room:<tenant>:<conversation>}, {@code <prefix>user:<id>}), subscribed only while this node has
 * sockets there. Two dedicated connections of its own: a subscriber (a subscribed connection can do nothing else)
 * and a publisher (one connection keeps this node's events in order). Events carry their origin node; a node never
 * re-delivers its own. When the subscriber drops it reconnects with capped exponential backoff, subscribes every
 * address again and tells the sockets there to catch up from the database ({@link EventAddresses#REALTIME_RESYNC}),
 * since Redis keeps nothing for a disconnected subscriber. All state is confined to this verticle's event loop.
 */
final class FanoutVerticle extends VerticleBase implements RoomEvents.Relay {
  private static final Logger LOG = LoggerFactory.getLogger(FanoutVerticle.class);
  private static final long CONFIRM_TIMEOUT_MS = 2000;
  private static final long FIRST_CONNECT_WAIT_MS = 5000;
  private final Promise<Void> firstConnect = Promise.promise();
  private final String redisUrl;
  private final String nodeId;
  private final AppConfig.Realtime settings;
  private final NodeRooms nodeRooms;
  private final RealtimeMetrics metrics;
  private final RoomEvents events;
  private final Set<String> subscribed = new HashSet<>();
  private final Set<String> confirmed = new HashSet<>();
  private final Map<String, List<Promise<Void>>> waiting = new HashMap<>();
  private Redis client;
  private RedisConnection subscriber;
  private RedisConnection publisher;
  private boolean connectingPublisher;
  private boolean everConnected;
  private int attempts;
  private volatile boolean up;
  private boolean stopping;

  FanoutVerticle(String redisUrl, String nodeId, AppConfig.Realtime settings, NodeRooms nodeRooms,
      RealtimeMetrics metrics, RoomEvents events) {
    this.redisUrl = redisUrl;
    this.nodeId = nodeId;
    this.settings = settings;
    this.nodeRooms = nodeRooms;
    this.metrics = metrics;
    this.events = events;
  }

  @Override
  public Future<?> start() {
    client = Redis.createClient(vertx, new RedisOptions().setConnectionString(redisUrl).setMaxPoolSize(2)
        .setMaxPoolWaiting(64));
    nodeRooms.listen(this::changed, this::changed);
    events.relayThrough(this);
    connectPublisher();
    connectSubscriber();
    // Start once subscribed, so a node is not reported DOWN while it boots; but never hang start-up on Redis: after
    // the wait the node serves (single-node delivery works) and the health check says the subscriber is down.
    vertx.setTimer(FIRST_CONNECT_WAIT_MS, id -> firstConnect.tryComplete());
    return firstConnect.future();
  }

  @Override
  public Future<?> stop() {
    stopping = true;
    events.relayThrough(null);
    up = false;
    metrics.subscriberUp.set(0);
    return client.close();
  }

  boolean up() {
    return up;
  }

  /** Called from any event loop; the payload is encoded there, the write happens on this verticle's loop. */
  @Override
  public void publish(String address, JsonObject envelope) {
    String payload = envelope.encode();
    context.runOnContext(v -> {
      if (publisher == null) {
        metrics.fanoutDropped.increment();
        connectPublisher();
        return;
      }
      publisher.send(Request.cmd(Command.PUBLISH).arg(channel(address)).arg(payload))
          .onFailure(err -> metrics.fanoutDropped.increment());
    });
  }

  /** Completes once this node is subscribed to the address (or at once while Redis is down: resync covers it). */
  Future<Void> ready(String address) {
    Promise<Void> promise = Promise.promise();
    context.runOnContext(v -> {
      if (subscriber == null || confirmed.contains(address)) {
        promise.tryComplete();
        return;
      }
      waiting.computeIfAbsent(address, a -> new ArrayList<>()).add(promise);
      sync(address);
      vertx.setTimer(CONFIRM_TIMEOUT_MS, id -> promise.tryComplete());
    });
    return promise.future();
  }

  /** First socket arrived at, or last left, an address (from any event loop; notices may race, so re-check). */
  private void changed(String address) {
    context.runOnContext(v -> sync(address));
  }

  private void sync(String address) {
    boolean wanted = nodeRooms.has(address);
    if (wanted && subscribed.add(address)) {
      send(Command.SUBSCRIBE, List.of(address));
    } else if (!wanted && subscribed.remove(address)) {
      confirmed.remove(address);
      send(Command.UNSUBSCRIBE, List.of(address));
    }
  }

  private void send(Command command, List<String> addresses) {
    RedisConnection connection = subscriber;
    if (connection == null) {
      return;
    }
    Request request = Request.cmd(command);
    addresses.forEach(address -> request.arg(channel(address)));
    connection.send(request).onComplete(ar -> {
      if (ar.failed()) {
        LOG.warn("redis {} failed: {}", command, ar.cause().getMessage());
      } else if (command == Command.SUBSCRIBE && connection == subscriber) {
        addresses.stream().filter(subscribed::contains).forEach(confirmed::add);
      }
      if (command == Command.SUBSCRIBE) {
        addresses.forEach(this::release);
      }
    });
  }

  private void release(String address) {
    List<Promise<Void>> promises = waiting.remove(address);
    if (promises != null) {
      promises.forEach(Promise::tryComplete);
    }
  }

  private void connectSubscriber() {
    if (stopping) {
      return;
    }
    client.connect().onComplete(ar -> {
      if (ar.failed()) {
        retry();
        return;
      }
      RedisConnection connection = ar.result();
      connection.handler(this::onPush);
      connection.exceptionHandler(err -> lost(connection, err));
      connection.endHandler(v -> lost(connection, null));
      subscriber = connection;
      subscribed.clear();
      confirmed.clear();
      subscribed.addAll(nodeRooms.addresses());
      List<String> all = List.copyOf(subscribed);
      Future<Response> subscribing = all.isEmpty() ? Future.succeededFuture()
          : connection.send(resubscribe(all));
      subscribing.onSuccess(ok -> {
        attempts = 0;
        up = true;
        metrics.subscriberUp.set(1);
        confirmed.addAll(all);
        List.copyOf(waiting.keySet()).forEach(this::release);
        if (everConnected) {
          LOG.info("redis subscriber reconnected; {} addresses resubscribed", all.size());
        }
        everConnected = true;
        firstConnect.tryComplete();
        // Sockets that joined while no subscriber existed may have missed events published elsewhere meanwhile.
        if (!all.isEmpty()) {
          vertx.eventBus().publish(EventAddresses.REALTIME_RESYNC, new JsonObject().put("addresses", new JsonArray(all)));
        }
      }).onFailure(err -> lost(connection, err));
    });
  }

  private Request resubscribe(List<String> addresses) {
    Request request = Request.cmd(Command.SUBSCRIBE);
    addresses.forEach(address -> request.arg(channel(address)));
    return request;
  }

  private void lost(RedisConnection connection, Throwable err) {
    if (connection != subscriber) {
      return;
    }
    subscriber = null;
    confirmed.clear();
    List.copyOf(waiting.keySet()).forEach(this::release);
    up = false;
    metrics.subscriberUp.set(0);
    if (!stopping) {
      LOG.warn("redis subscriber lost: {}", err == null ? "connection closed" : err.getMessage());
      retry();
    }
  }

  private void retry() {
    if (stopping) {
      return;
    }
    long delay = Math.min(settings.reconnectMaxMs(), settings.reconnectMinMs() * (1L << Math.min(attempts, 20)));
    attempts++;
    metrics.reconnects.increment();
    vertx.setTimer(delay, id -> connectSubscriber());
  }

  private void connectPublisher() {
    if (stopping || connectingPublisher || publisher != null) {
      return;
    }
    connectingPublisher = true;
    client.connect().onComplete(ar -> {
      connectingPublisher = false;
      if (ar.failed()) {
        vertx.setTimer(settings.reconnectMaxMs(), id -> connectPublisher());
        return;
      }
      RedisConnection connection = ar.result();
      connection.exceptionHandler(err -> dropPublisher(connection));
      connection.endHandler(v -> dropPublisher(connection));
      publisher = connection;
    });
  }

  private void dropPublisher(RedisConnection connection) {
    if (publisher == connection) {
      publisher = null;
      vertx.setTimer(settings.reconnectMinMs(), id -> connectPublisher());
    }
  }

  /** RESP3 delivers PUSH frames, RESP2 arrays: {@code ["message", channel, payload]}. */
  private void onPush(Response response) {
    if (response.type() != ResponseType.PUSH && response.type() != ResponseType.MULTI || response.size() < 3) {
      return;
    }
    if (!"message".equals(response.get(0).toString())) {
      return;
    }
    String address = address(response.get(1).toString());
    if (address == null) {
      return;
    }
    JsonObject envelope;
    try {
      envelope = new JsonObject(response.get(2).toString());
    } catch (RuntimeException e) {
      LOG.warn("ignored a malformed fan-out message on {}", response.get(1));
      return;
    }
    if (nodeId.equals(envelope.getString("origin"))) {
      return;
    }
    vertx.eventBus().publish(address, envelope);
  }

  private String channel(String address) {
    return settings.redisChannelPrefix() + address.replace('.', ':');
  }

  private String address(String channel) {
    if (!channel.startsWith(settings.redisChannelPrefix())) {
      return null;
    }
    return channel.substring(settings.redisChannelPrefix().length()).replace(':', '.');
  }
}
