package io.claudememory;

import io.claudememory.config.AppConfig;
import io.claudememory.config.ConfigFiles;
import io.claudememory.platform.http.RequestIds;
import io.claudememory.platform.http.RouteLabels;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.config.MeterFilter;
import io.micrometer.core.instrument.distribution.DistributionStatisticConfig;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.micrometer.Label;
import io.vertx.micrometer.MicrometerMetricsFactory;
import io.vertx.micrometer.Match;
import io.vertx.micrometer.MatchType;
import io.vertx.micrometer.MetricsDomain;
import io.vertx.micrometer.MicrometerMetricsOptions;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import sun.misc.Signal;

/**
 * Starts one node: logging → metrics-enabled Vert.x → configuration → {@link Application}. SIGTERM and SIGINT drain
 * and stop it, then exit 0. A bad configuration prints one line naming the key and exits 2; a failed start exits 1,
 * having closed whatever it had started (the embedded PostgreSQL included).
 */
public final class Main {
  private Main() {}

  public static void main(String[] args) {
    Map<String, String> env = System.getenv();
    configureLogging(env);
    Logger log = LoggerFactory.getLogger(Main.class);
    PrometheusMeterRegistry metrics = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    Vertx vertx = createVertx(metrics);
    AppConfig config;
    try {
      config = ConfigFiles.read(vertx, env).await(30, TimeUnit.SECONDS);
    } catch (Exception e) {
      System.err.println("Configuration error: " + e.getMessage());
      vertx.close();
      System.exit(2);
      return;
    }
    Application app;
    try {
      app = Application.start(vertx, metrics, config).await();
    } catch (Throwable e) {
      log.error("start-up failed: {}", e.getMessage(), e);
      vertx.close();
      System.exit(1);
      return;
    }
    Runnable shutdown = () -> {
      try {
        app.stop().await(config.http().drainDelaySeconds() + config.http().shutdownGraceSeconds() + 30L,
            TimeUnit.SECONDS);
        vertx.close().await(30, TimeUnit.SECONDS);
      } catch (Exception e) {
        log.warn("shutdown did not complete cleanly: {}", e.getMessage());
      }
    };
    Signal.handle(new Signal("TERM"), signal -> exitAfter(shutdown));
    Signal.handle(new Signal("INT"), signal -> exitAfter(shutdown));
  }

  /** Runs the shutdown off the signal thread, then exits 0 (the JVM would otherwise report 143 for SIGTERM). */
  private static void exitAfter(Runnable shutdown) {
    Thread stopper = new Thread(() -> {
      shutdown.run();
      System.exit(0);
    }, "shutdown");
    stopper.start();
  }

  /**
   * The node's Vert.x, with metrics (they cannot be enabled later). Also used by tests to start nodes. HTTP server
   * meters carry the route template ({@code /api/v1/api-keys/:id}), never the path, so ids cannot multiply series.
   */
  public static Vertx createVertx(PrometheusMeterRegistry metrics) {
    RequestIds.registerContextLocal();
    metrics.config().meterFilter(MeterFilter.replaceTagValues(Label.HTTP_ROUTE.toString(), RouteLabels::template))
        .meterFilter(latencyHistograms());
    return Vertx.builder()
        .with(new VertxOptions().setPreferNativeTransport(true).setMetricsOptions(new MicrometerMetricsOptions().setEnabled(true)
            .setJvmMetricsEnabled(true).addLabels(Label.HTTP_ROUTE)
            // Event-bus metrics are labelled by address, and there is an address per conversation and per user:
            // unaggregated, every new room would create meters for good (unbounded cardinality, and CPU on each
            // first delivery). They are counted together as "room.*" and "user.*".
            .addLabelMatch(new Match().setDomain(MetricsDomain.EVENT_BUS).setLabel("address")
                .setType(MatchType.REGEX).setValue("room\\..*").setAlias("room.*"))
            .addLabelMatch(new Match().setDomain(MetricsDomain.EVENT_BUS).setLabel("address")
                .setType(MatchType.REGEX).setValue("user\\..*").setAlias("user.*"))))
        .withMetrics(new MicrometerMetricsFactory(metrics))
        .build();
  }

  /** Request latency buckets, 5 ms to 30 s: enough for p99 across nodes at 12 series per route. */
  private static final double[] LATENCY_BUCKETS_NANOS = {5e6, 10e6, 25e6, 50e6, 100e6, 250e6, 500e6, 1e9, 2.5e9,
      5e9, 10e9, 30e9};

  /** Histogram buckets for request latency, so that Prometheus can compute p99 across nodes. */
  private static MeterFilter latencyHistograms() {
    return new MeterFilter() {
      @Override
      public DistributionStatisticConfig configure(Meter.Id id, DistributionStatisticConfig config) {
        if (!id.getName().equals("vertx.http.server.response.time")) {
          return config;
        }
        return DistributionStatisticConfig.builder().serviceLevelObjectives(LATENCY_BUCKETS_NANOS).build()
            .merge(config);
      }
    };
  }

  /** Logback reads LOG_FORMAT and LOG_LEVEL; production defaults to JSON. Must run before the first logger. */
  private static void configureLogging(Map<String, String> env) {
    String profile = env.getOrDefault("APP_PROFILE", env.getOrDefault("NODE_ENV", "development"));
    boolean production = profile.toLowerCase().startsWith("prod");
    System.setProperty("LOG_FORMAT", env.getOrDefault("LOG_FORMAT", production ? "json" : "text"));
    System.setProperty("LOG_LEVEL", env.getOrDefault("LOG_LEVEL", "info").toUpperCase());
  }
}
