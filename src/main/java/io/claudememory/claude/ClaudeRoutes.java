package io.claudememory.claude;

import io.claudememory.auth.Authenticator;
import io.claudememory.platform.EventAddresses;
import io.claudememory.platform.http.ApiException;
import io.claudememory.platform.http.Ids;
import io.claudememory.platform.http.Principal;
import io.claudememory.platform.http.Responses;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import io.vertx.sqlclient.Tuple;
import java.util.UUID;

/**
 * Claude's own routes: what the model would see next ({@code GET /conversations/:id/context[?message=draft]}), cancel
 * ({@code POST /conversations/:id/cancel}), and regenerate ({@code POST /conversations/:id/messages/:mid/regenerate},
 * {@code :mid} being the user message or one of its answers; {@code Accept: text/event-stream} streams the answer).
 * Conversations are looked up in the caller's own tenant database only; project members' access comes with the
 * conversations capability.
 */
public final class ClaudeRoutes {
  private final Authenticator auth;
  private final Generations generations;

  public ClaudeRoutes(Authenticator auth, Generations generations) {
    this.auth = auth;
    this.generations = generations;
  }

  public void mount(Router api) {
    api.get("/conversations/:id/context").handler(auth).handler(this::showContext);
    api.post("/conversations/:id/cancel").handler(auth).handler(this::cancel);
    api.post("/conversations/:id/messages/:mid/regenerate").handler(auth).handler(this::regenerate);
  }

  private void showContext(RoutingContext ctx) {
    UUID tenant = Principal.required(ctx).userId();
    UUID conversation = Ids.pathId(ctx, "id", "The conversation");
    Responses.reply(ctx, generations.pools.withPool(tenant, pool ->
        generations.assembler.assemble(pool, tenant, conversation, null, previewOptions(ctx))), assembled ->
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
    UUID tenant = Principal.required(ctx).userId();
    UUID conversation = Ids.pathId(ctx, "id", "The conversation");
    Responses.reply(ctx, generations.pools.withPool(tenant, pool ->
        pool.preparedQuery(ClaudeSql.CONVERSATION).execute(Tuple.of(conversation))), rows -> {
          if (rows.size() == 0) {
            ctx.fail(ApiException.notFound("The conversation"));
            return;
          }
          ctx.vertx().eventBus().publish(EventAddresses.CLAUDE_CANCEL, new JsonObject()
              .put("tenant", tenant.toString()).put("conversationId", conversation.toString()));
          ctx.response().setStatusCode(202).putHeader("Content-Type", "application/json")
              .end(new JsonObject().put("data", new JsonObject().put("cancelling", true)).toBuffer());
        });
  }

  private void regenerate(RoutingContext ctx) {
    UUID tenant = Principal.required(ctx).userId();
    UUID conversation = Ids.pathId(ctx, "id", "The conversation");
    UUID message = Ids.pathId(ctx, "mid", "The message");
    JsonObject body = ctx.body().isEmpty() ? new JsonObject() : ctx.body().asJsonObject();
    JsonObject options = new JsonObject().put("regenerate", true);
    if (body.getString("model") != null) {
      options.put("model", body.getString("model"));
    }
    Responses.reply(ctx, generations.pools.withPool(tenant, pool ->
        pool.preparedQuery(ClaudeSql.MESSAGE_AND_PARENT)
            .execute(Tuple.of(message, conversation))).compose(rows -> {
              if (rows.size() == 0) {
                throw ApiException.notFound("The message");
              }
              var row = rows.iterator().next();
              UUID userMessage = "user".equals(row.getString("role")) ? message : row.getUUID("parent_id");
              return generations.start(tenant, conversation, userMessage, options);
            }), started -> {
              String accept = ctx.request().getHeader("Accept");
              if (accept != null && accept.contains("text/event-stream")) {
                SseWriter.begin(ctx.response());
                SseWriter.event(ctx.response(), "generation.started", started.toJson());
                SseWriter.stream(ctx.vertx(), ctx.response(), generations, tenant, conversation,
                    started.assistantMessageId());
              } else {
                ctx.response().setStatusCode(202).putHeader("Content-Type", "application/json")
                    .end(new JsonObject().put("data", new JsonObject().put("generation", started.toJson()))
                        .toBuffer());
              }
            });
  }
}
