package io.claudememory.conversations;

import io.claudememory.claude.GenerationRefused;
import io.claudememory.claude.Generations;
import io.claudememory.claude.SseWriter;
import static io.claudememory.conversations.ConversationRoutes.caller;
import static io.claudememory.conversations.ConversationRoutes.conversationId;
import static io.claudememory.platform.http.Responses.reply;

import io.claudememory.auth.Authenticator;
import io.claudememory.platform.http.ApiException;
import io.claudememory.platform.http.Idempotency;
import io.claudememory.platform.http.QueryParams;
import io.claudememory.platform.http.Responses;
import io.claudememory.platform.http.Validation;
import io.vertx.core.json.JsonArray;
import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import java.util.List;
import java.util.Set;
import java.util.UUID;

/**
 * {@code /api/v1/conversations/:id/messages} (post, page along a branch), {@code /current-leaf} (choose a branch)
 * and {@code /tree} (the shape of every branch).
 */
public final class MessageRoutes {
  /** The largest message a client may post, in characters (the body limit bounds bytes before this). */
  public static final int MAX_CONTENT = 100_000;
  private static final Set<String> ROLES = Set.of("user", "assistant", "system");
  private final MessageService messages;
  private final Authenticator auth;
  private final Idempotency idempotency;
  private final Generations generations;

  public MessageRoutes(MessageService messages, Authenticator auth, Idempotency idempotency,
      Generations generations) {
    this.messages = messages;
    this.auth = auth;
    this.idempotency = idempotency;
    this.generations = generations;
  }

  public void mount(Router api) {
    api.post("/conversations/:id/messages").handler(auth).handler(idempotency).handler(this::sendMessage);
    api.get("/conversations/:id/messages").handler(auth).handler(this::listMessages);
    api.put("/conversations/:id/current-leaf").handler(auth).handler(this::chooseBranch);
    api.get("/conversations/:id/tree").handler(auth).handler(this::messageTree);
  }

  /** {@code generate} is accepted and ignored until a Claude provider exists: the message is stored, nothing more. */
  private void sendMessage(RoutingContext ctx) {
    UUID id = conversationId(ctx);
    Validation v = Validation.of(ctx, Set.of("content", "parentId", "generate", "role"));
    String content = v.requiredSecret("content");
    if (content != null && content.isBlank()) {
      v.error("content", "must not be empty");
    }
    if (content != null && content.length() > MAX_CONTENT) {
      throw new ApiException(413, "Payload Too Large", "A message holds at most " + MAX_CONTENT + " characters.",
          List.of(new ApiException.FieldError("content", "must be at most " + MAX_CONTENT + " characters")),
          null);
    }
    UUID parentId = v.optionalUuid("parentId");
    Boolean generate = v.optionalBoolean("generate");
    String role = v.optionalString("role", 1, 20);
    if (role != null && !ROLES.contains(role)) {
      v.error("role", "must be user, assistant or system");
    }
    boolean userMessage = role == null || role.equals("user");
    if (Boolean.TRUE.equals(generate) && !userMessage) {
      v.error("generate", "only a user message can be answered");
    }
    v.check();
    boolean answer = generate != null ? generate : userMessage && generations.configured();
    if (answer && !generations.configured()) {
      throw GenerationRefused.noProvider(); // before anything is stored
    }
    Future<JsonObject> stored = messages.post(caller(ctx), id, role == null ? "user" : role, content, parentId);
    if (!answer) {
      reply(ctx, stored, message -> Responses.created(ctx, new JsonObject().put("message", message)));
      return;
    }
    // The message is stored first; if Claude then refuses (a cap, a budget), the refusal is the answer and the
    // client may regenerate later.
    reply(ctx, stored.compose(message -> messages.writableTenant(caller(ctx), id).compose(tenant ->
        generations.start(tenant, id, UUID.fromString(message.getString("id")), new JsonObject())
            .map(started -> new Answering(tenant, message, started)))), answering -> {
              String accept = ctx.request().getHeader("Accept");
              if (accept != null && accept.contains("text/event-stream")) {
                SseWriter.begin(ctx.response());
                SseWriter.event(ctx.response(), "message.created", new JsonObject().put("message", answering.message));
                SseWriter.stream(ctx.vertx(), ctx.response(), generations, answering.tenant, id,
                    answering.started.assistantMessageId());
              } else {
                Responses.created(ctx, new JsonObject().put("message", answering.message)
                    .put("generation", answering.started.toJson()));
              }
            });
  }

  private record Answering(UUID tenant, JsonObject message, Generations.Started started) {}

  private void listMessages(RoutingContext ctx) {
    UUID id = conversationId(ctx);
    QueryParams q = QueryParams.of(ctx);
    int limit = q.limit();
    UUID leafId = q.uuid("leafId");
    JsonArray cursor = q.cursor(1);
    long afterSeq = 0;
    if (cursor != null) {
      if (cursor.getValue(0) instanceof Number seq) {
        afterSeq = seq.longValue();
      } else {
        q.error("cursor", "is not a cursor this list gave out");
      }
    }
    q.check();
    reply(ctx, messages.branch(caller(ctx), id, leafId, afterSeq, limit), page -> Responses.page(ctx, page.data(),
        page.nextCursor()));
  }

  private void chooseBranch(RoutingContext ctx) {
    UUID id = conversationId(ctx);
    Validation v = Validation.of(ctx, Set.of("leafId"));
    UUID leafId = v.optionalUuid("leafId");
    if (leafId == null && !v.hasError("leafId")) {
      v.error("leafId", "is required");
    }
    v.check();
    reply(ctx, messages.chooseLeaf(caller(ctx), id, leafId), c -> Responses.ok(ctx, c));
  }

  private void messageTree(RoutingContext ctx) {
    reply(ctx, messages.tree(caller(ctx), conversationId(ctx)), tree -> Responses.ok(ctx, tree));
  }
}
