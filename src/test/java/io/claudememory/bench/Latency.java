package io.claudememory.bench;

import io.vertx.core.json.JsonObject;
import java.util.concurrent.TimeUnit;
import org.HdrHistogram.Histogram;

/**
 * A latency recorder (HdrHistogram, microsecond resolution, up to one minute, 3 significant digits) that also counts
 * failures. Safe from one thread at a time; the benches record each recorder from a single event loop.
 */
final class Latency {
  private final Histogram histogram = new Histogram(TimeUnit.MINUTES.toMicros(1), 3);
  private long failures;

  void record(long startNanos) {
    histogram.recordValue(Math.min(histogram.getHighestTrackableValue(),
        Math.max(1, (System.nanoTime() - startNanos) / 1000)));
  }

  void fail() {
    failures++;
  }

  long count() {
    return histogram.getTotalCount();
  }

  long failures() {
    return failures;
  }

  double percentileMs(double percentile) {
    return histogram.getValueAtPercentile(percentile) / 1000.0;
  }

  /** Count, failures, and p50/p90/p99/max/mean in milliseconds. */
  JsonObject summary() {
    return new JsonObject()
        .put("count", count())
        .put("failures", failures)
        .put("p50Ms", percentileMs(50))
        .put("p90Ms", percentileMs(90))
        .put("p99Ms", percentileMs(99))
        .put("maxMs", histogram.getMaxValue() / 1000.0)
        .put("meanMs", Math.round(histogram.getMean()) / 1000.0);
  }

  /** One readable line: {@code n=30 p50=312.1ms p99=401.0ms max=402.3ms}. */
  String line() {
    return String.format("n=%d%s p50=%.1fms p90=%.1fms p99=%.1fms max=%.1fms", count(),
        failures == 0 ? "" : " failures=" + failures, percentileMs(50), percentileMs(90), percentileMs(99),
        histogram.getMaxValue() / 1000.0);
  }
}
