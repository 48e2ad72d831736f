package io.claudememory.realtime;

import io.claudememory.auth.Authenticator;
import io.claudememory.config.AppConfig;
import io.micrometer.core.instrument.MeterRegistry;
import io.vertx.core.DeploymentOptions;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.EventBus;
import io.vertx.ext.web.Router;
import io.vertx.redis.client.RedisAPI;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * The real-time capability of a node, built once in {@code Application}: {@code /ws} on every HTTP verticle (one
 * {@link SocketHub} per event loop) and, with Redis, the {@link FanoutVerticle}. The {@link Seams} are where other
 * capabilities plug in (room access for shared projects, the message service, streams in progress).
 */
public final class Realtime {
  /** What other capabilities provide; the defaults cover a single user's own conversations. */
  public record Seams(RoomAccess access, MessageWriter writer, StreamSnapshots snapshots) {}

  final AppConfig.Realtime settings;
  final String nodeId;
  final Authenticator authenticator;
  final EventBus bus;
  final RoomEvents events;
  final RoomAccess access;
  final MessageWriter writer;
  final StreamSnapshots snapshots;
  final MessageHistory history;
  final ReadPositions readPositions;
  final Presence presence;
  final NodeRooms nodeRooms = new NodeRooms();
  final RealtimeMetrics metrics;
  private final Vertx vertx;
  private final List<SocketHub> hubs = new CopyOnWriteArrayList<>();
  private volatile FanoutVerticle fanout;

  public Realtime(Vertx vertx, AppConfig config, Authenticator authenticator, RoomEvents events,
      MessageHistory history, ReadPositions readPositions, Seams seams, RedisAPI redis, MeterRegistry registry) {
    this.vertx = vertx;
    this.settings = config.realtime();
    this.nodeId = config.nodeId();
    this.authenticator = authenticator;
    this.bus = vertx.eventBus();
    this.events = events;
    this.access = seams.access();
    this.writer = seams.writer();
    this.snapshots = seams.snapshots();
    this.history = history;
    this.readPositions = readPositions;
    this.presence = new Presence(vertx, redis, settings.redisChannelPrefix(), nodeId, settings.presenceTtlSeconds());
    this.metrics = new RealtimeMetrics(registry, nodeRooms::roomCount);
  }

  /** Route group for the root router, called once per HTTP verticle on its event loop: {@code GET /ws}. */
  public void mount(Vertx owner, Router root) {
    SocketHub hub = new SocketHub(this, owner.getOrCreateContext());
    hubs.add(hub);
    root.get("/ws").handler(hub::upgrade);
  }

  /** Deploys the Redis fan-out; answers its deployment id. */
  public Future<String> deployFanout(String redisUrl) {
    fanout = new FanoutVerticle(redisUrl, nodeId, settings, nodeRooms, metrics, events);
    return vertx.deployVerticle(fanout, new DeploymentOptions());
  }

  /** Completes once events published on other nodes reach this node's bus for {@code address}. */
  Future<Void> remoteReady(String address) {
    FanoutVerticle current = fanout;
    return current == null ? Future.succeededFuture() : current.ready(address);
  }

  /** Whether the Redis subscriber is connected (true without Redis: nothing to be down). */
  public boolean subscriberUp() {
    return fanout == null || fanout.up();
  }

  /** Closes every socket with 1001 and removes this node's presence entries. */
  public Future<Void> closeSockets() {
    return Future.join(hubs.stream().map(SocketHub::shutdown).toList())
        .transform(ar -> presence.close());
  }

  public RoomEvents events() {
    return events;
  }

  public MessageWriter messages() {
    return writer;
  }

  public RealtimeMetrics metrics() {
    return metrics;
  }
}
