package io.claudememory.platform.ratelimit;

import io.claudememory.config.AppConfig;
import io.claudememory.platform.http.ApiException;
import io.claudememory.platform.http.Principal;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.vertx.core.Future;
import io.vertx.core.Handler;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.ext.web.RoutingContext;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The rate-limit policy, applied in two places:
 * <ul>
 *   <li>{@link #byAddress()}, a router handler before any route: the {@code address} bucket of the client, plus the
 *       stricter {@code auth} bucket on the authentication routes (brute force, scripted sign-ups);</li>
 *   <li>{@link #admit}, called by the authenticator once the caller is known: the {@code principal} bucket of the
 *       user or API key, plus the {@code messages} bucket when sending a message (each starts a paid generation) and
 *       the {@code jobs} bucket when starting an export or import (each reads or writes a whole account).</li>
 * </ul>
 * Every answer carries {@code RateLimit} and {@code RateLimit-Policy} (draft-ietf-httpapi-ratelimit-headers) for
 * the tightest bucket; a refusal is a 429 problem with {@code Retry-After}. Health routes are never limited.
 * When the store fails (Redis down or slow), the request goes through: availability wins over limits, and the
 * failure is counted in {@code cmb_rate_limit_store_errors_total} and logged at most every 10 seconds.
 */
public final class RateLimiter {
  private static final Logger LOG = LoggerFactory.getLogger(RateLimiter.class);
  private static final Pattern AUTH_ROUTES = Pattern.compile("^/api/v1/auth/(login|register|refresh|password)/?$");
  private static final Pattern SEND_MESSAGE = Pattern.compile("^/api/v1/conversations/[^/]+/messages/?$");
  private static final Pattern START_JOB = Pattern.compile("^/api/v1/export/(create|import)/?$");
  private static final String HEALTH = "/api/v1/health";
  private final AppConfig.RateLimit conf;
  private final BucketStore store;
  private final ClientAddress addresses;
  private final MeterRegistry metrics;
  private final Map<String, Counter> refusals = new ConcurrentHashMap<>();
  private final Counter storeErrors;
  private final AtomicLong lastWarning = new AtomicLong();

  public RateLimiter(AppConfig.RateLimit conf, BucketStore store, MeterRegistry metrics) {
    this.conf = conf;
    this.store = store;
    this.addresses = new ClientAddress(conf.trustedProxies());
    this.metrics = metrics;
    this.storeErrors = Counter.builder("cmb_rate_limit_store_errors_total")
        .description("Rate-limit checks that failed (Redis down or slow) and let the request through")
        .register(metrics);
    for (String kind : List.of("address", "principal", "auth", "messages", "jobs")) {
      refusals(kind);
    }
  }

  /** Router handler for every request: the client address bucket, and the auth bucket on auth routes. */
  public Handler<RoutingContext> byAddress() {
    return ctx -> {
      String path = ctx.normalizedPath();
      if (!conf.enabled() || path.startsWith(HEALTH)) {
        ctx.next();
        return;
      }
      String client = addresses.of(ctx.request());
      Bucket address = bucket("address", client, conf.address());
      List<Bucket> buckets = ctx.request().method() == HttpMethod.POST && AUTH_ROUTES.matcher(path).matches()
          ? List.of(address, bucket("auth", client, conf.auth())) : List.of(address);
      // The check may wait for Redis: hold the body until the body handler after this one reads it.
      ctx.request().pause();
      check(ctx, buckets).onSuccess(v -> ctx.next()).onFailure(ctx::fail);
    };
  }

  /**
   * After authentication: the caller's bucket, plus the messages bucket when sending a message and the jobs bucket
   * when starting an export or import.
   */
  public Future<Void> admit(RoutingContext ctx, Principal principal) {
    if (!conf.enabled()) {
      return Future.succeededFuture();
    }
    String who = principal.apiKeyId() != null ? "k:" + principal.apiKeyId() : "u:" + principal.userId();
    Bucket caller = bucket("principal", who, conf.principal());
    String path = ctx.normalizedPath();
    boolean post = ctx.request().method() == HttpMethod.POST;
    List<Bucket> buckets = post && SEND_MESSAGE.matcher(path).matches()
        ? List.of(caller, bucket("messages", who, conf.messages()))
        // per account, not per key: an export is of the whole account, and more keys must not mean more exports
        : post && START_JOB.matcher(path).matches() ? List.of(caller, bucket("jobs", "u:" + principal.userId(),
            conf.jobs()))
        : List.of(caller);
    return check(ctx, buckets);
  }

  private Future<Void> check(RoutingContext ctx, List<Bucket> buckets) {
    return store.take(buckets).recover(err -> {
      storeErrors.increment();
      long now = System.currentTimeMillis();
      long last = lastWarning.get();
      if (now - last > 10_000 && lastWarning.compareAndSet(last, now)) {
        LOG.warn("rate limiting unavailable, letting requests through: {}", err.getMessage());
      }
      return Future.succeededFuture(Decision.open());
    }).compose(decision -> {
      Decision.State tightest = decision.tightest();
      if (tightest != null) {
        headers(ctx.response(), tightest);
      }
      if (decision.allowed()) {
        return Future.succeededFuture();
      }
      refusals(tightest.bucket().kind()).increment();
      return Future.failedFuture(ApiException.tooManyRequests("Too many requests (" + tightest.bucket().kind()
          + " limit); retry after " + tightest.retryAfterSeconds() + " s.", (int) tightest.retryAfterSeconds()));
    });
  }

  /** {@code RateLimit-Policy: "auth";q=10;w=60} and {@code RateLimit: "auth";r=3;t=42}. */
  private static void headers(HttpServerResponse response, Decision.State state) {
    Bucket bucket = state.bucket();
    response.putHeader("RateLimit-Policy", "\"" + bucket.kind() + "\";q=" + bucket.capacity() + ";w="
        + bucket.windowMillis() / 1000);
    response.putHeader("RateLimit", "\"" + bucket.kind() + "\";r=" + state.remaining() + ";t="
        + (state.remaining() > 0 ? state.resetSeconds() : state.retryAfterSeconds()));
  }

  private static Bucket bucket(String kind, String identity, AppConfig.Bucket limits) {
    return new Bucket(kind, kind + ":" + identity, limits.limit(), limits.windowSeconds() * 1000L);
  }

  private Counter refusals(String kind) {
    return refusals.computeIfAbsent(kind, k -> Counter.builder("cmb_rate_limited_requests_total")
        .description("Requests refused with 429, by the bucket that refused them").tag("bucket", k)
        .register(metrics));
  }

  public void close() {
    store.close();
  }
}
