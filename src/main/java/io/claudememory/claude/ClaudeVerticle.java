package io.claudememory.claude;

import io.claudememory.platform.EventAddresses;
import io.claudememory.platform.http.ApiException;
import io.claudememory.platform.http.Ids;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.eventbus.Message;
import io.vertx.core.json.JsonObject;
import java.util.UUID;

/**
 * Claude behind the event bus ({@link EventAddresses#CLAUDE_GENERATE}, {@link EventAddresses#CLAUDE_CANCEL}); the
 * work itself is {@link Generations}'. Deployed once per event loop; answers started by an instance run on its loop.
 * Only one instance listens to cancel (a publish reaches every consumer, and one is enough per node).
 */
public final class ClaudeVerticle extends VerticleBase {
  private final Generations generations;
  private final boolean handlesCancel;

  public ClaudeVerticle(Generations generations, boolean handlesCancel) {
    this.generations = generations;
    this.handlesCancel = handlesCancel;
  }

  @Override
  public Future<?> start() {
    Future<Void> generate =
        vertx.eventBus().<JsonObject>consumer(EventAddresses.CLAUDE_GENERATE, this::generate).completion();
    return handlesCancel
        ? Future.all(generate, vertx.eventBus().consumer(EventAddresses.CLAUDE_CANCEL, this::cancel).completion())
        : generate;
  }

  private void generate(Message<JsonObject> message) {
    JsonObject body = message.body();
    UUID tenant = Ids.parseOrNull(body.getString("tenant"));
    UUID conversation = Ids.parseOrNull(body.getString("conversationId"));
    UUID userMessage = Ids.parseOrNull(body.getString("userMessageId"));
    if (tenant == null || conversation == null || userMessage == null) {
      message.reply(new GenerationRefused(400, "bad_request", "tenant, conversationId and userMessageId are "
          + "required ids.", null).toReply());
      return;
    }
    generations.start(tenant, conversation, userMessage, body.getJsonObject("options"))
        .onSuccess(started -> message.reply(new JsonObject().put("accepted", true)
            .put("generationId", started.generationId().toString())
            .put("assistantMessageId", started.assistantMessageId().toString())))
        .onFailure(err -> message.reply(refusalOf(err).toReply()));
  }

  /** A refusal as is; a tenant database that cannot be reached keeps its status (503); anything else is a 500. */
  private static GenerationRefused refusalOf(Throwable err) {
    if (err instanceof GenerationRefused refused) {
      return refused;
    }
    if (err instanceof ApiException problem) {
      return new GenerationRefused(problem.status(), "unavailable", problem.getMessage(),
          problem.retryAfter() == null ? null : Integer.valueOf(problem.retryAfter()));
    }
    return new GenerationRefused(500, "internal_error", "The answer could not be started.", null);
  }

  private void cancel(Message<Object> message) {
    Object body = message.body();
    if (body instanceof JsonObject json) {
      UUID conversation = Ids.parseOrNull(json.getString("conversationId"));
      if (conversation != null) {
        generations.cancel(Ids.parseOrNull(json.getString("tenant")), conversation);
      }
    } else if (body != null) {
      UUID conversation = Ids.parseOrNull(body.toString());
      if (conversation != null) {
        generations.cancel(null, conversation);
      }
    }
  }
}
