package io.claudememory.realtime;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.redis.client.RedisAPI;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Who is in each room. Counts this node's sockets per room and user; with Redis, also keeps the cluster-wide view in
 * a sorted set per room ({@code <prefix>presence:<tenant>:<conversation>}, member {@code <user>@<node>}, score = the
 * entry's expiry in epoch ms) that this node refreshes every TTL/3. A node that dies without saying goodbye stops
 * refreshing, so its entries fall out of every read after the TTL, and the key itself expires. Thread-safe.
 */
final class Presence {
  private final Vertx vertx;
  private final RedisAPI redis;
  private final String prefix;
  private final String nodeId;
  private final long ttlMillis;
  private final Map<RoomGrant, Map<UUID, Integer>> local = new ConcurrentHashMap<>();
  private final Map<RoomGrant, Set<UUID>> toAdd = new ConcurrentHashMap<>();
  private final Map<RoomGrant, Set<UUID>> toRemove = new ConcurrentHashMap<>();
  private final java.util.concurrent.atomic.AtomicBoolean flushScheduled = new java.util.concurrent.atomic.AtomicBoolean();
  private final long refresher;

  private static final long FLUSH_DELAY_MS = 10;

  Presence(Vertx vertx, RedisAPI redis, String prefix, String nodeId, int ttlSeconds) {
    this.vertx = vertx;
    this.redis = redis;
    this.prefix = prefix;
    this.nodeId = nodeId;
    this.ttlMillis = ttlSeconds * 1000L;
    this.refresher = redis == null ? -1 : vertx.setPeriodic(Math.max(100, ttlMillis / 3), id -> refresh());
  }

  /** Counts a socket of {@code user} in; true when it is the user's first on this node. */
  boolean add(RoomGrant room, UUID user) {
    boolean[] first = {false};
    local.computeIfAbsent(room, r -> new ConcurrentHashMap<>()).compute(user, (u, n) -> {
      first[0] = n == null;
      return n == null ? 1 : n + 1;
    });
    if (first[0] && redis != null) {
      queue(toAdd, room, user);
    }
    return first[0];
  }

  /** Counts a socket out; true when it was the user's last on this node. */
  boolean remove(RoomGrant room, UUID user) {
    boolean[] last = {false};
    local.computeIfPresent(room, (r, users) -> {
      users.computeIfPresent(user, (u, n) -> {
        last[0] = n == 1;
        return n == 1 ? null : n - 1;
      });
      return users.isEmpty() ? null : users;
    });
    if (last[0] && redis != null) {
      queue(toRemove, room, user);
    }
    return last[0];
  }

  /**
   * Presence writes are gathered for a few milliseconds and sent as one command per room: a join storm of a thousand
   * sockets costs a handful of Redis commands, not thousands (the shared pool's wait queue is bounded).
   */
  private void queue(Map<RoomGrant, Set<UUID>> pending, RoomGrant room, UUID user) {
    pending.computeIfAbsent(room, r -> ConcurrentHashMap.newKeySet()).add(user);
    if (flushScheduled.compareAndSet(false, true)) {
      vertx.setTimer(FLUSH_DELAY_MS, id -> flush());
    }
  }

  private void flush() {
    flushScheduled.set(false);
    for (RoomGrant room : List.copyOf(toAdd.keySet())) {
      Set<UUID> users = toAdd.remove(room);
      if (users != null) {
        write(room, users.stream().filter(u -> local.getOrDefault(room, Map.of()).containsKey(u)).toList());
      }
    }
    for (RoomGrant room : List.copyOf(toRemove.keySet())) {
      Set<UUID> users = toRemove.remove(room);
      if (users != null) {
        List<String> args = new ArrayList<>();
        args.add(key(room));
        users.stream().filter(u -> !local.getOrDefault(room, Map.of()).containsKey(u))
            .forEach(u -> args.add(u + "@" + nodeId));
        if (args.size() > 1) {
          redis.zrem(args).onFailure(err -> { });
        }
      }
    }
  }

  /** This node's own view: the users with sockets here. */
  List<String> localMembers(RoomGrant room) {
    return local.getOrDefault(room, Map.of()).keySet().stream().map(UUID::toString).toList();
  }

  /**
   * The distinct users in the room, cluster-wide with Redis (live entries only), else on this node. When Redis
   * cannot answer, this node's view: presence is informative and never fails a join.
   */
  Future<List<String>> members(RoomGrant room) {
    if (redis == null) {
      return Future.succeededFuture(localMembers(room));
    }
    return redis.zrangebyscore(List.of(key(room), Long.toString(System.currentTimeMillis()), "+inf"))
        .map(reply -> {
          Set<String> users = new LinkedHashSet<>();
          reply.forEach(entry -> {
            String member = entry.toString();
            int at = member.lastIndexOf('@');
            users.add(at < 0 ? member : member.substring(0, at));
          });
          return (List<String>) new ArrayList<>(users);
        })
        .otherwise(err -> localMembers(room));
  }

  /** One room after the other, so refreshing many rooms never floods the shared pool. */
  private void refresh() {
    Future<Void> chain = Future.succeededFuture();
    for (Map.Entry<RoomGrant, Map<UUID, Integer>> entry : List.copyOf(local.entrySet())) {
      chain = chain.transform(ar -> write(entry.getKey(), List.copyOf(entry.getValue().keySet())));
    }
  }

  private Future<Void> write(RoomGrant room, List<UUID> users) {
    if (users.isEmpty()) {
      return Future.succeededFuture();
    }
    String key = key(room);
    List<String> args = new ArrayList<>();
    args.add(key);
    String expiry = Long.toString(System.currentTimeMillis() + ttlMillis);
    users.forEach(user -> {
      args.add(expiry);
      args.add(user + "@" + nodeId);
    });
    String now = Long.toString(System.currentTimeMillis());
    return redis.zadd(args).compose(added -> redis.pexpire(List.of(key, Long.toString(ttlMillis))))
        .compose(set -> redis.zremrangebyscore(key, "-inf", now))
        .<Void>mapEmpty().otherwiseEmpty();
  }

  String key(RoomGrant room) {
    return prefix + "presence:" + room.tenant() + ":" + room.conversation();
  }

  /** Says goodbye: this node's entries are removed at once rather than left to expire. */
  Future<Void> close() {
    if (refresher >= 0) {
      vertx.cancelTimer(refresher);
    }
    if (redis == null) {
      return Future.succeededFuture();
    }
    List<Future<?>> removals = new ArrayList<>();
    local.forEach((room, users) -> users.keySet().forEach(user ->
        removals.add(redis.zrem(List.of(key(room), user + "@" + nodeId)))));
    local.clear();
    return Future.join(removals).otherwiseEmpty().mapEmpty();
  }
}
