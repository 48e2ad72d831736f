package io.claudememory.webhooks;

import io.claudememory.audit.SecurityAudit;
import io.claudememory.platform.EventAddresses;
import io.claudememory.platform.crypto.SecretBox;
import io.claudememory.platform.db.TenantPools;
import io.claudememory.platform.http.Ids;
import io.claudememory.platform.net.AddressGuard;
import io.claudememory.platform.net.BoundedBody;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.VerticleBase;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.eventbus.MessageConsumer;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.PoolOptions;
import io.vertx.core.http.RequestOptions;
import io.vertx.core.json.JsonObject;
import io.vertx.core.net.SocketAddress;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.Tuple;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Delivers webhook events. For a tenant (told on {@link EventAddresses#WEBHOOKS_KICK} after a commit, and every
 * {@code sweepMs} for every tenant with a subscription) it fans new outbox rows out into one delivery per subscribed
 * webhook, then claims due deliveries with {@code FOR UPDATE SKIP LOCKED} and a lease (so no other node sends the
 * same attempt), and sends each signed the Standard Webhooks way: to the address the {@link AddressGuard} checked
 * (never a second lookup), with a timeout, without following redirects (a 3xx is a failure). Failures are retried on
 * the configured schedule with jitter; a subscription failing {@code disableAfterFailures} times in a row (or
 * answering 410 Gone) is disabled and its owner notified on {@code user.<id>}.
 */
public final class WebhookVerticle extends VerticleBase {
  private static final Logger LOG = LoggerFactory.getLogger(WebhookVerticle.class);
  /** An endpoint's answer is read this far at most (only its status matters). */
  private static final long MAX_RESPONSE_BYTES = 64 * 1024;

  /** Delivery timing and limits, from configuration. */
  public record Settings(String nodeId, int timeoutMs, List<Integer> retrySeconds, int jitterPercent,
      int disableAfterFailures, int sweepMs, int batchSize) {}

  private record Hook(UUID id, String url, Set<String> events, String sealedSecret, boolean enabled) {}

  private final Pool master;
  private final TenantPools pools;
  private final SecretBox secrets;
  private final AddressGuard guard;
  private final SecurityAudit audit;
  private final Settings settings;
  private final Set<UUID> draining = ConcurrentHashMap.newKeySet();
  private final Set<UUID> again = ConcurrentHashMap.newKeySet();
  private HttpClient http;
  private MessageConsumer<String> consumer;
  private long sweeper;
  private volatile boolean stopping;
  /** Set by {@link #stop}: completed once no drain is under way. */
  private volatile Promise<Void> drainsOver;
  private static final long STOP_WAIT_MS = 5_000;

  private final java.util.function.BiConsumer<UUID, JsonObject> notify;

  /** {@code notify} delivers a notification to a user's sockets (on every node, through the room fan-out). */
  public WebhookVerticle(Pool master, TenantPools pools, SecretBox secrets, AddressGuard guard, SecurityAudit audit,
      Settings settings, java.util.function.BiConsumer<UUID, JsonObject> notify) {
    this.notify = notify;
    this.master = master;
    this.pools = pools;
    this.secrets = secrets;
    this.guard = guard;
    this.audit = audit;
    this.settings = settings;
  }

  @Override
  public Future<?> start() {
    // connections are pooled per checked address (the request names the server to connect to), so keeping them
    // alive never bypasses the address check
    http = vertx.createHttpClient(new HttpClientOptions().setConnectTimeout(settings.timeoutMs())
        .setIdleTimeout(settings.timeoutMs()).setIdleTimeoutUnit(TimeUnit.MILLISECONDS).setForceSni(true)
        .setMaxRedirects(0).setKeepAlive(true).setKeepAliveTimeout(30),
        new PoolOptions().setHttp1MaxSize(16).setMaxWaitQueueSize(10_000));
    consumer = vertx.eventBus().consumer(EventAddresses.WEBHOOKS_KICK, message -> {
      UUID tenant = Ids.parseOrNull(message.body());
      if (tenant != null) {
        drain(tenant);
      }
    });
    sweeper = vertx.setPeriodic(settings.sweepMs(), id -> sweep());
    return consumer.completion();
  }

  @Override
  public Future<?> stop() {
    stopping = true;
    vertx.cancelTimer(sweeper);
    // Drains under way finish first (bounded): closing the client and the pools under them would fail them midway.
    Promise<Void> idle = Promise.promise();
    drainsOver = idle;
    if (draining.isEmpty()) {
      idle.tryComplete();
    }
    long timer = vertx.setTimer(STOP_WAIT_MS, id -> idle.tryComplete());
    return consumer.unregister().compose(v -> idle.future()).onComplete(v -> vertx.cancelTimer(timer))
        .compose(v -> http.close());
  }

  private void sweep() {
    master.query(WebhookSql.SUBSCRIBED_TENANTS).execute()
        .onSuccess(rows -> rows.forEach(row -> drain(row.getUUID(0))))
        .onFailure(err -> LOG.warn("webhook sweep failed: {}", err.getMessage()));
  }

  /** Drains one tenant; a kick arriving meanwhile makes it run once more, never twice at once on this node. */
  void drain(UUID tenant) {
    if (stopping) {
      return;
    }
    if (!draining.add(tenant)) {
      again.add(tenant);
      return;
    }
    master.preparedQuery(WebhookSql.FOR_DELIVERY).execute(Tuple.of(tenant)).map(WebhookVerticle::hooks)
        .compose(hooks -> pools.withPool(tenant, pool -> fanOut(pool, hooks).compose(v -> deliver(tenant, pool,
            hooks))))
        .onComplete(done -> {
          draining.remove(tenant);
          Promise<Void> over = drainsOver;
          if (over != null && draining.isEmpty()) {
            over.tryComplete();
          }
          if (done.failed()) {
            LOG.warn("webhook drain of tenant {} failed: {}", tenant, done.cause().getMessage());
          }
          if (again.remove(tenant) || (done.succeeded() && done.result() >= settings.batchSize())) {
            drain(tenant);
          }
        });
  }

  private static Map<UUID, Hook> hooks(Iterable<Row> rows) {
    Map<UUID, Hook> hooks = new HashMap<>();
    for (Row r : rows) {
      hooks.put(r.getUUID("id"), new Hook(r.getUUID("id"), r.getString("url"), Set.of(r.getArrayOfStrings("events")),
          r.getString("secret_sealed"), r.getBoolean("enabled")));
    }
    return hooks;
  }

  /** New events become one delivery per enabled subscription that asked for their type. */
  private Future<Void> fanOut(Pool pool, Map<UUID, Hook> hooks) {
    return pool.withTransaction(conn -> conn.query(WebhookSql.PENDING_EVENTS).execute().compose(events -> {
      if (events.size() == 0) {
        return Future.succeededFuture();
      }
      List<Tuple> deliveries = new ArrayList<>();
      List<UUID> ids = new ArrayList<>();
      for (Row event : events) {
        ids.add(event.getUUID("id"));
        for (Hook hook : hooks.values()) {
          if (hook.enabled() && hook.events().contains(event.getString("type"))) {
            deliveries.add(Tuple.of(Ids.newId(), event.getUUID("id"), hook.id()));
          }
        }
      }
      Future<?> inserted = deliveries.isEmpty() ? Future.succeededFuture()
          : conn.preparedQuery(WebhookSql.INSERT_DELIVERY).executeBatch(deliveries);
      return inserted.compose(v -> conn.preparedQuery(WebhookSql.MARK_FANNED_OUT)
          .execute(Tuple.of((Object) ids.toArray(new UUID[0])))).mapEmpty();
    }));
  }

  /** What one attempt came to. {@code permanent}: no point in trying again (the subscription is gone). */
  private record Outcome(Row delivery, Hook hook, Integer status, String error, long ms, boolean permanent) {
    boolean succeeded() {
      return error == null;
    }
  }

  /** Claims and sends one batch of due deliveries, then records them together; completes with how many. */
  private Future<Integer> deliver(UUID tenant, Pool pool, Map<UUID, Hook> hooks) {
    double lease = settings.timeoutMs() / 1000.0 + 30;
    return pool.preparedQuery(WebhookSql.CLAIM).execute(Tuple.of(lease, settings.batchSize())).compose(rows -> {
      if (rows.size() == 0) {
        return Future.succeededFuture(0);
      }
      List<Future<Outcome>> sends = new ArrayList<>();
      for (Row delivery : rows) {
        sends.add(send(delivery, hooks.get(delivery.getUUID("webhook_id"))));
      }
      return Future.join(sends).transform(done -> {
        List<Outcome> outcomes = new ArrayList<>();
        sends.forEach(f -> outcomes.add(f.result()));
        return record(tenant, pool, outcomes).map(rows.size());
      });
    });
  }

  private Future<Outcome> send(Row delivery, Hook hook) {
    if (hook == null || !hook.enabled()) {
      return Future.succeededFuture(new Outcome(delivery, hook, null, hook == null
          ? "The subscription was removed." : "The subscription is disabled.", 0, true));
    }
    WebhookUrl url = WebhookUrl.parse(hook.url());
    String id = delivery.getUUID("event_id").toString();
    long timestamp = System.currentTimeMillis() / 1000;
    Buffer body = new JsonObject().put("type", delivery.getString("type"))
        .put("timestamp", delivery.getOffsetDateTime("created_at").toInstant().toString())
        .put("data", delivery.getJsonObject("data")).toBuffer();
    String signature = Signer.sign(secrets.open(hook.sealedSecret(), hook.id().toString()), id, timestamp,
        body.getBytes());
    long started = System.nanoTime();
    return guard.check(url.host()).compose(checked -> http.request(new RequestOptions().setMethod(HttpMethod.POST)
            .setServer(SocketAddress.inetSocketAddress(url.port(), checked.ip())).setHost(url.host())
            .setPort(url.port()).setSsl(url.https()).setURI(url.pathAndQuery()).setFollowRedirects(false)
            .setIdleTimeout(settings.timeoutMs())
            .putHeader("content-type", "application/json").putHeader("user-agent", "claude-memory-backend-webhooks")
            .putHeader("webhook-id", id).putHeader("webhook-timestamp", Long.toString(timestamp))
            .putHeader("webhook-signature", signature)))
        // the endpoint's body is not needed: read and dropped, cut off past a bound, and the connection closed when
        // the attempt times out (an endpoint that keeps sending would otherwise hold it open for good)
        .compose(request -> request.send(body)
            .compose(response -> BoundedBody.discard(response, MAX_RESPONSE_BYTES).map(v -> response.statusCode()))
            .timeout(settings.timeoutMs(), TimeUnit.MILLISECONDS)
            .onFailure(err -> request.reset()))
        .timeout(settings.timeoutMs(), TimeUnit.MILLISECONDS)
        .transform(outcome -> {
          long ms = (System.nanoTime() - started) / 1_000_000;
          if (outcome.succeeded()) {
            int status = outcome.result();
            return Future.succeededFuture(new Outcome(delivery, hook, status, status / 100 == 2 ? null
                : "The endpoint answered " + status + ".", ms, false));
          }
          Throwable err = outcome.cause();
          String message = err instanceof AddressGuard.RefusedHostException ? err.getMessage()
              : "The request failed: " + (err.getMessage() == null ? err.getClass().getSimpleName() : err.getMessage());
          return Future.succeededFuture(new Outcome(delivery, hook, null, message, ms, false));
        });
  }

  /**
   * Logs a batch of attempts and schedules what follows each (done, another attempt later, or given up) in one
   * tenant transaction; then updates each subscription's run of failures, disabling those past the limit.
   */
  private Future<Void> record(UUID tenant, Pool pool, List<Outcome> outcomes) {
    List<Tuple> attempts = new ArrayList<>();
    List<Tuple> updates = new ArrayList<>();
    Map<UUID, int[]> perHook = new HashMap<>();
    Map<UUID, Boolean> gone = new HashMap<>();
    for (Outcome o : outcomes) {
      int attempt = o.delivery().getInteger("attempts");
      List<Integer> schedule = settings.retrySeconds();
      String next = o.succeeded() ? "succeeded" : !o.permanent() && attempt < schedule.size() ? "pending" : "failed";
      double delay = next.equals("pending") ? jittered(schedule.get(attempt)) : 0;
      attempts.add(Tuple.from(new Object[] {Ids.newId(), o.delivery().getUUID("id"), attempt, settings.nodeId(),
          o.status(), o.error(), o.succeeded(), (int) Math.min(Integer.MAX_VALUE, o.ms())}));
      updates.add(Tuple.from(new Object[] {o.delivery().getUUID("id"), attempt, next, o.status(), o.error(), delay}));
      if (o.hook() != null && !o.permanent()) {
        int[] counts = perHook.computeIfAbsent(o.hook().id(), k -> new int[2]);
        counts[o.succeeded() ? 0 : 1]++;
        if (o.status() != null && o.status() == 410) {
          gone.put(o.hook().id(), true);
        }
      }
    }
    Future<Void> logged = pool.withTransaction(conn -> conn.preparedQuery(WebhookSql.INSERT_ATTEMPT)
        .executeBatch(attempts).compose(v -> conn.preparedQuery(WebhookSql.RECORD).executeBatch(updates))
        .mapEmpty());
    return logged.compose(v -> {
      Future<Void> chain = Future.succeededFuture();
      for (var entry : perHook.entrySet()) {
        UUID hook = entry.getKey();
        int successes = entry.getValue()[0];
        int failures = entry.getValue()[1];
        chain = chain.compose(x -> successes == 0 ? Future.succeededFuture()
            : master.preparedQuery(WebhookSql.SUCCEEDED).execute(Tuple.of(hook)).mapEmpty());
        if (failures > 0) {
          boolean wasGone = gone.getOrDefault(hook, false);
          String reason = wasGone ? "The endpoint answered 410 Gone." : "Disabled after "
              + settings.disableAfterFailures() + " failed attempts in a row.";
          chain = chain.compose(x -> master.preparedQuery(WebhookSql.FAILED).execute(Tuple.of(hook,
              settings.disableAfterFailures(), wasGone, reason, failures))).compose(rows -> {
                Row row = rows.size() == 0 ? null : rows.iterator().next();
                return row != null && row.getBoolean("just_disabled") ? disabled(tenant, row)
                    : Future.succeededFuture();
              });
        }
      }
      return chain;
    });
  }

  private Future<Void> disabled(UUID tenant, Row row) {
    JsonObject hook = Webhooks.toJson(row);
    LOG.info("webhook {} of {} disabled: {}", hook.getString("id"), tenant, hook.getString("disabledReason"));
    notify.accept(tenant, new JsonObject().put("type", EventAddresses.WEBHOOK_DISABLED).put("webhook", hook));
    return audit.record(master, tenant, null, "webhook.disabled", new SecurityAudit.Caller(null, null),
        new JsonObject().put("webhookId", hook.getString("id")).put("reason", hook.getString("disabledReason")));
  }

  private double jittered(int seconds) {
    double spread = settings.jitterPercent() / 100.0;
    return Math.max(0, seconds * (1 + ThreadLocalRandom.current().nextDouble(-spread, spread + 1e-9)));
  }
}
