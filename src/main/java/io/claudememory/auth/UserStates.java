package io.claudememory.auth;

import io.vertx.core.Future;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.Tuple;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;

/**
 * A user's role, status and token version as the master database says, cached for a few seconds so that a token
 * check does not cost a query on every request. Changes made on this node invalidate the entry at once.
 */
public final class UserStates {
  private static final String BY_ID = "SELECT role, active, token_version FROM users WHERE id = $1";
  private final Pool master;
  private final long ttlNanos;
  private final Map<UUID, Cached> cache = new ConcurrentHashMap<>();

  /** {@code null} from {@link #get} means the user no longer exists. */
  public record State(String role, boolean active, int tokenVersion) {}

  private record Cached(Future<State> state, long loadedAt) {}

  public UserStates(Pool master, int ttlSeconds) {
    this.master = master;
    this.ttlNanos = ttlSeconds * 1_000_000_000L;
  }

  public Future<State> get(UUID userId) {
    long now = System.nanoTime();
    Cached cached = cache.get(userId);
    if (cached != null && now - cached.loadedAt < ttlNanos && !cached.state.failed()) {
      return cached.state;
    }
    Future<State> loading = master.preparedQuery(BY_ID).execute(Tuple.of(userId)).map(rows -> {
      if (rows.size() == 0) {
        return null;
      }
      Row row = rows.iterator().next();
      return new State(row.getString("role"), row.getBoolean("active"), row.getInteger("token_version"));
    });
    if (ttlNanos > 0) {
      cache.put(userId, new Cached(loading, now));
      if (cache.size() > 100_000) {
        cache.clear();
      }
    }
    return loading;
  }

  public void invalidate(UUID userId) {
    cache.remove(userId);
  }

  /** Forgets every entry (after missing invalidation messages, e.g. while Redis was unreachable). */
  public void invalidateAll() {
    cache.clear();
  }
}
