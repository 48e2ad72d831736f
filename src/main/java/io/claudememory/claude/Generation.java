package io.claudememory.claude;

import io.claudememory.platform.EventAddresses;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.UUID;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One answer being generated: assembles the request, streams the upstream answer to the room as
 * {@code assistant.delta} events, keeps the text so far, and persists the assistant message once at the end, as the
 * child of the user message, then announces it.
 *
 * <p>Concurrency rule: everything runs on {@link #context} (the one that started it); {@link #cancel()} hops onto it.
 * Only the text-so-far is read from other threads, under this object's lock ({@link #snapshot()}).
 */
final class Generation implements Provider.StreamSink {
  private static final Logger LOG = LoggerFactory.getLogger(Generation.class);
  /** How long a delta waits at most before it is in the Redis snapshot. */
  static final long REDIS_FLUSH_MS = 50;
  final UUID id;
  final UUID tenant;
  final UUID conversationId;
  final UUID userMessageId;
  final UUID assistantMessageId;
  final JsonObject options;
  final Context context;
  private final Generations owner;
  final Answers.Ref ref;
  private final String room;
  private final StringBuilder text = new StringBuilder();
  private final StringBuilder unflushed = new StringBuilder();
  private int index = -1;
  private boolean flushScheduled;
  private ContextAssembler.Assembled assembled;
  private Provider.Upstream upstream;
  /** The request is being assembled: until that is done the generation keeps its slot, even once over. */
  private boolean assembling;
  private boolean over;

  Generation(Generations owner, Context context, UUID tenant, UUID conversationId, UUID userMessageId,
      JsonObject options) {
    this.owner = owner;
    this.context = context;
    this.id = io.claudememory.platform.http.Ids.newId();
    this.assistantMessageId = io.claudememory.platform.http.Ids.newId();
    this.tenant = tenant;
    this.conversationId = conversationId;
    this.userMessageId = userMessageId;
    this.options = options;
    this.room = EventAddresses.room(tenant, conversationId);
    this.ref = new Answers.Ref(tenant, conversationId, userMessageId, assistantMessageId);
  }

  void run() {
    if (over) {
      return; // cancelled before it began
    }
    // Listed in Redis before its first delta (best effort: Redis never holds an answer up for long or fails it).
    Future<Void> listed = owner.redis == null ? Future.succeededFuture()
        : owner.redis.register(ref).recover(err -> Future.succeededFuture());
    assembling = true;
    owner.pools.withPool(tenant, pool -> owner.assembler.assemble(pool, tenant, conversationId, userMessageId,
        options)).eventually(() -> listed).onComplete(result -> {
          assembling = false;
          if (over) {
            owner.assemblyDropped(this); // cancelled meanwhile: the request is never sent
            return;
          }
          if (result.failed()) {
            LOG.warn("generation {}: request assembly failed: {}", id, result.cause().getMessage());
            failed(UpstreamFailure.of("internal_error", "The request could not be assembled.", 0));
            return;
          }
          assembled = result.result();
          upstream = owner.provider.stream(assembled.request(), conversationId.toString(), this);
        });
  }

  /** Whether the request is still being assembled (its slot is then freed by {@link Generations#assemblyDropped}). */
  boolean assembling() {
    return assembling;
  }

  @Override
  public void text(String piece) {
    if (over || piece.isEmpty()) {
      return;
    }
    int current;
    synchronized (this) {
      text.append(piece);
      current = ++index;
    }
    owner.events.publishAssistantDelta(tenant, conversationId, assistantMessageId, current, piece);
    if (owner.redis != null) {
      unflushed.append(piece);
      if (!flushScheduled) {
        flushScheduled = true;
        owner.vertx.setTimer(REDIS_FLUSH_MS, t -> flushRedis());
      }
    }
  }

  private void flushRedis() {
    flushScheduled = false;
    if (unflushed.length() > 0 && !over) {
      owner.redis.append(tenant, conversationId, assistantMessageId, index, unflushed.toString());
      unflushed.setLength(0);
    }
  }

  @Override
  public void finished(Provider.Answer answer) {
    if (over) {
      return;
    }
    over = true;
    String model = answer.model() != null ? answer.model() : assembled.model();
    persist(answer.stopReason(), answer.usage(), answer.blocks(), model).onComplete(saved -> {
      // Off the running list before anyone hears it ended: a late joiner never gets the snapshot of a finished answer.
      owner.finished(this, saved.succeeded() ? saved.result() : null);
      if (saved.failed()) {
        announceError("persist_failed", "The answer could not be stored: " + saved.cause().getMessage(), null);
      } else {
        announceDone(saved.result());
        owner.afterAnswer(this, assembled, saved.result(), answer.usage());
      }
    });
  }

  @Override
  public void failed(UpstreamFailure failure) {
    if (over) {
      return;
    }
    over = true;
    LOG.info("generation {} failed: {} ({})", id, failure.code(), failure.reason());
    if (currentText().isEmpty()) {
      owner.finished(this, null);
      announceError(failure.code(), failure.reason(), null);
      return;
    }
    persist("error", failure.usage(), textBlocks(), assembled.model()).onComplete(saved -> {
      owner.finished(this, saved.succeeded() ? saved.result() : null);
      announceError(failure.code(), failure.reason(), saved.succeeded() ? saved.result() : null);
      if (saved.succeeded()) {
        announceCreated(saved.result());
      }
    });
  }

  /**
   * Stops the answer: the upstream request is closed and what came so far is persisted with stop reason
   * {@code cancelled}. A cancel that comes before the request was sent (still starting or assembling) ends the answer
   * at once with {@code assistant.error} {@code cancelled}: nothing is stored and the request is never sent.
   */
  void cancel() {
    context.runOnContext(v -> {
      if (over) {
        return;
      }
      if (upstream != null) {
        upstream.cancel();
      }
      finishCancelled();
    });
  }

  private void finishCancelled() {
    over = true;
    if (currentText().isEmpty()) {
      owner.finished(this, null);
      announceError("cancelled", "The answer was cancelled before it began.", null);
      return;
    }
    persist("cancelled", null, textBlocks(), assembled.model()).onComplete(saved -> {
      owner.finished(this, saved.succeeded() ? saved.result() : null);
      if (saved.succeeded()) {
        announceDone(saved.result());
      } else {
        announceError("persist_failed", "The partial answer could not be stored.", null);
      }
    });
  }

  private Future<JsonObject> persist(String stopReason, JsonObject usage, JsonArray blocks, String model) {
    return owner.answers.persist(ref, currentText(), blocks, model, stopReason, usage);
  }

  private void announceDone(JsonObject message) {
    owner.answers.announceDone(ref, message);
  }

  private void announceCreated(JsonObject message) {
    owner.answers.announceCreated(ref, message);
  }

  private void announceError(String code, String reason, JsonObject message) {
    owner.answers.announceError(ref, code, reason, message);
  }

  private JsonArray textBlocks() {
    return new JsonArray().add(new JsonObject().put("type", "text").put("text", currentText()));
  }

  synchronized String currentText() {
    return text.toString();
  }

  synchronized StreamSnapshot snapshot() {
    return new StreamSnapshot(assistantMessageId, text.toString(), index);
  }
}
