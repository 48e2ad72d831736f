package io.claudememory.auth;

import io.claudememory.audit.SecurityAudit;
import io.claudememory.audit.SecurityAudit.Caller;
import io.claudememory.platform.crypto.Tokens;
import io.claudememory.platform.http.ApiException;
import io.claudememory.platform.http.Ids;
import io.vertx.core.Future;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.Tuple;
import java.nio.ByteBuffer;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;

/**
 * API keys for integrators: {@code cmb_<8 chars>_<43 chars>}, shown once at creation, stored as SHA-256; the first
 * twelve characters are kept as a visible prefix. Accepted wherever a JWT is ({@code Authorization: Bearer}).
 * Lookups are cached for a few seconds; a revocation takes effect at once on every node ({@link UserInvalidations}).
 */
public final class ApiKeys {
  public static final String PREFIX = "cmb_";
  static final int MAX_PER_USER = 50;
  private final Pool master;
  private final SecurityAudit audit;
  private final long ttlNanos;
  private final Map<ByteBuffer, Cached> cache = new ConcurrentHashMap<>();

  /** The key and owner an API key stands for. */
  public record KeyOwner(UUID keyId, UUID userId) {}

  private record Cached(Future<KeyOwner> owner, long loadedAt) {}

  public ApiKeys(Pool master, SecurityAudit audit, int cacheSeconds) {
    this.master = master;
    this.audit = audit;
    this.ttlNanos = cacheSeconds * 1_000_000_000L;
  }

  public Future<JsonObject> create(UUID userId, String name, Integer expiresInDays, Caller caller) {
    String key = PREFIX + Tokens.random(6) + "_" + Tokens.random(32);
    OffsetDateTime expires = expiresInDays == null ? null
        : OffsetDateTime.now(ZoneOffset.UTC).plusDays(expiresInDays);
    return master.withTransaction(conn -> conn.preparedQuery(AuthSql.COUNT_API_KEYS).execute(Tuple.of(userId))
        .compose(count -> {
          if (count.iterator().next().getLong(0) >= MAX_PER_USER) {
            return Future.failedFuture(ApiException.conflict("An account can have at most " + MAX_PER_USER
                + " API keys; revoke one first."));
          }
          return conn.preparedQuery(AuthSql.INSERT_API_KEY).execute(Tuple.of(Ids.newId(), userId, name,
              key.substring(0, 12), Tokens.sha256(key), expires));
        })
        .compose(rows -> audit.record(conn, userId, userId, "api_key.created", caller,
                new JsonObject().put("keyId", rows.iterator().next().getUUID("id").toString()))
            .map(done -> toJson(rows.iterator().next()).put("key", key))));
  }

  public Future<JsonArray> list(UUID userId) {
    return master.preparedQuery(AuthSql.LIST_API_KEYS).execute(Tuple.of(userId)).map(rows -> {
      JsonArray keys = new JsonArray();
      rows.forEach(row -> keys.add(toJson(row)));
      return keys;
    });
  }

  public Future<Void> revoke(UUID userId, UUID keyId, Caller caller) {
    return master.withTransaction(conn -> conn.preparedQuery(AuthSql.REVOKE_API_KEY)
        .execute(Tuple.of(keyId, userId)).compose(rows -> {
          if (rows.size() == 0) {
            return Future.failedFuture(ApiException.notFound("The API key"));
          }
          cache.remove(ByteBuffer.wrap(rows.iterator().next().getBuffer("key_hash").getBytes()));
          return audit.record(conn, userId, userId, "api_key.revoked", caller,
              new JsonObject().put("keyId", keyId.toString()));
        }));
  }

  /** Forgets the cached lookups of {@code userId}'s keys (another node revoked one, or the account changed). */
  public void forget(UUID userId) {
    cache.values().removeIf(cached -> cached.owner.succeeded() && cached.owner.result().userId().equals(userId));
  }

  /** Forgets every cached lookup (invalidations may have been missed). */
  public void forgetAll() {
    cache.clear();
  }

  /** The owner of a valid key, or a 401. */
  public Future<KeyOwner> authenticate(String key) {
    ByteBuffer hash = ByteBuffer.wrap(Tokens.sha256(key));
    long now = System.nanoTime();
    Cached cached = cache.get(hash);
    if (cached != null && now - cached.loadedAt < ttlNanos && !cached.owner.failed()) {
      return cached.owner;
    }
    Future<KeyOwner> owner = master.preparedQuery(AuthSql.API_KEY_BY_HASH).execute(Tuple.of(hash.array()))
        .compose(rows -> {
          if (rows.size() == 0) {
            return Future.failedFuture(ApiException.unauthorized("The API key is invalid, expired or revoked."));
          }
          Row row = rows.iterator().next();
          if (row.getBoolean("stale")) {
            master.preparedQuery(AuthSql.TOUCH_API_KEY).execute(Tuple.of(row.getUUID("id")));
          }
          return Future.succeededFuture(new KeyOwner(row.getUUID("id"), row.getUUID("user_id")));
        });
    if (ttlNanos > 0) {
      cache.put(hash, new Cached(owner, now));
      if (cache.size() > 100_000) {
        cache.clear();
      }
    }
    return owner;
  }

  private static JsonObject toJson(Row row) {
    OffsetDateTime lastUsed = row.getOffsetDateTime("last_used_at");
    OffsetDateTime expires = row.getOffsetDateTime("expires_at");
    return new JsonObject()
        .put("id", row.getUUID("id").toString())
        .put("name", row.getString("name"))
        .put("prefix", row.getString("prefix"))
        .put("createdAt", row.getOffsetDateTime("created_at").toInstant().toString())
        .put("lastUsedAt", lastUsed == null ? null : lastUsed.toInstant().toString())
        .put("expiresAt", expires == null ? null : expires.toInstant().toString());
  }
}
