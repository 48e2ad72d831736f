package io.claudememory.claude;

import io.vertx.core.Future;
import io.vertx.redis.client.RedisAPI;
import io.vertx.redis.client.Response;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;

/**
 * Text-so-far of running answers in Redis, so a client joining the room on another node gets it too. Each flush
 * RPUSHes one {@code "<last index>\u0000<text>"} entry to the answer's list (one command, so text and index never
 * disagree); the room's set names its running answers. Everything expires after the TTL, so a dead node leaves
 * nothing behind for long. Best effort: a Redis failure never affects the answer itself.
 *
 * <p>Running answers are also listed, cluster-wide, in the sorted set {@code cmb:gens} scored by their node's last
 * heartbeat; an entry whose heartbeat stopped belongs to a node that died ({@link NodeLossSweeper}).
 */
final class RedisSnapshots {
  private static final String RUNNING = "cmb:gens";
  private final RedisAPI redis;
  private final String ttl;

  RedisSnapshots(RedisAPI redis, int ttlSeconds) {
    this.redis = redis;
    this.ttl = Integer.toString(ttlSeconds);
  }

  Future<Void> append(UUID tenant, UUID conversationId, UUID messageId, int index, String chunk) {
    String key = textKey(messageId);
    String room = roomKey(tenant, conversationId);
    redis.rpush(List.of(key, index + "\u0000" + chunk));
    redis.expire(List.of(key, ttl));
    redis.sadd(List.of(room, messageId.toString()));
    return redis.expire(List.of(room, ttl)).mapEmpty();
  }

  void clear(Answers.Ref ref) {
    redis.srem(List.of(roomKey(ref.tenant(), ref.conversationId()), ref.assistantMessageId().toString()));
    redis.del(List.of(textKey(ref.assistantMessageId())));
    redis.zrem(List.of(RUNNING, member(ref)));
  }

  /**
   * Lists a starting answer cluster-wide and in its room, with no text yet (index -1): a joiner on another node then
   * knows an answer runs there before its first flush, and waits for that flush (see Generations#snapshots).
   */
  Future<Void> register(Answers.Ref ref) {
    redis.zadd(List.of(RUNNING, Long.toString(System.currentTimeMillis()), member(ref)));
    return append(ref.tenant(), ref.conversationId(), ref.assistantMessageId(), -1, "");
  }

  /** One ZADD refreshing every running answer of this node. */
  void heartbeat(List<Answers.Ref> refs) {
    if (refs.isEmpty()) {
      return;
    }
    List<String> args = new ArrayList<>(1 + refs.size() * 2);
    args.add(RUNNING);
    String now = Long.toString(System.currentTimeMillis());
    refs.forEach(ref -> {
      args.add(now);
      args.add(member(ref));
    });
    redis.zadd(args);
  }

  /** Answers whose heartbeat is older than {@code cutoffMillis} (at most 100 per call). */
  Future<List<Answers.Ref>> stale(long cutoffMillis) {
    return redis.zrangebyscore(List.of(RUNNING, "-inf", Long.toString(cutoffMillis), "LIMIT", "0", "100"))
        .map(members -> {
          List<Answers.Ref> refs = new ArrayList<>();
          for (Response member : members) {
            String[] ids = member.toString().split("\\|");
            refs.add(new Answers.Ref(UUID.fromString(ids[0]), UUID.fromString(ids[1]), UUID.fromString(ids[2]),
                UUID.fromString(ids[3])));
          }
          return refs;
        });
  }

  /** Takes a stale answer over: true for exactly one node (ZREM answers 1 once). */
  Future<Boolean> claim(Answers.Ref ref) {
    return redis.zrem(List.of(RUNNING, member(ref))).map(removed -> removed.toInteger() == 1);
  }

  /** The text an answer had streamed, as far as it reached Redis. */
  Future<String> text(UUID messageId) {
    return redis.lrange(textKey(messageId), "0", "-1").map(entries -> {
      StreamSnapshot snapshot = snapshot(messageId, entries);
      return snapshot == null ? "" : snapshot.text();
    });
  }

  private static String member(Answers.Ref ref) {
    return ref.tenant() + "|" + ref.conversationId() + "|" + ref.userMessageId() + "|" + ref.assistantMessageId();
  }

  Future<List<StreamSnapshot>> read(UUID tenant, UUID conversationId) {
    return redis.smembers(roomKey(tenant, conversationId)).compose(ids -> {
      List<Future<StreamSnapshot>> reads = new ArrayList<>();
      for (Response id : ids) {
        UUID messageId = UUID.fromString(id.toString());
        reads.add(redis.lrange(textKey(messageId), "0", "-1").map(entries -> snapshot(messageId, entries)));
      }
      return Future.all(reads).map(all -> {
        List<StreamSnapshot> list = new ArrayList<>();
        for (Future<StreamSnapshot> read : reads) {
          if (read.result() != null) {
            list.add(read.result());
          }
        }
        return list;
      });
    });
  }

  private static StreamSnapshot snapshot(UUID messageId, Response entries) {
    if (entries == null || entries.size() == 0) {
      return null;
    }
    StringBuilder text = new StringBuilder();
    int index = -1;
    for (Response entry : entries) {
      String value = entry.toString();
      int split = value.indexOf('\u0000');
      index = Integer.parseInt(value.substring(0, split));
      text.append(value, split + 1, value.length());
    }
    return new StreamSnapshot(messageId, text.toString(), index);
  }

  private static String textKey(UUID messageId) {
    return "cmb:gen:" + messageId;
  }

  private static String roomKey(UUID tenant, UUID conversationId) {
    return "cmb:room-gens:" + tenant + ":" + conversationId;
  }
}
