package io.claudememory.platform.ratelimit;

import io.vertx.core.Future;
import io.vertx.redis.client.RedisAPI;
import io.vertx.redis.client.Response;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Buckets shared by every node, in Redis: one round trip per check, running {@code token-bucket.lua} with EVALSHA
 * (EVAL the first time, or after Redis lost its script cache). The script does the whole bucket math atomically on
 * the server, with the server's clock. Keys are {@code <prefix>{<client>}:<kind>}: the hash tag keeps the buckets of
 * one check in one Redis Cluster slot.
 *
 * <p>Failures (Redis down, slower than the timeout) fail: the caller decides; {@link RateLimiter} fails open.
 */
public final class RedisBucketStore implements BucketStore {
  static final String SCRIPT = load();
  private final RedisAPI redis;
  private final String prefix;
  private final long timeoutMs;
  private volatile String sha;

  public RedisBucketStore(RedisAPI redis, String prefix, long timeoutMs) {
    this.redis = redis;
    this.prefix = prefix;
    this.timeoutMs = timeoutMs;
  }

  @Override
  public Future<Decision> take(List<Bucket> buckets) {
    List<String> keysAndArgs = new ArrayList<>(1 + buckets.size() * 3);
    keysAndArgs.add(Integer.toString(buckets.size()));
    for (Bucket bucket : buckets) {
      keysAndArgs.add(prefix + "{" + bucket.key().substring(bucket.kind().length() + 1) + "}:" + bucket.kind());
    }
    for (Bucket bucket : buckets) {
      keysAndArgs.add(Integer.toString(bucket.capacity()));
      keysAndArgs.add(Long.toString(bucket.windowMillis()));
    }
    String known = sha;
    Future<Response> reply;
    if (known == null) {
      reply = eval(keysAndArgs);
    } else {
      List<String> args = new ArrayList<>(keysAndArgs.size() + 1);
      args.add(known);
      args.addAll(keysAndArgs);
      reply = redis.evalsha(args).recover(err -> String.valueOf(err.getMessage()).startsWith("NOSCRIPT")
          ? eval(keysAndArgs) : Future.failedFuture(err));
    }
    return reply.timeout(timeoutMs, TimeUnit.MILLISECONDS).map(response -> decode(buckets, response));
  }

  /** EVAL sends the script; Redis caches it, so later checks send only its SHA. */
  private Future<Response> eval(List<String> keysAndArgs) {
    List<String> args = new ArrayList<>(keysAndArgs.size() + 1);
    args.add(SCRIPT);
    args.addAll(keysAndArgs);
    return redis.eval(args).onSuccess(ok -> sha = Sha1.hex(SCRIPT));
  }

  private static Decision decode(List<Bucket> buckets, Response response) {
    boolean allowed = response.get(0).toInteger() == 1;
    List<Decision.State> states = new ArrayList<>(buckets.size());
    for (int i = 0; i < buckets.size(); i++) {
      long remaining = response.get(1 + i * 3).toLong();
      long untilFull = response.get(2 + i * 3).toLong();
      long retry = response.get(3 + i * 3).toLong();
      states.add(new Decision.State(buckets.get(i), Math.max(0, remaining), TokenMath.ceilSeconds(untilFull),
          TokenMath.ceilSeconds(retry)));
    }
    return new Decision(allowed, states);
  }

  private static String load() {
    try (InputStream in = RedisBucketStore.class.getResourceAsStream("/ratelimit/token-bucket.lua")) {
      return new String(in.readAllBytes(), StandardCharsets.UTF_8);
    } catch (IOException | NullPointerException e) {
      throw new UncheckedIOException(new IOException("ratelimit/token-bucket.lua missing from the classpath", e));
    }
  }

  /** SHA-1 hex, as Redis names cached scripts. */
  static final class Sha1 {
    private Sha1() {}

    static String hex(String text) {
      try {
        byte[] digest = java.security.MessageDigest.getInstance("SHA-1").digest(text.getBytes(StandardCharsets.UTF_8));
        StringBuilder hex = new StringBuilder();
        for (byte b : digest) {
          hex.append(String.format("%02x", b));
        }
        return hex.toString();
      } catch (java.security.NoSuchAlgorithmException e) {
        throw new IllegalStateException(e);
      }
    }
  }
}
