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
import java.util.UUID;

/** {@code /api/v1/api-keys}: create (the key is in this answer only), list (prefixes), revoke. */
public final class ApiKeyRoutes {
  private final ApiKeys keys;
  private final Authenticator auth;
  private final UserInvalidations invalidations;

  public ApiKeyRoutes(ApiKeys keys, Authenticator auth, UserInvalidations invalidations) {
    this.keys = keys;
    this.auth = auth;
    this.invalidations = invalidations;
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

  /** Revoked on every node at once: other nodes drop their cached lookups, and sockets opened with it close. */
  private void revokeKey(RoutingContext ctx) {
    UUID userId = Principal.required(ctx).userId();
    reply(ctx, keys.revoke(userId, Ids.pathId(ctx, "id", "The API key"), caller(ctx))
        .compose(done -> invalidations.changed(userId, false)), done -> Responses.noContent(ctx));
  }
}
