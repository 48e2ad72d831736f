package io.claudememory.claude;

import io.vertx.core.Vertx;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs attempts of one upstream request until one succeeds, fails for good, or is cancelled, following a
 * {@link RetryPolicy}. Lives on the context of the generation that started it.
 */
final class Retrying implements Provider.Upstream {
  private static final Logger LOG = LoggerFactory.getLogger(Retrying.class);
  private final Vertx vertx;
  private final RetryPolicy policy;
  private final Function<Provider.StreamSink, Provider.Upstream> attempt;
  private final Provider.StreamSink sink;
  private Provider.Upstream current;
  private long timer = -1;
  private int attempts;
  private boolean cancelled;

  Retrying(Vertx vertx, RetryPolicy policy, Function<Provider.StreamSink, Provider.Upstream> attempt,
      Provider.StreamSink sink) {
    this.vertx = vertx;
    this.policy = policy;
    this.attempt = attempt;
    this.sink = sink;
  }

  Retrying start() {
    current = attempt.apply(new Provider.StreamSink() {
      @Override
      public void text(String text) {
        if (!cancelled) {
          sink.text(text);
        }
      }

      @Override
      public void finished(Provider.Answer answer) {
        if (!cancelled) {
          sink.finished(answer);
        }
      }

      @Override
      public void failed(UpstreamFailure failure) {
        if (!cancelled) {
          retryOrFail(failure);
        }
      }
    });
    return this;
  }

  private void retryOrFail(UpstreamFailure failure) {
    long delay = policy.delayMs(failure, attempts);
    if (delay < 0) {
      sink.failed(failure);
      return;
    }
    attempts++;
    LOG.info("upstream {} ({}): retry {} in {} ms", failure.status(), failure.code(), attempts, delay);
    timer = vertx.setTimer(Math.max(1, delay), id -> {
      timer = -1;
      if (!cancelled) {
        start();
      }
    });
  }

  @Override
  public void cancel() {
    cancelled = true;
    if (timer >= 0) {
      vertx.cancelTimer(timer);
    }
    if (current != null) {
      current.cancel();
    }
  }
}
