package io.claudememory.ops;

import io.claudememory.platform.db.MasterDb;
import io.claudememory.platform.db.TenantPools;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.healthchecks.HealthChecks;
import io.vertx.ext.healthchecks.Status;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import io.vertx.ext.web.healthchecks.HealthCheckHandler;
import io.vertx.redis.client.RedisAPI;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;

/**
 * {@code /api/v1/health}: a cheap up check, liveness, readiness (down while starting or draining), detailed checks
 * with their data (master database, tenant pools, storage, event-loop delay, Redis when configured), build info and
 * Prometheus metrics. Every check answers within its own timeout, shorter than a probe's.
 */
public final class HealthRoutes {
  private static final long CHECK_TIMEOUT_MS = 2000;
  private static final long MIN_FREE_BYTES = 100L * 1024 * 1024;
  private static final double MAX_LOOP_DELAY_MS = 500;
  private final HealthChecks checks;
  private final Readiness readiness;
  private final BuildInfo build;
  private final String nodeId;
  private final Instant startedAt = Instant.now();
  private final PrometheusMeterRegistry metrics;

  /** What the detailed checks look at; {@code redis} is null on a single node without Redis. */
  public record Probes(MasterDb master, TenantPools tenants, Path storage, EventLoopDelay loops, RedisAPI redis) {}

  public HealthRoutes(Vertx vertx, Readiness readiness, Probes probes, String nodeId,
      PrometheusMeterRegistry metrics) {
    this.readiness = readiness;
    this.build = BuildInfo.load();
    this.nodeId = nodeId;
    this.metrics = metrics;
    this.checks = HealthChecks.create(vertx);
    checks.register("master-database", CHECK_TIMEOUT_MS, p -> timed(p, probes.master().pool()
        .query("SELECT 1").execute().map(rows -> new JsonObject())));
    checks.register("tenant-pools", CHECK_TIMEOUT_MS, p -> p.complete(Status.OK(new JsonObject()
        .put("open", probes.tenants().openCount()).put("failing", probes.tenants().failingCount()))));
    checks.register("storage", CHECK_TIMEOUT_MS, p -> vertx.fileSystem().fsProps(probes.storage().toString())
        .onSuccess(fs -> {
          JsonObject data = new JsonObject().put("path", probes.storage().toString())
              .put("usableBytes", fs.usableSpace()).put("totalBytes", fs.totalSpace());
          p.complete(fs.usableSpace() >= MIN_FREE_BYTES ? Status.OK(data) : Status.KO(data));
        })
        .onFailure(err -> p.complete(Status.KO(new JsonObject().put("error", err.getMessage())))));
    checks.register("event-loop", CHECK_TIMEOUT_MS, p -> {
      double worst = probes.loops().worstMillis();
      JsonObject data = new JsonObject().put("worstDelayMs", worst);
      p.complete(worst <= MAX_LOOP_DELAY_MS ? Status.OK(data) : Status.KO(data));
    });
    if (probes.redis() != null) {
      checks.register("redis", CHECK_TIMEOUT_MS, p -> timed(p, probes.redis().ping(java.util.List.of())
          .map(pong -> new JsonObject())));
    }
  }

  /** Adds a check of another capability to {@code /health/detailed}; {@code up} is read on each probe. */
  public void register(String name, java.util.function.BooleanSupplier up, java.util.function.Supplier<JsonObject> data) {
    checks.register(name, CHECK_TIMEOUT_MS, p -> p.complete(up.getAsBoolean() ? Status.OK(data.get())
        : Status.KO(data.get())));
  }

  public void mount(Router api) {
    api.get("/health").handler(ctx -> ok(ctx, new JsonObject().put("status", "UP")));
    api.get("/health/liveness").handler(ctx -> ok(ctx, new JsonObject().put("status", "UP")));
    api.get("/health/readiness").handler(this::readiness);
    api.get("/health/detailed").handler(HealthCheckHandler.createWithHealthChecks(checks));
    api.get("/health/info").handler(this::info);
    api.get("/health/metrics").handler(ctx -> ctx.response()
        .putHeader("Content-Type", "text/plain; version=0.0.4; charset=utf-8").end(metrics.scrape()));
  }

  private void readiness(RoutingContext ctx) {
    Readiness.State state = readiness.state();
    JsonObject body = new JsonObject().put("status", state == Readiness.State.READY ? "UP" : "DOWN")
        .put("state", state.name().toLowerCase());
    ctx.response().setStatusCode(state == Readiness.State.READY ? 200 : 503)
        .putHeader("Content-Type", "application/json").end(body.toBuffer());
  }

  private void info(RoutingContext ctx) {
    ok(ctx, new JsonObject()
        .put("version", build.version())
        .put("commit", build.commit())
        .put("nodeId", nodeId)
        .put("startedAt", startedAt.toString())
        .put("uptimeSeconds", Duration.between(startedAt, Instant.now()).toSeconds()));
  }

  private static void ok(RoutingContext ctx, JsonObject body) {
    ctx.response().putHeader("Content-Type", "application/json").end(body.toBuffer());
  }

  /** Completes a check with the latency of {@code probe}, or KO with its error; never throws. */
  private static void timed(Promise<Status> p, io.vertx.core.Future<JsonObject> probe) {
    long start = System.nanoTime();
    probe.onSuccess(data -> p.tryComplete(Status.OK(data.put("latencyMs", (System.nanoTime() - start) / 1e6))))
        .onFailure(err -> p.tryComplete(Status.KO(new JsonObject().put("error", String.valueOf(err.getMessage())))));
  }
}
