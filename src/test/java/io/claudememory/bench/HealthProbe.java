package io.claudememory.bench;

import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.http.PoolOptions;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.WebClient;
import io.vertx.ext.web.client.WebClientOptions;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.HdrHistogram.Histogram;

/**
 * Open-loop probe of {@code GET /api/v1/health}: one request every {@code intervalMs}, sent on schedule whether or not
 * earlier ones have answered (a stalled server shows up as latency, not as fewer samples). Each latency is measured
 * from the timer firing to the complete response. Runs on its own Vert.x so that the load generator's event
 * loop cannot delay it.
 */
final class HealthProbe {
  private final Vertx vertx;
  private final WebClient client;
  private final String url;
  private final int intervalMs;
  private Latency last;
  /** How late the probe's own timer fired (gap beyond the interval), in µs: the load generator's side of a stall. */
  private final Histogram lateness = new Histogram(TimeUnit.MINUTES.toMicros(1), 3);

  HealthProbe(Vertx vertx, String baseUrl, int intervalMs) {
    this.vertx = vertx;
    // Enough connections that a request never waits in the client for a free one while up to ~250 ms of others
    // are outstanding: with too few, one slow answer queues the next ones and the figure measures the client's queue.
    this.client = WebClient.create(vertx, new WebClientOptions().setKeepAlive(true),
        new PoolOptions().setHttp1MaxSize(Math.max(4, 250 / intervalMs)));
    this.url = baseUrl + "/api/v1/health";
    this.intervalMs = intervalMs;
  }

  /** Probes for {@code duration} and returns the latencies once every probe sent has answered or failed. */
  Latency measure(Duration duration) {
    Latency latency = new Latency();
    Promise<Void> done = Promise.promise();
    long[] outstanding = {0};
    long[] previous = {0};
    lateness.reset();
    boolean[] stopped = {false};
    long end = System.nanoTime() + duration.toNanos();
    vertx.runOnContext(start -> vertx.setPeriodic(intervalMs, timer -> {
      if (System.nanoTime() >= end) {
        vertx.cancelTimer(timer);
        stopped[0] = true;
        if (outstanding[0] == 0) {
          done.tryComplete();
        }
        return;
      }
      long sent = System.nanoTime();
      if (previous[0] != 0) {
        lateness.recordValue(Math.max(0, (sent - previous[0]) / 1000 - intervalMs * 1000L));
      }
      previous[0] = sent;
      outstanding[0]++;
      client.getAbs(url).send().onComplete(res -> {
        if (res.succeeded() && res.result().statusCode() == 200) {
          latency.record(sent);
        } else {
          latency.fail();
        }
        if (--outstanding[0] == 0 && stopped[0]) {
          done.tryComplete();
        }
      });
    }));
    done.future().await();
    last = latency;
    return latency;
  }

  Latency last() {
    return last;
  }

  /** The probe's timer lateness over the last {@link #measure}: p99 and max in milliseconds. */
  JsonObject timerLateness() {
    return new JsonObject().put("p99Ms", lateness.getValueAtPercentile(99) / 1000.0)
        .put("maxMs", lateness.getMaxValue() / 1000.0);
  }
}
