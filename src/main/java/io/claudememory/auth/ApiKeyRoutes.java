package io.claudememory.auth;

import static io.claudememory.platform.http.Responses.caller;
import static io.claudememory.platform.http.Responses.reply;

import io.claudememory.platform.http.Ids;
import io.claudememory.platform.http.Principal;
import io.claudememory.platform.http.Responses;
import io.claudememory.platform.http.Validation;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import java.util.Set;

/** {@code /api/v1/api-keys}: create (the key is in this answer only), list (prefixes), revoke. */
public final class ApiKeyRoutes {
  private final ApiKeys keys;
  private final Authenticator auth;

  public ApiKeyRoutes(ApiKeys keys, Authenticator auth) {
    this.keys = keys;
    this.auth = auth;
  }

  public void mount(Router api) {
    api.post("/api-keys").handler(auth).handler(this::createKey);
    api.get("/api-keys").handler(auth).handler(this::listKeys);
    api.delete("/api-keys/:id").handler(auth).handler(this::revokeKey);
  }

  private void createKey(RoutingContext ctx) {
    Validation v = Validation.of(ctx, Set.of("name", "expiresInDays"));
    String name = v.requiredString("name", 1, 100);
    Integer days = v.optionalInt("expiresInDays", 1, 3650);
    v.check();
    reply(ctx, keys.create(Principal.required(ctx).userId(), name, days, caller(ctx)),
        key -> Responses.created(ctx, key));
  }

  private void listKeys(RoutingContext ctx) {
    reply(ctx, keys.list(Principal.required(ctx).userId()), list -> Responses.page(ctx, list, null));
  }

  private void revokeKey(RoutingContext ctx) {
    reply(ctx, keys.revoke(Principal.required(ctx).userId(), Ids.pathId(ctx, "id", "The API key"), caller(ctx)),
        done -> Responses.noContent(ctx));
  }
}
