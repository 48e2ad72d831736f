package io.claudememory.webhooks;

import static io.claudememory.platform.http.Responses.caller;
import static io.claudememory.platform.http.Responses.reply;

import io.claudememory.auth.Authenticator;
import io.claudememory.platform.http.ApiException;
import io.claudememory.platform.http.Ids;
import io.claudememory.platform.http.Principal;
import io.claudememory.platform.http.Responses;
import io.claudememory.platform.http.Validation;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import java.util.List;
import java.util.Set;
import java.util.UUID;

/** {@code /api/v1/webhooks}: subscriptions, their delivery log, a test ping and redelivery. */
public final class WebhookRoutes {
  private static final Set<String> CREATE_FIELDS = Set.of("url", "events", "description");
  private static final Set<String> UPDATE_FIELDS = Set.of("url", "events", "description", "enabled");
  private final Webhooks webhooks;
  private final Authenticator auth;

  public WebhookRoutes(Webhooks webhooks, Authenticator auth) {
    this.webhooks = webhooks;
    this.auth = auth;
  }

  public void mount(Router api) {
    api.post("/webhooks").handler(auth).handler(this::createWebhook);
    api.get("/webhooks").handler(auth).handler(this::listWebhooks);
    api.get("/webhooks/:id").handler(auth).handler(this::showWebhook);
    api.patch("/webhooks/:id").handler(auth).handler(this::updateWebhook);
    api.delete("/webhooks/:id").handler(auth).handler(this::deleteWebhook);
    api.get("/webhooks/:id/deliveries").handler(auth).handler(this::listDeliveries);
    api.post("/webhooks/:id/test").handler(auth).handler(this::pingWebhook);
    api.post("/webhooks/:id/deliveries/:deliveryId/redeliver").handler(auth).handler(this::redeliver);
  }

  private void createWebhook(RoutingContext ctx) {
    Validation v = Validation.of(ctx, CREATE_FIELDS);
    Webhooks.Change change = read(v, true);
    reply(ctx, webhooks.create(userId(ctx), change, caller(ctx)), hook -> Responses.created(ctx, hook));
  }

  private void listWebhooks(RoutingContext ctx) {
    reply(ctx, webhooks.list(userId(ctx)), list -> Responses.page(ctx, list, null));
  }

  private void showWebhook(RoutingContext ctx) {
    reply(ctx, webhooks.find(userId(ctx), id(ctx)), hook -> Responses.ok(ctx, hook));
  }

  private void updateWebhook(RoutingContext ctx) {
    Validation v = Validation.of(ctx, UPDATE_FIELDS);
    Webhooks.Change change = read(v, false);
    reply(ctx, webhooks.update(userId(ctx), id(ctx), change, caller(ctx)), hook -> Responses.ok(ctx, hook));
  }

  private void deleteWebhook(RoutingContext ctx) {
    reply(ctx, webhooks.delete(userId(ctx), id(ctx), caller(ctx)), done -> Responses.noContent(ctx));
  }

  private void listDeliveries(RoutingContext ctx) {
    int limit = limit(ctx);
    reply(ctx, webhooks.deliveries(userId(ctx), id(ctx), limit, ctx.queryParams().get("cursor")),
        page -> Responses.page(ctx, page.getJsonArray("data"), page.getString("nextCursor")));
  }

  private void pingWebhook(RoutingContext ctx) {
    reply(ctx, webhooks.ping(userId(ctx), id(ctx)), delivery -> accepted(ctx, delivery));
  }

  private void redeliver(RoutingContext ctx) {
    UUID delivery = Ids.pathId(ctx, "deliveryId", "The delivery");
    reply(ctx, webhooks.redeliver(userId(ctx), id(ctx), delivery), d -> accepted(ctx, d));
  }

  private static Webhooks.Change read(Validation v, boolean creating) {
    String url = creating ? v.requiredString("url", 1, 2000) : v.optionalString("url", 1, 2000);
    if (url != null && WebhookUrl.parse(url) == null) {
      v.error("url", "must be an http or https URL with a host and no credentials");
      url = null;
    }
    List<String> events = v.optionalStrings("events", Outbox.EVENT_TYPES.size(), 100);
    if (creating && events == null && !v.hasError("events")) {
      v.error("events", "is required");
    }
    if (events != null && (events.isEmpty() || !Outbox.EVENT_TYPES.containsAll(events))) {
      v.error("events", "must list one or more of " + String.join(", ", Outbox.EVENT_TYPES.stream().sorted()
          .toList()));
    }
    String description = v.optionalString("description", 0, 200);
    Boolean enabled = creating ? null : v.optionalBoolean("enabled");
    v.check();
    return new Webhooks.Change(url, events == null ? null : events.stream().distinct().toList(),
        v.has("description"), description, enabled);
  }

  private static int limit(RoutingContext ctx) {
    String raw = ctx.queryParams().get("limit");
    if (raw == null) {
      return 50;
    }
    try {
      int limit = Integer.parseInt(raw);
      if (limit >= 1 && limit <= 200) {
        return limit;
      }
    } catch (NumberFormatException e) {
      // answered below
    }
    throw ApiException.validation("limit", "must be a whole number from 1 to 200");
  }

  private static void accepted(RoutingContext ctx, JsonObject delivery) {
    ctx.response().setStatusCode(202).putHeader("Content-Type", "application/json")
        .end(new JsonObject().put("data", delivery).toBuffer());
  }

  private static UUID userId(RoutingContext ctx) {
    return Principal.required(ctx).userId();
  }

  private static UUID id(RoutingContext ctx) {
    return Ids.pathId(ctx, "id", "The webhook");
  }
}
