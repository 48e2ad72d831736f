package io.claudememory.claude;

import io.claudememory.audit.DataChanges;
import io.claudememory.realtime.RoomEvents;
import io.claudememory.config.AppConfig;
import io.claudememory.platform.db.TenantPools;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.redis.client.RedisAPI;
import io.vertx.sqlclient.Tuple;
import java.time.Duration;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The generation lifecycle of this node: starts answers (after the caps, the budget and the user message are
 * checked), keeps the running ones, cancels them, and serves their text so far. Shared by every verticle;
 * thread-safe (the counters are guarded by this object's lock, the registries are concurrent maps).
 *
 * <p>Limits: at most {@code maxPerNode} generations on the node and {@code maxPerUser} per user; with a
 * {@code dailyTokenBudget}, a user whose assistant messages of the UTC day used that many tokens is refused until
 * midnight. Refusals are {@link GenerationRefused} (429, or 503 without a provider).
 */
public final class Generations {
  private static final long FINISHED_KEPT_MS = 60_000;
  final Vertx vertx;
  /** Room events go through here: sockets on every node get them (the Redis fan-out relays them). */
  final RoomEvents events;
  final TenantPools pools;
  final ContextAssembler assembler;
  final Provider provider;
  final RedisSnapshots redis;
  final TokenEstimator tokens;
  /** Writes to conversations go through here: audit row and webhook event on the change's transaction. */
  final DataChanges changes;
  final Answers answers;
  private final AppConfig.Claude config;
  private final Afterwards afterwards;
  private final NodeLossSweeper sweeper;
  private final Map<UUID, Generation> byMessage = new ConcurrentHashMap<>();
  private final Map<UUID, Set<Generation>> byConversation = new ConcurrentHashMap<>();
  private final Map<UUID, JsonObject> recentlyFinished = new ConcurrentHashMap<>();
  private final Map<UUID, Set<Admission>> admitting = new ConcurrentHashMap<>();
  private final Map<UUID, Integer> perUser = new HashMap<>();
  private int active;

  /** {@code provider} null means none is configured; {@code redis} null keeps snapshots in memory only. */
  public Generations(Vertx vertx, TenantPools pools, AppConfig.Claude config, Provider provider, RedisAPI redis,
      RoomEvents events) {
    this.vertx = vertx;
    this.events = events;
    this.pools = pools;
    this.config = config;
    this.provider = provider;
    this.tokens = new TokenEstimator();
    this.assembler = new ContextAssembler(config, tokens);
    this.redis = redis == null ? null : new RedisSnapshots(redis, config.snapshotTtlSeconds());
    this.changes = new DataChanges(vertx);
    this.answers = new Answers(pools, events, changes);
    this.afterwards = new Afterwards(this, config);
    this.sweeper = this.redis == null ? null : new NodeLossSweeper(vertx, this.redis, answers,
        config.nodeLossSeconds(), () -> byMessage.values().stream().map(g -> g.ref).toList());
  }

  /** Stops the heartbeat and the sweeper (answers still running are left to the other nodes' sweepers). */
  public void close() {
    if (sweeper != null) {
      sweeper.close();
    }
  }

  /** What a started generation is known by: its id, and the id its assistant message will have. */
  public record Started(UUID generationId, UUID assistantMessageId) {
    public JsonObject toJson() {
      return new JsonObject().put("id", generationId.toString())
          .put("assistantMessageId", assistantMessageId.toString());
    }
  }

  /**
   * Starts an answer to {@code userMessageId} (a user message of the conversation): a first answer, a regenerated
   * sibling, or the answer on an edited branch — the same thing here. Succeeds once the checks pass; the answer then
   * streams to {@code room.<tenant>.<conversation>}. Fails with {@link GenerationRefused}.
   * {@code options}: {@code model?}, {@code maxTokens?}.
   */
  public Future<Started> start(UUID tenant, UUID conversationId, UUID userMessageId, JsonObject options) {
    if (provider == null) {
      return Future.failedFuture(GenerationRefused.noProvider());
    }
    // Admitted before the slot is taken: whoever sees the slot taken can cancel the answer.
    Admission admission = admit(tenant, conversationId);
    GenerationRefused refusal = reserve(tenant);
    if (refusal != null) {
      settle(conversationId, admission);
      return Future.failedFuture(refusal);
    }
    JsonObject opts = options == null ? new JsonObject() : options;
    io.vertx.core.Context context = vertx.getOrCreateContext();
    return pools.withPool(tenant, pool -> budgetCheck(pool, tenant)
        .compose(v -> pool.preparedQuery(ClaudeSql.MESSAGE_ROLE).execute(Tuple.of(userMessageId, conversationId)))
        .compose(rows -> {
          if (rows.size() == 0) {
            return Future.failedFuture(new GenerationRefused(404, "message_not_found",
                "The message was not found in this conversation.", null));
          }
          if (!"user".equals(rows.iterator().next().getString("role"))) {
            return Future.failedFuture(new GenerationRefused(409, "not_a_user_message",
                "Only a user message can be answered; to regenerate, give the user message it answers.", null));
          }
          return Future.succeededFuture();
        }))
        .map(v -> {
          Generation generation = new Generation(this, context, tenant, conversationId, userMessageId, opts);
          byMessage.put(generation.assistantMessageId, generation);
          // Added inside compute, so a concurrent removal of the last entry cannot drop it (see finished).
          byConversation.compute(conversationId, (k, set) -> {
            Set<Generation> running = set == null ? ConcurrentHashMap.newKeySet() : set;
            running.add(generation);
            return running;
          });
          // Settled only once the generation is listed, so a concurrent cancel reaches one or the other (see cancel).
          if (settle(conversationId, admission)) {
            generation.cancel();
          }
          context.runOnContext(x -> generation.run());
          return new Started(generation.id, generation.assistantMessageId);
        })
        .onFailure(err -> {
          settle(conversationId, admission);
          release(tenant);
        });
  }

  /**
   * An answer between admission (the call to {@link #start}) and its listing (checks passed, generation created): a
   * cancel arriving meanwhile is kept here, and the generation starts cancelled.
   */
  private static final class Admission {
    final UUID tenant;
    private boolean cancelled;
    private boolean settled;

    Admission(UUID tenant) {
      this.tenant = tenant;
    }

    /** False once settled: the generation is listed by then, and the caller reaches it there. */
    synchronized boolean cancel() {
      if (!settled) {
        cancelled = true;
      }
      return !settled;
    }

    /** Whether a cancel came first. */
    synchronized boolean settle() {
      settled = true;
      return cancelled;
    }
  }

  private Admission admit(UUID tenant, UUID conversationId) {
    Admission admission = new Admission(tenant);
    admitting.compute(conversationId, (k, set) -> {
      Set<Admission> pending = set == null ? ConcurrentHashMap.newKeySet() : set;
      pending.add(admission);
      return pending;
    });
    return admission;
  }

  private boolean settle(UUID conversationId, Admission admission) {
    admitting.computeIfPresent(conversationId, (k, set) -> {
      set.remove(admission);
      return set.isEmpty() ? null : set;
    });
    return admission.settle();
  }

  private synchronized GenerationRefused reserve(UUID tenant) {
    if (active >= config.maxPerNode()) {
      return new GenerationRefused(429, "node_busy", "This server is answering as many messages as it can ("
          + config.maxPerNode() + "); try again shortly.", 5);
    }
    int mine = perUser.getOrDefault(tenant, 0);
    if (mine >= config.maxPerUser()) {
      return new GenerationRefused(429, "too_many_generations", "You already have " + mine + " answers in "
          + "progress, the most allowed at once; wait for one to finish or cancel it.", 5);
    }
    active++;
    perUser.put(tenant, mine + 1);
    return null;
  }

  private synchronized void release(UUID tenant) {
    active--;
    perUser.computeIfPresent(tenant, (k, n) -> n <= 1 ? null : n - 1);
  }

  private Future<Void> budgetCheck(io.vertx.sqlclient.Pool pool, UUID tenant) {
    long budget = config.dailyTokenBudget();
    if (budget <= 0) {
      return Future.succeededFuture();
    }
    return pool.query(ClaudeSql.TOKENS_TODAY).execute().compose(rows -> {
      long used = rows.iterator().next().getLong("total");
      if (used < budget) {
        return Future.succeededFuture();
      }
      ZonedDateTime now = ZonedDateTime.now(ZoneOffset.UTC);
      int untilMidnight = (int) Duration.between(now, now.toLocalDate().plusDays(1).atStartOfDay(ZoneOffset.UTC))
          .toSeconds() + 1;
      return Future.failedFuture(new GenerationRefused(429, "daily_budget_spent", "Today's token budget ("
          + budget + " tokens) is spent: " + used + " used. It renews at 00:00 UTC.", untilMidnight));
    });
  }

  /**
   * Called once by a generation when it is over, persisted ({@code message}) or not. Its slot is released now, or by
   * {@link #assemblyDropped} when it ended (cancelled) while its request was still being assembled.
   */
  void finished(Generation generation, JsonObject message) {
    byMessage.remove(generation.assistantMessageId);
    byConversation.computeIfPresent(generation.conversationId, (k, set) -> {
      set.remove(generation);
      return set.isEmpty() ? null : set;
    });
    if (redis != null) {
      redis.clear(generation.ref);
    }
    recentlyFinished.put(generation.assistantMessageId, message == null ? new JsonObject() : message);
    vertx.setTimer(FINISHED_KEPT_MS, t -> recentlyFinished.remove(generation.assistantMessageId));
    if (!generation.assembling()) {
      release(generation.tenant);
    }
  }

  /** A generation that ended while its request was being assembled frees its slot once that work is done. */
  void assemblyDropped(Generation generation) {
    release(generation.tenant);
  }

  void afterAnswer(Generation generation, ContextAssembler.Assembled assembled, JsonObject message,
      JsonObject usage) {
    afterwards.run(generation, assembled, message, usage);
  }

  /**
   * Cancels this node's generations in the conversation ({@code tenant} null: whoever owns it), including those still
   * starting: one admitted but not yet listed starts cancelled, and one whose request was not sent yet never sends it.
   * Returns how many were reached (one caught exactly as it gets listed may count twice).
   *
   * <p>Admissions are looked at before running generations: a start lists its generation before it settles its
   * admission, so a cancel that finds the admission settled finds the generation listed.
   */
  public int cancel(UUID tenant, UUID conversationId) {
    int count = 0;
    Set<Admission> starting = admitting.get(conversationId);
    if (starting != null) {
      for (Admission admission : starting) {
        if ((tenant == null || tenant.equals(admission.tenant)) && admission.cancel()) {
          count++;
        }
      }
    }
    Set<Generation> running = byConversation.get(conversationId);
    if (running != null) {
      for (Generation generation : running) {
        if (tenant == null || tenant.equals(generation.tenant)) {
          generation.cancel();
          count++;
        }
      }
    }
    return count;
  }

  /**
   * The realtime hook: a late joiner first gets each running answer's text so far as one {@code assistant.delta}
   * frame carrying the index of the last delta it includes ({@code snapshot: true}); later deltas have greater indexes.
   */
  public io.claudememory.realtime.StreamSnapshots streamSnapshots() {
    return (tenant, conversation) -> snapshots(tenant, conversation).map(list -> list.stream()
        .map(snapshot -> new io.vertx.core.json.JsonObject().put("type", "assistant.delta").put("data",
            new io.vertx.core.json.JsonObject().put("room_id", conversation.toString())
                .put("message_id", snapshot.messageId().toString()).put("index", snapshot.index())
                .put("text", snapshot.text()).put("snapshot", true)))
        .toList());
  }

  /**
   * The text so far of every answer in progress in the conversation: this node's from memory, else (another node's)
   * from Redis when configured.
   */
  public Future<List<StreamSnapshot>> snapshots(UUID tenant, UUID conversationId) {
    List<StreamSnapshot> local = new ArrayList<>();
    Set<Generation> running = byConversation.get(conversationId);
    if (running != null) {
      running.stream().filter(g -> g.tenant.equals(tenant)).forEach(g -> local.add(g.snapshot()));
    }
    if (!local.isEmpty() || redis == null) {
      return Future.succeededFuture(local);
    }
    // An answer running on another node reaches Redis up to a flush late, while the joiner (subscribed to the room
    // before asking) missed its deltas of that moment live: read again once two flushes have passed, so the snapshot
    // covers every delta published before the subscription. Later deltas at or below its index are dropped.
    return redis.read(tenant, conversationId).compose(first -> {
      if (first.isEmpty()) {
        return Future.succeededFuture(first);
      }
      return vertx.timer(2 * Generation.REDIS_FLUSH_MS).compose(v -> redis.read(tenant, conversationId));
    }).otherwise(err -> List.of());
  }

  /** The running answer with this assistant message id on this node, or null. */
  StreamSnapshot localSnapshot(UUID assistantMessageId) {
    Generation generation = byMessage.get(assistantMessageId);
    return generation == null ? null : generation.snapshot();
  }

  /** The persisted message of an answer that ended in the last minute ({@code {}} when it was not persisted). */
  JsonObject recentlyFinished(UUID assistantMessageId) {
    return recentlyFinished.get(assistantMessageId);
  }

  public synchronized int activeCount() {
    return active;
  }

  public boolean configured() {
    return provider != null;
  }

  public String providerName() {
    return provider == null ? "none" : provider.name();
  }

  public ContextAssembler assembler() {
    return assembler;
  }

  public TokenEstimator tokens() {
    return tokens;
  }
}
