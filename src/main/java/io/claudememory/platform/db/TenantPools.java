package io.claudememory.platform.db;

import io.claudememory.platform.Contexts;
import io.claudememory.platform.http.ApiException;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.internal.ContextInternal;
import io.vertx.core.internal.VertxInternal;
import io.vertx.core.net.NetClientOptions;
import io.vertx.pgclient.PgBuilder;
import io.vertx.pgclient.PgConnectOptions;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.PoolOptions;
import io.vertx.sqlclient.SqlClient;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One small reactive pool per tenant database, shared by every event loop of the node.
 *
 * <p>Concurrency rule: the pool map is touched from several event loops, so every access holds this object's lock,
 * and only for map bookkeeping (never while waiting on I/O). Concurrent first requests for a tenant share one
 * {@code Future}: the pool is created, and its database migrated, once.
 *
 * <p>Bounds: at most {@code maxPools} pools; beyond that the least recently used pool with nothing in flight is
 * closed. Pools unused for {@code idleSeconds} are closed by a sweeper. A tenant whose database cannot be reached gets
 * fast 503s for {@code breakerOpenSeconds} (a per-tenant circuit breaker), so it never ties up anyone else.
 *
 * <p>Write freeze: {@link #freeze} closes a tenant's gate (new {@code withPool} calls wait, at most
 * {@link #GATE_WAIT_MS}, then get a 503) and completes once the work in flight has drained; {@link #thaw} opens it
 * again and the waiting calls proceed, on the tenant's current database. The gate is per node; {@link ClusterFreeze}
 * closes it on every node.
 */
public final class TenantPools {
  private static final Logger LOG = LoggerFactory.getLogger(TenantPools.class);

  private final Vertx vertx;
  private final TenantDirectory directory;
  private final int poolSize;
  private final int maxPools;
  private final long idleNanos;
  private final long breakerNanos;
  private final int connectTimeoutMs;
  private final int eventLoops;
  private final Map<UUID, Entry> pools = new LinkedHashMap<>(64, 0.75f, true);
  /** Set by {@link #close}: no pool opens any more. */
  private boolean closing;
  private final Map<UUID, Long> brokenUntil = new ConcurrentHashMap<>();
  private final Map<UUID, Gate> gates = new HashMap<>();
  /**
   * Where pools are built. Vert.x closes a client with the deployment whose context built it, and pools open on the
   * first request of a tenant, on an HTTP verticle's context: undeploying the HTTP verticles at shutdown closed them
   * under the work still running. Built on this context, which belongs to no deployment, they live until
   * {@link #close}.
   */
  private final ContextInternal home;
  private final Counter created;
  private final Counter failures;
  private final long sweeper;

  /** How long a call waits at a closed gate: a database switch freezes writes for the final delta copy only. */
  public static final long GATE_WAIT_MS = 15_000;
  /** How long shutdown waits for work still running on a tenant pool. */
  static final long CLOSE_WAIT_MS = 5_000;

  private static final class Entry {
    final UUID tenant;
    final Promise<Clients> opening = Promise.promise();
    final Future<Clients> clients = opening.future();
    long lastUsed = System.nanoTime();
    int inFlight;
    /** Out of the map: closed as soon as nothing runs on it any more. */
    boolean retired;
    /** Completed once its pool is closed. */
    final Promise<Void> closed = Promise.promise();

    Entry(UUID tenant) {
      this.tenant = tenant;
    }
  }

  /** A closed gate: {@code released} when thawed, {@code drained} when nothing of the tenant is in flight. */
  private static final class Gate {
    final Promise<Void> released = Promise.promise();
    final Promise<Void> drained = Promise.promise();
  }

  public TenantPools(Vertx vertx, TenantDirectory directory, Settings settings, MeterRegistry metrics) {
    this.vertx = vertx;
    this.directory = directory;
    this.poolSize = settings.poolSize();
    this.maxPools = settings.maxPools();
    this.idleNanos = settings.idleSeconds() * 1_000_000_000L;
    this.breakerNanos = settings.breakerOpenSeconds() * 1_000_000_000L;
    this.connectTimeoutMs = settings.connectTimeoutMs();
    this.eventLoops = settings.eventLoops();
    this.home = ((VertxInternal) vertx).createEventLoopContext();
    Gauge.builder("cmb_tenant_pools_open", this, TenantPools::openCount)
        .description("Tenant database pools open on this node").register(metrics);
    Gauge.builder("cmb_tenant_pools_failing", this, TenantPools::failingCount)
        .description("Tenants whose database is currently unreachable").register(metrics);
    this.created = Counter.builder("cmb_tenant_pools_created_total").register(metrics);
    this.failures = Counter.builder("cmb_tenant_pool_failures_total")
        .description("Tenant database connection failures").register(metrics);
    long sweepEvery = Math.max(1000, Math.min(30_000, settings.idleSeconds() * 500L));
    this.sweeper = vertx.setPeriodic(sweepEvery, id -> closeIdle());
  }

  /** Sizing and timing of tenant pools, from configuration. */
  public record Settings(int poolSize, int maxPools, int idleSeconds, int connectTimeoutMs,
      int breakerOpenSeconds, int eventLoops) {}

  /**
   * Runs {@code work} with the tenant's pool. Connection failures become 503 problems and open the tenant's breaker;
   * other failures pass through unchanged.
   */
  public <T> Future<T> withPool(UUID tenant, Function<Pool, Future<T>> work) {
    return using(tenant, clients -> work.apply(clients.pool()));
  }

  /**
   * Runs {@code reads} (short read-only statements, such as a conversation by id or a page of its messages) on the
   * tenant's pipelined client, which serves many at once on one connection; like {@link #withPool} in every other way.
   * A statement that could wait (for a lock) or run long does not belong here: it would hold up the reads behind it.
   */
  public <T> Future<T> withReads(UUID tenant, Function<SqlClient, Future<T>> reads) {
    return using(tenant, clients -> reads.apply(clients.reads()));
  }

  private <T> Future<T> using(UUID tenant, Function<Clients, Future<T>> work) {
    Long until = brokenUntil.get(tenant);
    if (until != null) {
      long left = until - System.nanoTime();
      if (left > 0) {
        return Future.failedFuture(unreachable(left));
      }
      brokenUntil.remove(tenant, until);
    }
    Entry entry;
    Gate gate;
    synchronized (this) {
      if (closing) {
        return Future.failedFuture(ApiException.unavailable("The server is shutting down; try again shortly.", 1));
      }
      gate = gates.get(tenant);
      entry = gate == null ? acquire(tenant) : null;
    }
    if (gate != null) {
      return afterGate(tenant, gate, work);
    }
    return Contexts.onCaller(vertx, entry.clients).compose(work).andThen(done -> {
      release(entry);
      if (done.failed() && !isBusy(done.cause()) && isConnectionFailure(done.cause()) && isCurrent(tenant, entry)) {
        // Only a pool still in use says the database is unreachable: one we evicted failed because we closed it.
        trip(tenant, entry, done.cause());
      } else if (entry.clients.failed()) {
        forget(tenant, entry);
      }
    }).recover(err -> Future.failedFuture(isBusy(err) ? busy() : isConnectionFailure(err) ? unreachable(breakerNanos)
        : err));
  }

  private <T> Future<T> afterGate(UUID tenant, Gate gate, Function<Clients, Future<T>> work) {
    Promise<T> result = Promise.promise();
    long timer = vertx.setTimer(GATE_WAIT_MS, id -> result.tryFail(ApiException.unavailable(
        "Your data is being moved to another database; try again shortly.", 2)));
    Contexts.onCaller(vertx, gate.released.future()).onComplete(open -> {
      if (vertx.cancelTimer(timer)) {
        using(tenant, work).onComplete(result);
      }
    });
    return result.future();
  }

  /**
   * Closes the tenant's gate and completes once its in-flight work has finished; fails (with the gate open again)
   * when that takes longer than {@code drainMs} or the tenant is already frozen.
   */
  public Future<Void> freeze(UUID tenant, long drainMs) {
    Gate gate = new Gate();
    boolean idle;
    synchronized (this) {
      if (gates.containsKey(tenant)) {
        return Future.failedFuture(new IllegalStateException("tenant " + tenant + " is already frozen"));
      }
      gates.put(tenant, gate);
      Entry entry = pools.get(tenant);
      idle = entry == null || entry.inFlight == 0;
    }
    if (idle) {
      gate.drained.tryComplete();
    }
    long timer = vertx.setTimer(drainMs, id -> gate.drained.tryFail(
        new IllegalStateException("work in flight for tenant " + tenant + " did not finish in " + drainMs + " ms")));
    return gate.drained.future()
        .onComplete(done -> vertx.cancelTimer(timer))
        .onFailure(err -> thaw(tenant));
  }

  /** Opens the tenant's gate; calls that waited proceed. Does nothing when it is open. */
  public void thaw(UUID tenant) {
    Gate gate;
    synchronized (this) {
      gate = gates.remove(tenant);
    }
    if (gate != null) {
      gate.released.tryComplete();
    }
  }

  /**
   * Forgets a tenant's pool, e.g. after its database was switched: the next call opens a new one, and the old one
   * closes once the work still running on it has finished.
   */
  public Future<Void> evict(UUID tenant) {
    Entry entry;
    synchronized (this) {
      entry = pools.get(tenant);
    }
    brokenUntil.remove(tenant);
    return entry == null ? Future.succeededFuture() : retire(entry);
  }

  public synchronized int openCount() {
    return pools.size();
  }

  public int failingCount() {
    long now = System.nanoTime();
    return (int) brokenUntil.values().stream().filter(until -> until > now).count();
  }

  /**
   * On shutdown: no pool opens any more, and each open one closes once the work still running on it has finished
   * (a webhook delivery, a job step), at most {@link #CLOSE_WAIT_MS} from now.
   */
  public Future<Void> close() {
    vertx.cancelTimer(sweeper);
    List<Entry> all;
    synchronized (this) {
      closing = true;
      all = new ArrayList<>(pools.values());
      pools.clear();
    }
    return Future.join(all.stream().map(entry -> {
      long timer = vertx.setTimer(CLOSE_WAIT_MS, id -> closeEntry(entry));
      return retire(entry).compose(v -> entry.closed.future()).onComplete(done -> vertx.cancelTimer(timer));
    }).toList()).mapEmpty();
  }

  private synchronized Entry acquire(UUID tenant) {
    Entry entry = pools.get(tenant);
    if (entry == null) {
      entry = new Entry(tenant);
      pools.put(tenant, entry);
      open(tenant, entry).onComplete(entry.opening);
    }
    // Counted in flight before evicting, so the bound never closes the pool this request is about to use.
    entry.inFlight++;
    entry.lastUsed = System.nanoTime();
    evictBeyondBound();
    return entry;
  }

  private void release(Entry entry) {
    Gate gate;
    boolean close;
    synchronized (this) {
      entry.inFlight--;
      entry.lastUsed = System.nanoTime();
      gate = entry.inFlight == 0 ? gates.get(entry.tenant) : null;
      close = entry.inFlight == 0 && entry.retired;
    }
    if (gate != null) {
      gate.drained.tryComplete();
    }
    if (close) {
      closeEntry(entry);
    }
  }

  /** Takes the entry out of use; it closes now when idle, otherwise when its last call is released. */
  private Future<Void> retire(Entry entry) {
    boolean idle;
    synchronized (this) {
      pools.remove(entry.tenant, entry);
      entry.retired = true;
      idle = entry.inFlight == 0;
    }
    return idle ? closeEntry(entry) : Future.succeededFuture();
  }

  private synchronized boolean isCurrent(UUID tenant, Entry entry) {
    return pools.get(tenant) == entry;
  }

  /**
   * A tenant database's clients: its pool and, beside it, a pipelined client for short reads ({@link #withReads}): a
   * pool's connection carries one statement at a time, while on a pipelined one the reads of many requests share it.
   * With fewer than two connections there is none to spare, and the pool serves the reads too.
   */
  private record Clients(Pool pool, SqlClient reads) {
    Future<Void> close() {
      return reads == pool ? pool.close() : Future.join(reads.close(), pool.close()).mapEmpty();
    }
  }

  /**
   * Opens the tenant's clients: {@code poolSize} connections in all, a quarter of them (rounded, at least one from two
   * on) pipelined: one pipelined connection serves many reads at once, while a transaction holds a connection for
   * several round trips.
   */
  private Future<Clients> open(UUID tenant, Entry entry) {
    created.increment();
    return directory.activeDatabase(tenant).compose(db -> {
      Promise<Clients> built = home.promise();
      home.runOnContext(v -> built.complete(build(db.target().connectOptions())));
      // The first query proves the database is reachable before anyone relies on the pool.
      return built.future().compose(clients -> clients.pool().query("SELECT 1").execute()
          .map(rows -> clients)
          .onFailure(err -> clients.close()));
    });
  }

  private Clients build(PgConnectOptions target) {
    int pipelined = (poolSize + 2) / 4;
    Pool pool = PgBuilder.pool().with(poolOptions(poolSize - pipelined))
        .with(new NetClientOptions().setConnectTimeout(connectTimeoutMs)).connectingTo(target).using(vertx).build();
    return new Clients(pool, pipelined == 0 ? pool : PgBuilder.client().with(poolOptions(pipelined))
        .with(new NetClientOptions().setConnectTimeout(connectTimeoutMs)).connectingTo(target).using(vertx).build());
  }

  private PoolOptions poolOptions(int size) {
    return new PoolOptions().setMaxSize(size).setMaxWaitQueueSize(256).setEventLoopSize(Math.min(size, eventLoops))
        .setConnectionTimeout(connectTimeoutMs).setConnectionTimeoutUnit(java.util.concurrent.TimeUnit.MILLISECONDS);
  }

  /** Removes least recently used pools with nothing in flight until the bound holds. Caller holds the lock. */
  private void evictBeyondBound() {
    Iterator<Map.Entry<UUID, Entry>> it = pools.entrySet().iterator();
    while (pools.size() > maxPools && it.hasNext()) {
      Entry candidate = it.next().getValue();
      if (candidate.inFlight == 0) {
        it.remove();
        closeEntry(candidate);
      }
    }
  }

  private void closeIdle() {
    List<Entry> idle = new ArrayList<>();
    long now = System.nanoTime();
    synchronized (this) {
      pools.values().removeIf(entry -> {
        boolean unused = entry.inFlight == 0 && now - entry.lastUsed > idleNanos;
        if (unused) {
          idle.add(entry);
        }
        return unused;
      });
    }
    idle.forEach(this::closeEntry);
  }

  private synchronized void forget(UUID tenant, Entry entry) {
    pools.remove(tenant, entry);
  }

  private void trip(UUID tenant, Entry entry, Throwable cause) {
    failures.increment();
    brokenUntil.put(tenant, System.nanoTime() + breakerNanos);
    forget(tenant, entry);
    closeEntry(entry);
    LOG.warn("tenant {} database unreachable, answering 503 for {}s: {}", tenant, breakerNanos / 1_000_000_000L,
        cause.getMessage());
  }

  private Future<Void> closeEntry(Entry entry) {
    return entry.clients.transform(ar -> ar.succeeded() ? ar.result().close() : Future.succeededFuture())
        .onComplete(done -> entry.closed.tryComplete());
  }

  private static ApiException unreachable(long nanosLeft) {
    int seconds = (int) Math.max(1, (nanosLeft + 999_999_999L) / 1_000_000_000L);
    return ApiException.unavailable("Your database cannot be reached right now; try again shortly.", seconds);
  }

  /** The tenant's pool had no free connection in time: overload, not an unreachable database. */
  static boolean isBusy(Throwable err) {
    for (Throwable t = err; t != null && t.getCause() != t; t = t.getCause()) {
      String message = String.valueOf(t.getMessage());
      if (message.contains("Timeout waiting for connection") || message.contains("waiter queue")) {
        return true;
      }
    }
    return false;
  }

  private static ApiException busy() {
    return ApiException.unavailable("Your database is busy right now; try again in a moment.", 1);
  }

  /** Failures that say the database is unreachable, as opposed to a problem with one query. */
  static boolean isConnectionFailure(Throwable err) {
    for (Throwable t = err; t != null; t = t.getCause()) {
      if (t instanceof java.net.ConnectException || t instanceof java.net.UnknownHostException
          || t instanceof java.net.NoRouteToHostException || t instanceof io.netty.channel.ConnectTimeoutException
          || t instanceof java.util.concurrent.TimeoutException) {
        return true;
      }
      if (t instanceof io.vertx.pgclient.PgException pg && pg.getSqlState() != null) {
        String state = pg.getSqlState();
        return state.startsWith("08") || state.startsWith("28") || state.equals("3D000") || state.startsWith("57P");
      }
      String name = t.getClass().getSimpleName();
      if (name.equals("ClosedConnectionException") || name.equals("NoStackTraceTimeoutException")) {
        return true;
      }
      if (t.getCause() == t) {
        break;
      }
    }
    return false;
  }
}
