package io.claudememory.platform.db;

import io.claudememory.platform.redis.ClusterNodes;
import io.claudememory.platform.redis.RedisSubscriber;
import io.micrometer.core.instrument.MeterRegistry;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.redis.client.RedisAPI;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A tenant's write freeze on every node of the cluster, for a database switch. {@link TenantPools#freeze} closes the
 * gate of one node; without this, the other nodes would go on writing to the old database during the final delta
 * copy, and after the switch, and those writes would be lost. Alone (no Redis), it is the local gate.
 *
 * <p>The coordinator (the node running the switch) and every other node talk on the Redis channel
 * {@code <prefix>tenant-freeze}, in JSON messages that carry the freeze's {@code id}:
 * <pre>
 * freeze  {type, id, tenant, origin, drainMs}  each other node closes its gate, drains, and answers an ack
 * ack     {type, id, phase, node, ok}         phase "freeze" (drained, or not in time) or "confirm"
 * renew   {type, id, origin}                  every third of the lease while the coordinator works
 * confirm {type, id, origin}                  just before the switch commits: ok from a node still frozen
 * thaw    {type, id, tenant, origin}          each node retires the tenant's pool and opens its gate
 * </pre>
 * The coordinator expects an ack from every node alive in {@link ClusterNodes}; a missing ack (within the drain
 * time and a margin) or a refusal fails the freeze, and every gate opens again. Before the switch commits, it
 * confirms: every node alive then (one that started meanwhile too) must still hold the gate.
 *
 * <p>Lease: a node holds a freeze for at most {@code leaseMs} after the last freeze, renew or confirm message, then
 * opens its gate by itself, so a coordinator that dies (or a lost thaw) leaves no node frozen. Opening a gate, on a
 * thaw or on expiry, always retires the tenant's pool first: the next call connects to whatever database the master
 * registry then names, the new one if the switch was committed. The renewals go on until the thaw, so a node only
 * opens early when it also stopped hearing the coordinator; one that stops before the confirm fails the switch.
 */
public final class ClusterFreeze {
  private static final Logger LOG = LoggerFactory.getLogger(ClusterFreeze.class);
  /** Beyond the drain time: the freeze and ack messages' travel, and the other nodes' own timers. */
  static final long ACK_MARGIN_MS = 3_000;
  static final long CONFIRM_WAIT_MS = 5_000;
  private final Vertx vertx;
  private final TenantPools pools;
  private final String nodeId;
  private final RedisAPI redis;
  private final ClusterNodes nodes;
  private final RedisSubscriber subscriber;
  private final String channel;
  private final long leaseMs;
  /** Node side: the remote freezes this node holds, by id. */
  private final Map<UUID, Held> held = new ConcurrentHashMap<>();
  /** Coordinator side: acks awaited, by id and phase. */
  private final Map<String, Acks> awaiting = new ConcurrentHashMap<>();

  /** {@code redis} and {@code redisUrl} null: a single node. */
  public ClusterFreeze(Vertx vertx, TenantPools pools, String nodeId, RedisAPI redis, String redisUrl, String prefix,
      long leaseMs, MeterRegistry metrics) {
    this.vertx = vertx;
    this.pools = pools;
    this.nodeId = nodeId;
    this.redis = redis;
    this.leaseMs = leaseMs;
    this.channel = prefix + "tenant-freeze";
    this.nodes = redis == null ? null : new ClusterNodes(vertx, redis, prefix, nodeId);
    this.subscriber = redisUrl == null ? null : new RedisSubscriber(vertx, redisUrl, channel,
        RedisSubscriber.clientName("tenant-freeze", nodeId), "tenant-freeze", metrics, this::onMessage,
        () -> { });
  }

  /** Registers this node among the live ones and starts listening; does not wait for Redis. */
  public void start() {
    if (subscriber != null) {
      subscriber.start();
      nodes.start().onFailure(err -> LOG.warn("could not register this node in Redis: {}", err.getMessage()));
    }
  }

  public Future<Void> close() {
    held.keySet().forEach(this::expire);
    return subscriber == null ? Future.succeededFuture()
        : Future.join(nodes.close(), subscriber.close()).mapEmpty();
  }

  /** What {@link #frozen} hands its work. */
  public interface Freeze {
    /** Completes when every live node still holds the gate; call it just before committing the switch. */
    Future<Void> confirm();
  }

  /** A freeze that failed; the message says why, in words for the user. */
  public static final class FreezeFailed extends RuntimeException {
    FreezeFailed(String message) {
      super(message, null, false, false);
    }
  }

  /**
   * Runs {@code work} with the tenant's writes frozen on every node: new calls wait at the gates, calls in flight have
   * drained (each node gives them {@code drainMs}). Afterwards, whatever happened, every node retires the tenant's
   * pool and opens its gate. Fails with {@link FreezeFailed} when the freeze could not be had everywhere.
   */
  public <T> Future<T> frozen(UUID tenant, long drainMs, Function<Freeze, Future<T>> work) {
    UUID id = UUID.randomUUID();
    boolean[] localClosed = {false};
    Future<Void> local = pools.freeze(tenant, drainMs).andThen(done -> localClosed[0] = done.succeeded())
        .recover(err -> Future.failedFuture(new FreezeFailed(
            "Your requests in progress did not finish in time for the switch; try again.")));
    if (subscriber == null) {
      return local.compose(v -> work.apply(() -> Future.succeededFuture()))
          .eventually(() -> localClosed[0] ? open(tenant) : Future.succeededFuture());
    }
    long renewer = vertx.setPeriodic(leaseMs / 3, t -> publish(message("renew", id)));
    Future<Void> everywhere = subscriber.subscribed() ? ask(id, "freeze", message("freeze", id)
        .put("tenant", tenant.toString()).put("drainMs", drainMs), drainMs + ACK_MARGIN_MS)
        : Future.failedFuture(new FreezeFailed("The servers could not be told to pause your writes; try again."));
    return Future.join(local, everywhere)
        .transform(both -> local.failed() ? Future.<Void>failedFuture(local.cause()) : everywhere)
        .compose(v -> work.apply(() -> ask(id, "confirm", message("confirm", id), CONFIRM_WAIT_MS)))
        .eventually(() -> {
          vertx.cancelTimer(renewer);
          publish(message("thaw", id).put("tenant", tenant.toString()));
          return localClosed[0] ? open(tenant) : Future.succeededFuture();
        });
  }

  /** Publishes a question and completes once every other live node answered ok, or fails. */
  private Future<Void> ask(UUID id, String phase, JsonObject question, long waitMs) {
    return nodes.live().compose(live -> {
      Set<String> others = new HashSet<>(live);
      others.remove(nodeId);
      Acks acks = new Acks(others, "freeze".equals(phase)
          ? "Requests in progress on another server did not finish in time for the switch; try again."
          : "Another server stopped pausing your writes before the switch; try again.");
      String key = id + ":" + phase;
      awaiting.put(key, acks);
      if (others.isEmpty()) {
        acks.done.tryComplete();
      }
      return publish(question).compose(sent -> acks.done.future())
          .timeout(waitMs, TimeUnit.MILLISECONDS)
          .recover(err -> {
            if (err instanceof FreezeFailed) {
              return Future.failedFuture(err);
            }
            LOG.warn("write freeze {} ({}): no answer in {} ms from {}", id, phase, waitMs, acks.pending);
            return Future.failedFuture(new FreezeFailed(
                "Not every server confirmed in time that your writes were paused; try again."));
          })
          .eventually(() -> {
            awaiting.remove(key);
            return Future.succeededFuture();
          });
    }).recover(err -> Future.failedFuture(err instanceof FreezeFailed ? err
        : new FreezeFailed("The servers could not be told to pause your writes; try again.")));
  }

  /** The nodes yet to answer one question, and what to tell the user when one of them says no. */
  private static final class Acks {
    final Set<String> pending = ConcurrentHashMap.newKeySet();
    final String refusal;
    final Promise<Void> done = Promise.promise();

    Acks(Set<String> pending, String refusal) {
      this.pending.addAll(pending);
      this.refusal = refusal;
    }

    void ack(String node, boolean ok) {
      if (!ok) {
        done.tryFail(new FreezeFailed(refusal));
      } else if (pending.remove(node) && pending.isEmpty()) {
        done.tryComplete();
      }
    }
  }

  // ------------------------------------------------------------------------------------------------ node side

  /** A remote freeze held here: the tenant, and the timer that opens the gate when the lease runs out. */
  private record Held(UUID tenant, long lease) {}

  private void onMessage(String payload) {
    JsonObject m;
    UUID id;
    try {
      m = new JsonObject(payload);
      id = UUID.fromString(m.getString("id"));
    } catch (RuntimeException e) {
      LOG.warn("ignored a malformed message on {}: {}", channel, e.getMessage());
      return;
    }
    if (nodeId.equals(m.getString("origin"))) {
      return;
    }
    switch (m.getString("type", "")) {
      case "freeze" -> freeze(id, UUID.fromString(m.getString("tenant")), m.getLong("drainMs"));
      case "renew" -> held.computeIfPresent(id, (i, h) -> lease(i, h));
      case "confirm" -> answer(id, "confirm", held.computeIfPresent(id, (i, h) -> lease(i, h)) != null);
      case "thaw" -> thaw(id);
      case "ack" -> {
        Acks acks = awaiting.get(id + ":" + m.getString("phase"));
        if (acks != null) {
          acks.ack(m.getString("node"), m.getBoolean("ok", false));
        }
      }
      default -> LOG.warn("ignored a message of unknown type on {}: {}", channel, m.getString("type"));
    }
  }

  private void freeze(UUID id, UUID tenant, long drainMs) {
    held.put(id, lease(id, new Held(tenant, -1)));
    pools.freeze(tenant, drainMs).onComplete(done -> {
      if (done.failed()) {
        // The pools opened the gate again themselves.
        Held h = held.remove(id);
        if (h != null) {
          vertx.cancelTimer(h.lease());
        }
        LOG.warn("tenant {}: could not pause writes for a switch run elsewhere: {}", tenant, done.cause().getMessage());
      }
      answer(id, "freeze", done.succeeded());
    });
  }

  private Held lease(UUID id, Held h) {
    vertx.cancelTimer(h.lease());
    return new Held(h.tenant(), vertx.setTimer(leaseMs, t -> {
      LOG.warn("tenant {}: the switch that paused its writes went silent for {} ms; resuming them", h.tenant(),
          leaseMs);
      expire(id);
    }));
  }

  private void thaw(UUID id) {
    Held h = held.remove(id);
    if (h != null) {
      vertx.cancelTimer(h.lease());
      open(h.tenant());
    }
  }

  private void expire(UUID id) {
    Held h = held.remove(id);
    if (h != null) {
      open(h.tenant());
    }
  }

  /** Retires the pool first: calls waiting at the gate connect to the database the registry names now. */
  private Future<Void> open(UUID tenant) {
    return pools.evict(tenant).eventually(() -> {
      pools.thaw(tenant);
      return Future.succeededFuture();
    });
  }

  private void answer(UUID id, String phase, boolean ok) {
    publish(new JsonObject().put("type", "ack").put("id", id.toString()).put("phase", phase).put("node", nodeId)
        .put("ok", ok));
  }

  private JsonObject message(String type, UUID id) {
    return new JsonObject().put("type", type).put("id", id.toString()).put("origin", nodeId);
  }

  private Future<Void> publish(JsonObject message) {
    return redis.publish(channel, message.encode()).<Void>mapEmpty()
        .onFailure(err -> LOG.warn("could not publish on {}: {}", channel, err.getMessage()));
  }
}
