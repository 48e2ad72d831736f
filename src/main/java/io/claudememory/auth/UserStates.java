package io.claudememory.auth;

import io.vertx.core.Future;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.Tuple;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;

/**
 * A user's role, status and token version, and whether each of their sign-ins is still live, as the master database
 * says, cached for a few seconds so that a token check does not cost a query on every request. Changes made on this
 * node invalidate the user's entries at once ({@link UserInvalidations} does so on the other nodes).
 */
public final class UserStates {
  private static final String BY_ID = "SELECT role, active, token_version FROM users WHERE id = $1";
  /** A sign-in is live while a refresh token of its family is neither revoked nor expired. */
  private static final String SIGN_IN_LIVE = """
      SELECT EXISTS (SELECT 1 FROM refresh_tokens WHERE family_id = $1 AND user_id = $2 AND revoked_at IS NULL
        AND expires_at > now())""";
  private static final int MAX_ENTRIES = 100_000;
  private final Pool master;
  private final long ttlNanos;
  private final Map<UUID, Cached> cache = new ConcurrentHashMap<>();
  private final Map<UUID, Map<UUID, CachedSignIn>> signIns = new ConcurrentHashMap<>();

  /** {@code null} from {@link #get} means the user no longer exists. */
  public record State(String role, boolean active, int tokenVersion) {}

  private record Cached(Future<State> state, long loadedAt) {}

  private record CachedSignIn(Future<Boolean> live, long loadedAt) {}

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
      if (cache.size() > MAX_ENTRIES) {
        cache.clear();
      }
    }
    return loading;
  }

  /** Whether the sign-in {@code signIn} (a refresh token family) of {@code userId} has not been ended. */
  public Future<Boolean> signInLive(UUID userId, UUID signIn) {
    long now = System.nanoTime();
    Map<UUID, CachedSignIn> ofUser = signIns.computeIfAbsent(userId, k -> new ConcurrentHashMap<>());
    CachedSignIn cached = ofUser.get(signIn);
    if (cached != null && now - cached.loadedAt < ttlNanos && !cached.live.failed()) {
      return cached.live;
    }
    Future<Boolean> loading = master.preparedQuery(SIGN_IN_LIVE).execute(Tuple.of(signIn, userId))
        .map(rows -> rows.iterator().next().getBoolean(0));
    if (ttlNanos > 0) {
      ofUser.put(signIn, new CachedSignIn(loading, now));
      if (signIns.size() > MAX_ENTRIES || ofUser.size() > MAX_ENTRIES) {
        signIns.clear();
      }
    }
    return loading;
  }

  public void invalidate(UUID userId) {
    cache.remove(userId);
    signIns.remove(userId);
  }

  /** Forgets every entry (after missing invalidation messages, e.g. while Redis was unreachable). */
  public void invalidateAll() {
    cache.clear();
    signIns.clear();
  }
}
