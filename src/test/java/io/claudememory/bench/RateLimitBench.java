package io.claudememory.bench;

import io.claudememory.platform.ratelimit.Bucket;
import io.claudememory.platform.ratelimit.LocalBucketStore;
import io.claudememory.platform.ratelimit.RedisBucketStore;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.redis.client.Redis;
import io.vertx.redis.client.RedisAPI;
import io.vertx.redis.client.RedisOptions;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.TimeUnit;

/**
 * The cost of a rate-limit check, as a request pays it: the two buckets of a request phase (address + auth) taken
 * together. Local: the in-process store, single thread, over 10,000 distinct clients. Redis: one EVALSHA round
 * trip, measured one at a time (latency) and with 64 in flight (throughput). Run by scripts/bench/ratelimit.
 */
public final class RateLimitBench {
  private RateLimitBench() {}

  public static void main(String[] args) throws Exception {
    String redisUrl = args.length > 0 && !args[0].isBlank() ? args[0] : null;
    Path out = Path.of(args.length > 1 ? args[1] : "bench-results/ratelimit.json");
    JsonObject results = new JsonObject().put("benchmark", "ratelimit").put("cpus",
        Runtime.getRuntime().availableProcessors()).put("java", System.getProperty("java.version"));
    results.put("local", local());
    if (redisUrl != null) {
      results.put("redis", redis(redisUrl));
    } else {
      results.put("redis", new JsonObject().put("skipped", "no Redis URL given"));
    }
    Files.createDirectories(out.toAbsolutePath().getParent());
    Files.writeString(out, results.encodePrettily() + "\n");
    System.out.println(results.encodePrettily());
  }

  static List<Bucket> request(int client) {
    String id = "198.51." + (client / 256) + "." + (client % 256);
    return List.of(new Bucket("address", "address:" + id, 1_000_000, 60_000),
        new Bucket("auth", "auth:" + id, 1_000_000, 60_000));
  }

  static JsonObject local() {
    LocalBucketStore store = new LocalBucketStore(null, 100_000);
    int clients = 10_000;
    List<List<Bucket>> requests = new ArrayList<>();
    for (int i = 0; i < clients; i++) {
      requests.add(request(i));
    }
    for (int i = 0; i < 500_000; i++) {
      store.takeNow(requests.get(i % clients));
    }
    int n = 2_000_000;
    long start = System.nanoTime();
    for (int i = 0; i < n; i++) {
      store.takeNow(requests.get(i % clients));
    }
    long elapsed = System.nanoTime() - start;
    long[] samples = new long[100_000];
    for (int i = 0; i < samples.length; i++) {
      long t = System.nanoTime();
      store.takeNow(requests.get(i % clients));
      samples[i] = System.nanoTime() - t;
    }
    Arrays.sort(samples);
    return new JsonObject().put("checks", n).put("bucketsPerCheck", 2).put("distinctClients", clients)
        .put("nsPerCheck", round(elapsed / (double) n))
        .put("checksPerSecond", Math.round(n / (elapsed / 1e9)))
        .put("p50Ns", samples[samples.length / 2]).put("p99Ns", samples[samples.length * 99 / 100]);
  }

  static JsonObject redis(String url) throws Exception {
    Vertx vertx = Vertx.vertx();
    try {
      Redis client = Redis.createClient(vertx, new RedisOptions().setConnectionString(url).setMaxPoolSize(16)
          .setMaxPoolWaiting(1024));
      RedisBucketStore store = new RedisBucketStore(RedisAPI.api(client), "cmb:bench:" + UUID.randomUUID() + ":",
          5000);
      for (int i = 0; i < 2000; i++) {
        store.take(request(i % 1000)).await(5, TimeUnit.SECONDS);
      }
      int sequential = 5000;
      long[] samples = new long[sequential];
      for (int i = 0; i < sequential; i++) {
        long t = System.nanoTime();
        store.take(request(i % 1000)).await(5, TimeUnit.SECONDS);
        samples[i] = System.nanoTime() - t;
      }
      Arrays.sort(samples);
      int total = 50_000;
      int inFlight = 64;
      long start = System.nanoTime();
      List<Future<?>> lanes = new ArrayList<>();
      for (int lane = 0; lane < inFlight; lane++) {
        int first = lane;
        lanes.add(vertx.getOrCreateContext().<Void>executeBlocking(() -> null)
            .compose(v -> chain(store, first, inFlight, total)));
      }
      Future.all(lanes).await(5, TimeUnit.MINUTES);
      long elapsed = System.nanoTime() - start;
      client.close();
      return new JsonObject().put("sequentialChecks", sequential).put("bucketsPerCheck", 2)
          .put("p50Us", round(samples[sequential / 2] / 1e3)).put("p99Us", round(samples[sequential * 99 / 100] / 1e3))
          .put("meanUs", round(Arrays.stream(samples).average().orElse(0) / 1e3))
          .put("concurrentChecks", total).put("inFlight", inFlight)
          .put("checksPerSecond", Math.round(total / (elapsed / 1e9)));
    } finally {
      vertx.close().await(30, TimeUnit.SECONDS);
    }
  }

  /** One lane: checks i, i + step, i + 2 step, ... one after the other. */
  static Future<Void> chain(RedisBucketStore store, int i, int step, int total) {
    if (i >= total) {
      return Future.succeededFuture();
    }
    return store.take(request(i % 1000)).compose(d -> chain(store, i + step, step, total));
  }

  static double round(double value) {
    return Math.round(value * 100) / 100.0;
  }
}
