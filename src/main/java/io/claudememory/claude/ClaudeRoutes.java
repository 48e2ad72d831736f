package io.claudememory.claude;

import io.claudememory.auth.Authenticator;
import io.claudememory.platform.EventAddresses;
import io.claudememory.platform.http.ApiException;
import io.claudememory.platform.http.Ids;
import io.claudememory.platform.http.Principal;
import io.claudememory.platform.http.Responses;
import io.claudememory.platform.http.Validation;
import io.claudememory.projects.Access;
import io.claudememory.projects.Grant;
import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import io.vertx.sqlclient.Tuple;
import java.util.Set;
import java.util.UUID;

/**
 * Claude's own routes: what the model would see next ({@code GET /conversations/:id/context[?message=draft]}), cancel
 * ({@code POST /conversations/:id/cancel}), and regenerate ({@code POST /conversations/:id/messages/:mid/regenerate},
 * {@code :mid} being the user message or one of its answers; {@code Accept: text/event-stream} streams the answer).
 *
 * <p>Conversations are found as the data plane finds them ({@link Access}): the caller's own, or one in a project
 * shared with them, in its owner's database. Reading the context is open to every member; cancelling and regenerating
 * change the conversation, so a viewer gets 403; anyone else gets 404, as for a conversation that does not exist.
 * An answer started by a member runs in the owner's tenant (the owner's caps, budget and usage).
 */
public final class ClaudeRoutes {
  private final Authenticator auth;
  private final Generations generations;
  private final Access access;

  public ClaudeRoutes(Authenticator auth, Generations generations, Access access) {
    this.auth = auth;
    this.generations = generations;
    this.access = access;
  }

  public void mount(Router api) {
    api.get("/conversations/:id/context").handler(auth).handler(this::showContext);
    api.post("/conversations/:id/cancel").handler(auth).handler(this::cancel);
    api.post("/conversations/:id/messages/:mid/regenerate").handler(auth).handler(this::regenerate);
  }

  private void showContext(RoutingContext ctx) {
    UUID conversation = Ids.pathId(ctx, "id", "The conversation");
    JsonObject options = previewOptions(ctx);
    Responses.reply(ctx, access.conversation(Principal.required(ctx).userId(), conversation).map(Grant::tenant)
        .compose(tenant -> generations.pools.withPool(tenant, pool ->
            generations.assembler.assemble(pool, tenant, conversation, null, options))), assembled ->
        Responses.ok(ctx, new JsonObject()
            .put("provider", generations.providerName())
            .put("request", assembled.request())
            .put("estimatedInputTokens", assembled.estimatedTokens())
            .put("budgetTokens", assembled.budget())
            .put("keptTurns", assembled.keptTurns())
            .put("omittedTurns", assembled.omittedTurns())
            .put("summaryUsed", assembled.summaryUsed())
            .put("summaryThroughSeq", assembled.summaryThroughSeq())
            .put("recalledPassages", assembled.recalled())
            .put("leafId", assembled.leafId() == null ? null : assembled.leafId().toString())));
  }

  /** {@code ?message=} previews the request that sending this text would make; {@code ?model=} another model. */
  private static JsonObject previewOptions(RoutingContext ctx) {
    JsonObject options = new JsonObject();
    String draft = ctx.queryParams().get("message");
    if (draft != null) {
      options.put("draft", draft);
    }
    String model = ctx.queryParams().get("model");
    if (model != null && !model.isBlank()) {
      options.put("model", model);
    }
    return options;
  }

  private void cancel(RoutingContext ctx) {
    UUID conversation = Ids.pathId(ctx, "id", "The conversation");
    Responses.reply(ctx, writable(ctx, conversation), tenant -> {
      ctx.vertx().eventBus().publish(EventAddresses.CLAUDE_CANCEL, new JsonObject()
          .put("tenant", tenant.toString()).put("conversationId", conversation.toString()));
      ctx.response().setStatusCode(202).putHeader("Content-Type", "application/json")
          .end(new JsonObject().put("data", new JsonObject().put("cancelling", true)).toBuffer());
    });
  }

  /** The tenant holding the conversation, when the caller may change it (owner or editor). */
  private Future<UUID> writable(RoutingContext ctx, UUID conversation) {
    return access.conversation(Principal.required(ctx).userId(), conversation).map(Grant::requireWrite)
        .map(Grant::tenant);
  }

  private void regenerate(RoutingContext ctx) {
    UUID conversation = Ids.pathId(ctx, "id", "The conversation");
    UUID message = Ids.pathId(ctx, "mid", "The message");
    JsonObject options = new JsonObject().put("regenerate", true);
    if (!ctx.body().isEmpty()) {
      // an optional body: {model}, checked like any other (a body that is not an object is a 400, not a 500)
      Validation v = Validation.of(ctx, Set.of("model"));
      String model = v.optionalString("model", 1, 200);
      v.check();
      if (model != null) {
        options.put("model", model);
      }
    }
    Responses.reply(ctx, writable(ctx, conversation).compose(tenant -> generations.pools.withPool(tenant, pool ->
        pool.preparedQuery(ClaudeSql.MESSAGE_AND_PARENT).execute(Tuple.of(message, conversation))).compose(rows -> {
          if (rows.size() == 0) {
            throw ApiException.notFound("The message");
          }
          var row = rows.iterator().next();
          UUID userMessage = "user".equals(row.getString("role")) ? message : row.getUUID("parent_id");
          return generations.start(tenant, conversation, userMessage, options)
              .map(started -> new Regenerating(tenant, started));
        })), regenerating -> answer(ctx, conversation, regenerating));
  }

  /** An answer started in {@code tenant}'s database (the owner's, when a member regenerates). */
  private record Regenerating(UUID tenant, Generations.Started started) {}

  private void answer(RoutingContext ctx, UUID conversation, Regenerating regenerating) {
    Generations.Started started = regenerating.started();
    String accept = ctx.request().getHeader("Accept");
    if (accept != null && accept.contains("text/event-stream")) {
      SseWriter.begin(ctx.response());
      SseWriter.event(ctx.response(), "generation.started", started.toJson());
      SseWriter.stream(ctx.vertx(), ctx.response(), generations, regenerating.tenant(), conversation,
          started.assistantMessageId());
    } else {
      ctx.response().setStatusCode(202).putHeader("Content-Type", "application/json")
          .end(new JsonObject().put("data", new JsonObject().put("generation", started.toJson())).toBuffer());
    }
  }
}
