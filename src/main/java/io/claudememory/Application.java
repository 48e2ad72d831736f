package io.claudememory;

import io.claudememory.audit.AuditRoutes;
import io.claudememory.audit.AuditTrail;
import io.claudememory.audit.DataChanges;
import io.claudememory.audit.SecurityAudit;
import io.claudememory.auth.AccessTokens;
import io.claudememory.auth.AccountService;
import io.claudememory.auth.ApiKeyRoutes;
import io.claudememory.auth.ApiKeys;
import io.claudememory.auth.AuthRoutes;
import io.claudememory.auth.Authenticator;
import io.claudememory.auth.PasswordHasher;
import io.claudememory.auth.UserInvalidations;
import io.claudememory.auth.UserStates;
import io.claudememory.claude.AnthropicProvider;
import io.claudememory.claude.ClaudeRoutes;
import io.claudememory.claude.ClaudeVerticle;
import io.claudememory.claude.ClusterCancels;
import io.claudememory.claude.Generations;
import io.claudememory.claude.N8nProvider;
import io.claudememory.claude.Provider;
import io.claudememory.claude.RetryPolicy;
import io.claudememory.claude.UsageRoutes;
import io.claudememory.config.AppConfig;
import io.claudememory.docs.ApiDocsRoutes;
import io.claudememory.ops.AdminBootstrap;
import io.claudememory.ops.AdminRoutes;
import io.claudememory.ops.AdminUsers;
import io.claudememory.conversations.ConversationRoutes;
import io.claudememory.conversations.ConversationService;
import io.claudememory.conversations.MessageRoutes;
import io.claudememory.conversations.MessageService;
import io.claudememory.conversations.SearchService;
import io.claudememory.database.DatabaseCopy;
import io.claudememory.database.DatabaseRoutes;
import io.claudememory.database.TenantDatabases;
import io.claudememory.jobs.JobHandler;
import io.claudememory.jobs.JobRoutes;
import io.claudememory.jobs.Jobs;
import io.claudememory.jobs.JobsVerticle;
import io.claudememory.ops.EventLoopDelay;
import io.claudememory.ops.HealthRoutes;
import io.claudememory.ops.Readiness;
import io.claudememory.platform.crypto.SecretBox;
import io.claudememory.portability.ExportFiles;
import io.claudememory.portability.ExportJob;
import io.claudememory.portability.ExportRoutes;
import io.claudememory.portability.ImportJob;
import io.claudememory.portability.JobThreads;
import io.claudememory.portability.Portability;
import io.claudememory.portability.SafeZip;
import io.claudememory.platform.db.ClusterFreeze;
import io.claudememory.platform.db.DbTarget;
import io.claudememory.platform.db.EmbeddedPostgres;
import io.claudememory.platform.db.MasterDb;
import io.claudememory.platform.db.Migrations;
import io.claudememory.platform.db.TenantDirectory;
import io.claudememory.platform.db.TenantPools;
import io.claudememory.platform.http.ApiRouter;
import io.claudememory.platform.http.HttpVerticle;
import io.claudememory.platform.http.Idempotency;
import io.claudememory.projects.Access;
import io.claudememory.projects.Members;
import io.claudememory.projects.ProjectRoutes;
import io.claudememory.projects.ProjectService;
import io.claudememory.platform.net.AddressGuard;
import io.claudememory.platform.ratelimit.BucketStore;
import io.claudememory.platform.ratelimit.LocalBucketStore;
import io.claudememory.platform.ratelimit.RateLimiter;
import io.claudememory.platform.ratelimit.RedisBucketStore;
import io.claudememory.realtime.MessageHistory;
import io.claudememory.realtime.ProjectRoomAccess;
import io.claudememory.realtime.ReadPositions;
import io.claudememory.realtime.Realtime;
import io.claudememory.realtime.RoomEvents;
import io.claudememory.realtime.ServiceMessageWriter;
import io.claudememory.tenancy.TenantProvisioner;
import io.claudememory.webhooks.WebhookRoutes;
import io.claudememory.webhooks.WebhookVerticle;
import io.claudememory.webhooks.Webhooks;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.vertx.core.DeploymentOptions;
import io.vertx.core.Future;
import io.vertx.core.ThreadingModel;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.VertxOptions;
import io.vertx.ext.web.Router;
import io.vertx.redis.client.Redis;
import io.vertx.redis.client.RedisAPI;
import io.vertx.redis.client.RedisOptions;
import java.nio.file.Files;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One running node, told as its start-up story: embedded database (when no DATABASE_URL) → master migrations (on a
 * worker) → shared resources → jobs worker verticle → HTTP verticles → ready. Every resource pushes its closer as it opens, and
 * {@link #stop()} closes them in reverse order; a failed start closes what it had opened.
 */
public final class Application {
  private static final Logger LOG = LoggerFactory.getLogger(Application.class);
  private final Vertx vertx;
  private final PrometheusMeterRegistry metrics;
  private final AppConfig config;
  private final Readiness readiness = new Readiness();
  private final Deque<Supplier<Future<?>>> closers = new ArrayDeque<>();
  private final int eventLoops;
  private MasterDb master;
  private TenantPools tenantPools;
  private ClusterFreeze freezes;
  private ApiRouter routes;
  private RateLimiter rateLimiter;
  private Realtime realtime;
  private Generations generations;
  private boolean stopped;

  private Application(Vertx vertx, PrometheusMeterRegistry metrics, AppConfig config) {
    this.vertx = vertx;
    this.metrics = metrics;
    this.config = config;
    this.eventLoops = VertxOptions.DEFAULT_EVENT_LOOP_POOL_SIZE;
  }

  /** Starts a node on {@code vertx}; on failure everything opened so far is closed again. */
  public static Future<Application> start(Vertx vertx, PrometheusMeterRegistry metrics, AppConfig config) {
    Application app = new Application(vertx, metrics, config);
    return app.masterDatabase()
        .compose(app::migrateMaster)
        .compose(app::startServices)
        .compose(app::deployHttp)
        .map(done -> {
          app.readiness.ready();
          LOG.info("node {} ready on port {}, {} transport ({})", config.nodeId(), config.http().port(),
              vertx.isNativeTransportEnabled() ? "native" : "NIO", config);
          if (!vertx.isNativeTransportEnabled()) {
            LOG.debug("native transport unavailable", vertx.unavailableNativeTransportCause());
          }
          return app;
        })
        .recover(err -> app.closeAll().transform(ignored -> Future.failedFuture(err)));
  }

  private Future<DbTarget> masterDatabase() {
    if (!config.database().embedded()) {
      return Future.succeededFuture(DbTarget.fromUri(config.database().url()));
    }
    return vertx.executeBlocking(() -> {
      EmbeddedPostgres pg = EmbeddedPostgres.start(new EmbeddedPostgres.Settings(
          config.dataDir().resolve("pg"), config.dataDir().resolve("pg-bin"), config.database().embeddedPort()));
      closers.push(() -> vertx.executeBlocking(() -> {
        pg.close();
        return null;
      }, false));
      return new DbTarget("127.0.0.1", pg.port(), pg.database(), pg.user(), pg.password(),
          io.vertx.pgclient.SslMode.DISABLE);
    }, false);
  }

  private Future<DbTarget> migrateMaster(DbTarget target) {
    return vertx.executeBlocking(() -> {
      Migrations.migrateMaster(target);
      Files.createDirectories(config.storagePath().resolve("uploads"));
      return target;
    }, false);
  }

  private Future<List<Consumer<Router>>> startServices(DbTarget masterTarget) {
    master = new MasterDb(vertx, masterTarget, config.database().masterPoolSize(), eventLoops);
    closers.push(master::close);
    SecretBox secrets = new SecretBox(config.masterKey());
    AppConfig.Database db = config.database();
    AddressGuard guard = new AddressGuard(vertx, db.allowPrivateHosts());
    TenantDirectory directory = new TenantDirectory(vertx, master, secrets, TenantDatabases.pinnedBy(guard),
        config.search().language());
    tenantPools = new TenantPools(vertx, directory,
        new TenantPools.Settings(db.tenantPoolSize(), db.maxTenantPools(), db.tenantIdleSeconds(),
            db.connectTimeoutMs(), db.breakerOpenSeconds(), eventLoops), metrics);
    closers.push(tenantPools::close);
    EventLoopDelay loops = new EventLoopDelay(vertx, eventLoops, metrics);
    closers.push(() -> {
      loops.close();
      return Future.succeededFuture();
    });
    RedisAPI redis = null;
    if (config.redisEnabled()) {
      Redis client = Redis.createClient(vertx, new RedisOptions().setConnectionString(config.redisUrl())
          .setMaxPoolSize(16).setMaxPoolWaiting(512));
      closers.push(() -> {
        client.close();
        return Future.succeededFuture();
      });
      redis = RedisAPI.api(client);
    }

    freezes = new ClusterFreeze(vertx, tenantPools, config.nodeId(), redis, config.redisUrl(),
        config.realtime().redisChannelPrefix(), db.switchFreezeLeaseSeconds() * 1000L, metrics);
    freezes.start();
    closers.push(freezes::close);

    AppConfig.RateLimit limits = config.rateLimit();
    BucketStore buckets = redis != null ? new RedisBucketStore(redis, limits.keyPrefix(), limits.redisTimeoutMs())
        : new LocalBucketStore(vertx, limits.maxLocalBuckets());
    rateLimiter = new RateLimiter(limits, buckets, metrics);
    closers.push(() -> {
      rateLimiter.close();
      return Future.succeededFuture();
    });

    PasswordHasher hasher = new PasswordHasher(vertx, config.auth().bcryptCost());
    closers.push(hasher::close);
    SecurityAudit audit = new SecurityAudit();
    AccessTokens accessTokens = new AccessTokens(vertx, config.auth());
    UserStates states = new UserStates(master.pool(), config.auth().stateCacheSeconds());
    ApiKeys apiKeys = new ApiKeys(master.pool(), audit, config.auth().stateCacheSeconds());
    UserInvalidations invalidations = new UserInvalidations(vertx, states, apiKeys, config.nodeId(),
        config.redisUrl(), redis, metrics);
    invalidations.start();
    closers.push(invalidations::close);
    Authenticator authenticator = new Authenticator(accessTokens, apiKeys, states, rateLimiter::admit);
    TenantProvisioner provisioner = new TenantProvisioner(vertx, master, secrets, db.tenantPrefix(), directory);
    AccountService accounts = new AccountService(master.pool(), hasher, accessTokens, states, invalidations,
        provisioner, audit, config.auth().refreshTokenDays());

    RoomEvents events = new RoomEvents(vertx.eventBus(), config.nodeId());
    Jobs jobs = new Jobs(vertx, master.pool(), events::publishNotification);
    TenantDatabases databases = new TenantDatabases(vertx, master.pool(), secrets, directory, guard, jobs, audit,
        db.connectTimeoutMs());
    AppConfig.Portability portable = config.portability();
    JobThreads jobThreads = new JobThreads(2);
    ExportFiles exportFiles = new ExportFiles(vertx, master.pool(), portable.downloadHours());
    long expirySweep = vertx.setPeriodic(portable.expirySweepSeconds() * 1000L, id -> exportFiles.deleteExpired()
        .onFailure(err -> LOG.warn("could not delete expired exports: {}", err.getMessage())));
    closers.push(() -> {
      vertx.cancelTimer(expirySweep);
      return Future.succeededFuture();
    });
    Portability portability = new Portability(vertx, master.pool(), jobs, tenantPools, secrets, exportFiles, audit,
        config.storagePath(), portable.maxActiveJobs());
    List<JobHandler> jobHandlers = List.of(
        new DatabaseCopy(vertx, master.pool(), directory, freezes, audit, db.connectTimeoutMs()),
        new ExportJob(tenantPools, jobThreads, exportFiles, secrets, config.storagePath(), portable.kdfIterations()),
        new ImportJob(tenantPools, jobThreads, secrets, new SafeZip.Limits(portable.maxUncompressedBytes(),
            portable.maxZipEntries(), portable.maxZipRatio(), portable.maxFieldChars())));
    // closed after the jobs verticle stopped claiming: a job cut short now is re-queued, not failed
    closers.push(() -> {
      jobThreads.close();
      return Future.succeededFuture();
    });

    AppConfig.Webhooks hooks = config.webhooks();
    AddressGuard webhookGuard = new AddressGuard(vertx, hooks.allowPrivateTargets());
    Webhooks webhooks = new Webhooks(vertx, master.pool(), tenantPools, secrets, webhookGuard, audit);
    WebhookVerticle.Settings webhookSettings = new WebhookVerticle.Settings(config.nodeId(), hooks.timeoutMs(),
        hooks.retrySeconds(), hooks.jitterPercent(), hooks.disableAfterFailures(), hooks.sweepMs(), hooks.batchSize());

    generations = new Generations(vertx, tenantPools, config.claude(), claudeProvider(), redis, events);
    closers.push(() -> {
      generations.close();
      return Future.succeededFuture();
    });

    HealthRoutes health = new HealthRoutes(vertx, readiness,
        new HealthRoutes.Probes(master, tenantPools, config.storagePath(), loops, redis), config.nodeId(), metrics);
    Idempotency idempotency = new Idempotency(master.pool());
    long sweep = idempotency.sweepEvery(vertx, 3_600_000);
    closers.push(() -> {
      vertx.cancelTimer(sweep);
      return Future.succeededFuture();
    });
    Access access = new Access(master.pool(), tenantPools);
    DataChanges changes = new DataChanges(vertx);
    ProjectService projects = new ProjectService(tenantPools, master.pool(), access, changes);
    AdminUsers adminUsers = new AdminUsers(master.pool(), audit, invalidations);
    MessageService messages = new MessageService(tenantPools, access, changes, events);
    realtime = new Realtime(vertx, config, authenticator, events, new MessageHistory(tenantPools),
        new ReadPositions(tenantPools), new Realtime.Seams(new ProjectRoomAccess(access),
            new ServiceMessageWriter(messages), generations.streamSnapshots()), redis, metrics);
    Future<?> fanout = Future.succeededFuture();
    if (config.redisEnabled()) {
      health.register("redis-subscriber", realtime::subscriberUp,
          () -> new io.vertx.core.json.JsonObject().put("connected", realtime.subscriberUp()));
      ClusterCancels cancels = new ClusterCancels(vertx, config.nodeId(), redis, config.redisUrl(),
          config.realtime().redisChannelPrefix(), metrics);
      closers.push(cancels::close);
      fanout = cancels.start().compose(v -> realtime.deployFanout(config.redisUrl()))
          .onSuccess(id -> closers.push(() -> vertx.undeploy(id)));
    }
    return fanout.compose(deployed -> deployJobs(jobs, jobHandlers))
        .compose(deployed -> vertx.deployVerticle(() -> new WebhookVerticle(master.pool(), tenantPools, secrets,
            webhookGuard, audit, webhookSettings, events::publishNotification), new DeploymentOptions()))
        .onSuccess(id -> closers.push(() -> vertx.undeploy(id)))
        .compose(deployed -> deployClaude())
        .compose(deployed -> AdminBootstrap.promote(master.pool(), audit, config.auth().adminEmail()))
        .map(promoted -> List.of(
        health::mount,
        new AuthRoutes(accounts, authenticator)::mount,
        new ApiKeyRoutes(apiKeys, authenticator, invalidations)::mount,
        new AdminRoutes(authenticator, master.pool(), tenantPools, adminUsers)::mount,
        new ProjectRoutes(projects, new Members(master.pool(), access), authenticator, idempotency)::mount,
        new ConversationRoutes(new ConversationService(tenantPools, access, changes),
            new SearchService(tenantPools, config.search().candidates()), authenticator, idempotency)::mount,
        new MessageRoutes(messages, authenticator, idempotency, generations)::mount,
        new JobRoutes(jobs, authenticator)::mount,
        new DatabaseRoutes(databases, authenticator)::mount,
        new ExportRoutes(portability, authenticator, config.storagePath().resolve("uploads").toString(),
            portable.maxUploadBytes())::mount,
        new WebhookRoutes(webhooks, authenticator)::mount,
        new AuditRoutes(new AuditTrail(master.pool(), tenantPools), authenticator)::mount,
        new ClaudeRoutes(authenticator, generations, access)::mount,
        new UsageRoutes(authenticator, tenantPools)::mount));
  }

  /** One instance per event loop: claude.generate is point-to-point, so answers spread over the loops. */
  private Future<String> deployClaude() {
    java.util.concurrent.atomic.AtomicBoolean first = new java.util.concurrent.atomic.AtomicBoolean(true);
    return vertx.deployVerticle(() -> new ClaudeVerticle(generations, first.getAndSet(false)),
            new DeploymentOptions().setInstances(eventLoops))
        .onSuccess(id -> closers.push(() -> vertx.undeploy(id)));
  }

  /** The jobs runner is a worker verticle: its handlers may block (Flyway, files). */
  private Future<String> deployJobs(Jobs jobs, List<JobHandler> handlers) {
    JobsVerticle.Settings settings = new JobsVerticle.Settings(config.nodeId(), 2, 2000, 5000, 30, 5);
    return vertx.deployVerticle(() -> new JobsVerticle(jobs, handlers, settings),
        new DeploymentOptions().setThreadingModel(ThreadingModel.WORKER))
        .onSuccess(id -> closers.push(() -> vertx.undeploy(id)));
  }

  /** The configured Claude provider, or null for {@code none}; its HTTP client is closed on shutdown. */
  private Provider claudeProvider() {
    AppConfig.Claude claude = config.claude();
    RetryPolicy retries = new RetryPolicy(claude.maxRetries(), claude.retryBaseMs(), claude.retryMaxMs(),
        claude.maxRetryAfterSeconds() * 1000L);
    switch (claude.effectiveProvider()) {
      case "anthropic" -> {
        AnthropicProvider provider = new AnthropicProvider(vertx, claude, retries);
        closers.push(provider::close);
        return provider;
      }
      case "n8n" -> {
        N8nProvider provider = new N8nProvider(vertx, claude, retries);
        closers.push(provider::close);
        return provider;
      }
      default -> {
        return null;
      }
    }
  }

  private Future<String> deployHttp(List<Consumer<Router>> routeGroups) {
    AppConfig.Http http = config.http();
    ApiRouter router = new ApiRouter(routeGroups, List.of(new ApiDocsRoutes()::mount), http.bodyLimitBytes(),
        http.allowedOrigins(), config.production(), rateLimiter.byAddress(), Set.of(ExportRoutes.IMPORT_PATH),
        List.of(realtime::mount));
    routes = router;
    // The transport's hard cap on inbound WebSocket frames is 4x the protocol limit, which answers an error frame.
    int wsCap = config.realtime().maxFrameBytes() * 4;
    HttpServerOptions options = new HttpServerOptions().setHost(http.host()).setPort(http.port())
        .setCompressionSupported(true).setIdleTimeout(120)
        .setWebSocketSubProtocols(List.of("bearer")).setMaxWebSocketFrameSize(wsCap).setMaxWebSocketMessageSize(wsCap);
    int instances = http.instances() > 0 ? http.instances() : eventLoops;
    return vertx.deployVerticle(() -> new HttpVerticle(router::build, router.invalidRequests(), router.inFlight(),
            options, http.shutdownGraceSeconds()), new DeploymentOptions().setInstances(instances))
        .onSuccess(id -> {
          closers.push(() -> vertx.undeploy(id).onSuccess(v -> {
            if (router.inFlight().count() > 0) {
              LOG.warn("node {}: {} requests were still running when the grace period ended", config.nodeId(),
                  router.inFlight().count());
            }
          }));
          closers.push(realtime::closeSockets);
        });
  }

  /**
   * Drains and stops: readiness goes down and, for the drain delay, requests are still served; then HTTP servers stop
   * accepting and let in-flight requests finish (bounded by the grace period), and everything closes in reverse order
   * of opening. Idempotent.
   */
  public synchronized Future<Void> stop() {
    if (stopped) {
      return Future.succeededFuture();
    }
    stopped = true;
    readiness.draining();
    LOG.info("node {} draining", config.nodeId());
    int delay = config.http().drainDelaySeconds();
    Future<?> noticed = delay == 0 ? Future.succeededFuture() : vertx.timer(delay, TimeUnit.SECONDS);
    return noticed.compose(v -> closeAll()).onComplete(done -> LOG.info("node {} stopped", config.nodeId()));
  }

  private Future<Void> closeAll() {
    Future<Void> chain = Future.succeededFuture();
    while (!closers.isEmpty()) {
      Supplier<Future<?>> closer = closers.pop();
      chain = chain.transform(ignored -> closer.get()
          .onFailure(err -> LOG.warn("error while closing: {}", err.getMessage())).mapEmpty());
    }
    return chain.transform(ignored -> Future.<Void>succeededFuture());
  }

  public Vertx vertx() {
    return vertx;
  }

  public AppConfig config() {
    return config;
  }

  public Readiness readiness() {
    return readiness;
  }

  public MasterDb master() {
    return master;
  }

  public TenantPools tenantPools() {
    return tenantPools;
  }

  /** Tenants' write freezes on every node of the cluster (database switches). */
  public ClusterFreeze freezes() {
    return freezes;
  }

  /** The routes every HTTP verticle serves; tests build a router from it to compare with the API contract. */
  public ApiRouter routes() {
    return routes;
  }

  public Realtime realtime() {
    return realtime;
  }

  /** Claude's generation seam: start, cancel, snapshots (wired to the REST and WebSocket layers). */
  public Generations generations() {
    return generations;
  }
}
