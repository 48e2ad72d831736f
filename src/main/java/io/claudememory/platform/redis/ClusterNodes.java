package io.claudememory.platform.redis;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.redis.client.RedisAPI;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The nodes of the cluster that are alive. Each node keeps its id in the sorted set {@code <prefix>nodes}, scored
 * with the epoch millisecond at which its entry expires ({@link #TTL_MS} ahead), and refreshes it every third of
 * that; a node that stops says goodbye, one that dies falls out of {@link #live()} after the TTL. Scores are wall
 * clock times of different machines: the TTL is long enough to absorb ordinary clock skew.
 */
public final class ClusterNodes {
  /** How long a node that stopped refreshing is still counted (and a freeze waits for it, in vain). */
  static final long TTL_MS = 10_000;
  private static final Logger LOG = LoggerFactory.getLogger(ClusterNodes.class);
  private final Vertx vertx;
  private final RedisAPI redis;
  private final String key;
  private final String nodeId;
  private long timer = -1;

  public ClusterNodes(Vertx vertx, RedisAPI redis, String prefix, String nodeId) {
    this.vertx = vertx;
    this.redis = redis;
    this.key = prefix + "nodes";
    this.nodeId = nodeId;
  }

  /** Registers this node now and keeps it registered. */
  public Future<Void> start() {
    timer = vertx.setPeriodic(TTL_MS / 3, id -> refresh()
        .onFailure(err -> LOG.warn("could not refresh this node in {}: {}", key, err.getMessage())));
    return refresh();
  }

  /** The ids of the nodes alive now, this one included. */
  public Future<Set<String>> live() {
    return redis.zrangebyscore(List.of(key, Long.toString(System.currentTimeMillis()), "+inf")).map(reply -> {
      Set<String> nodes = new LinkedHashSet<>();
      reply.forEach(member -> nodes.add(member.toString()));
      return nodes;
    });
  }

  public String nodeId() {
    return nodeId;
  }

  public Future<Void> close() {
    vertx.cancelTimer(timer);
    return redis.zrem(List.of(key, nodeId)).<Void>mapEmpty().otherwiseEmpty();
  }

  private Future<Void> refresh() {
    long now = System.currentTimeMillis();
    // Entries of nodes long gone are removed by whoever refreshes next.
    return redis.zadd(List.of(key, Long.toString(now + TTL_MS), nodeId))
        .compose(added -> redis.zremrangebyscore(key, "-inf", Long.toString(now - 6 * TTL_MS)))
        .mapEmpty();
  }
}
