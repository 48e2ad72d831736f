package io.claudememory.conversations;

import static io.claudememory.platform.http.Responses.reply;

import io.claudememory.auth.Authenticator;
import io.claudememory.platform.http.Idempotency;
import io.claudememory.platform.http.Ids;
import io.claudememory.platform.http.Principal;
import io.claudememory.platform.http.QueryParams;
import io.claudememory.platform.http.Responses;
import io.claudememory.platform.http.Validation;
import io.vertx.core.json.JsonArray;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import java.time.OffsetDateTime;
import java.util.List;
import java.util.Set;
import java.util.UUID;

/** {@code /api/v1/conversations}: search, create, list, get, patch, delete. Messages: {@link MessageRoutes}. */
public final class ConversationRoutes {
  private static final Set<String> CREATE_FIELDS = Set.of("title", "projectId", "model", "systemPrompt", "tags");
  private static final Set<String> PATCH_FIELDS = Set.of("title", "projectId", "model", "systemPrompt", "tags",
      "pinned", "archived");
  private static final Set<String> ROLES = Set.of("user", "assistant", "system");
  private final ConversationService conversations;
  private final SearchService search;
  private final Authenticator auth;
  private final Idempotency idempotency;

  public ConversationRoutes(ConversationService conversations, SearchService search, Authenticator auth,
      Idempotency idempotency) {
    this.conversations = conversations;
    this.search = search;
    this.auth = auth;
    this.idempotency = idempotency;
  }

  public void mount(Router api) {
    api.get("/conversations/search").handler(auth).handler(this::searchConversations);
    // another method on /conversations/search is not a call on a conversation with the id "search"
    api.route("/conversations/search").handler(ctx -> ctx.fail(405));
    api.post("/conversations").handler(auth).handler(idempotency).handler(this::createConversation);
    api.get("/conversations").handler(auth).handler(this::listConversations);
    api.get("/conversations/:id").handler(auth).handler(this::getConversation);
    api.patch("/conversations/:id").handler(auth).handler(this::patchConversation);
    api.delete("/conversations/:id").handler(auth).handler(this::deleteConversation);
  }

  private void createConversation(RoutingContext ctx) {
    Validation v = Validation.of(ctx, CREATE_FIELDS);
    var created = new ConversationService.NewConversation(v.optionalString("title", 0, 500),
        v.optionalUuid("projectId"), v.optionalString("model", 1, 200), v.optionalString("systemPrompt", 0, 100_000),
        v.optionalStrings("tags", 50, 100));
    v.check();
    reply(ctx, conversations.create(caller(ctx), created), c -> Responses.created(ctx, c));
  }

  private void listConversations(RoutingContext ctx) {
    QueryParams q = QueryParams.of(ctx);
    int limit = q.limit();
    UUID projectId = q.uuid("projectId");
    Boolean archived = q.bool("archived");
    Boolean pinned = q.bool("pinned");
    String tag = q.string("tag", 100);
    JsonArray cursor = q.cursor(2);
    OffsetDateTime afterActivity = null;
    UUID afterId = null;
    if (cursor != null) {
      try {
        afterActivity = OffsetDateTime.parse(cursor.getString(0));
        afterId = UUID.fromString(cursor.getString(1));
      } catch (RuntimeException e) {
        q.error("cursor", "is not a cursor this list gave out");
      }
    }
    q.check();
    var filter = new ConversationService.Filter(projectId, archived, pinned, tag, afterActivity, afterId, limit);
    reply(ctx, conversations.list(caller(ctx), filter), page -> Responses.page(ctx, page.data(), page.nextCursor()));
  }

  private void getConversation(RoutingContext ctx) {
    reply(ctx, conversations.get(caller(ctx), conversationId(ctx)), c -> Responses.ok(ctx, c));
  }

  private void patchConversation(RoutingContext ctx) {
    UUID id = conversationId(ctx);
    Validation v = Validation.of(ctx, PATCH_FIELDS);
    String title = v.optionalString("title", 0, 500);
    List<String> tags = v.optionalStrings("tags", 50, 100);
    Boolean pinned = v.optionalBoolean("pinned");
    Boolean archived = v.optionalBoolean("archived");
    UUID projectId = v.optionalUuid("projectId");
    String systemPrompt = v.optionalString("systemPrompt", 0, 100_000);
    String model = v.optionalString("model", 1, 200);
    for (String flag : List.of("pinned", "archived", "tags")) {
      if (v.has(flag) && !v.hasError(flag) && (flag.equals("tags") ? tags == null
          : flag.equals("pinned") ? pinned == null : archived == null)) {
        v.error(flag, "must not be null");
      }
    }
    v.check();
    var changes = new ConversationService.Changes(v.has("title"), title, v.has("tags"), tags, v.has("pinned"),
        pinned, v.has("archived"), archived, v.has("projectId"), projectId, v.has("systemPrompt"), systemPrompt,
        v.has("model"), model);
    reply(ctx, conversations.update(caller(ctx), id, changes), c -> Responses.ok(ctx, c));
  }

  private void deleteConversation(RoutingContext ctx) {
    reply(ctx, conversations.delete(caller(ctx), conversationId(ctx)), done -> Responses.noContent(ctx));
  }

  private void searchConversations(RoutingContext ctx) {
    QueryParams q = QueryParams.of(ctx);
    String text = q.string("q", 500);
    SearchQuery query = text == null ? null : SearchQuery.parse(text);
    if (query == null) {
      q.error("q", "is required and must contain at least one word");
    }
    int limit = q.limit();
    UUID projectId = q.uuid("projectId");
    String role = q.string("role", 20);
    if (role != null && !ROLES.contains(role)) {
      q.error("role", "must be user, assistant or system");
    }
    OffsetDateTime from = q.timestamp("from");
    OffsetDateTime to = q.timestamp("to");
    JsonArray key = q.cursor(4);
    SearchService.Cursor cursor = null;
    if (key != null) {
      try {
        cursor = SearchService.Cursor.of(key);
      } catch (RuntimeException e) {
        q.error("cursor", "is not a cursor this list gave out");
      }
    }
    q.check();
    var request = new SearchService.Request(projectId, role, from, to, cursor, limit);
    reply(ctx, search.search(caller(ctx), query, request), page -> Responses.page(ctx, page.data(),
        page.nextCursor()));
  }

  static UUID conversationId(RoutingContext ctx) {
    return Ids.pathId(ctx, "id", "The conversation");
  }

  static UUID caller(RoutingContext ctx) {
    return Principal.required(ctx).userId();
  }
}
