package io.claudememory.auth;

import io.claudememory.platform.Contexts;
import io.claudememory.platform.http.ApiException;
import io.claudememory.platform.http.Principal;
import io.vertx.core.Future;
import io.vertx.core.Handler;
import io.vertx.ext.web.RoutingContext;

/**
 * Turns a bearer credential (access JWT or API key) into a {@link Principal}, checking the account is still active
 * and, for JWTs, that the token predates no password change and that its sign-in was not ended (logout, a reused
 * refresh token). Used by REST routes (as a handler) and WebSockets.
 */
public final class Authenticator implements Handler<RoutingContext> {
  private final AccessTokens accessTokens;
  private final ApiKeys apiKeys;
  private final UserStates states;
  private final Gate gate;

  /**
   * What a route handler checks once the caller is known, before the route runs: the per-principal rate limits.
   * A failed future is the answer (e.g. a 429 problem).
   */
  @FunctionalInterface
  public interface Gate {
    Future<Void> admit(RoutingContext ctx, Principal principal);
  }

  public Authenticator(AccessTokens accessTokens, ApiKeys apiKeys, UserStates states) {
    this(accessTokens, apiKeys, states, (ctx, principal) -> Future.succeededFuture());
  }

  public Authenticator(AccessTokens accessTokens, ApiKeys apiKeys, UserStates states, Gate gate) {
    this.accessTokens = accessTokens;
    this.apiKeys = apiKeys;
    this.states = states;
    this.gate = gate;
  }

  public Future<Principal> authenticate(String credential) {
    if (credential == null || credential.isBlank() || credential.length() > 4096) {
      return Future.failedFuture(ApiException.unauthorized("Authentication is required."));
    }
    if (credential.startsWith(ApiKeys.PREFIX)) {
      return apiKeys.authenticate(credential).compose(owner -> states.get(owner.userId()).compose(state ->
          state == null || !state.active() ? Future.failedFuture(deactivated())
              : Future.succeededFuture(new Principal(owner.userId(), state.role(), owner.keyId()))));
    }
    return accessTokens.verify(credential).compose(claims -> states.get(claims.userId()).compose(state -> {
      if (state == null || !state.active()) {
        return Future.failedFuture(deactivated());
      }
      if (state.tokenVersion() != claims.tokenVersion()) {
        return Future.failedFuture(ApiException.unauthorized("The access token was revoked; sign in again."));
      }
      return states.signInLive(claims.userId(), claims.signIn()).compose(live -> live
          ? Future.succeededFuture(new Principal(claims.userId(), state.role(), null))
          : Future.failedFuture(ApiException.unauthorized("The sign-in of this access token has ended; sign in "
              + "again.")));
    }));
  }

  /** Route handler: requires {@code Authorization: Bearer <jwt or API key>}, then passes the gate. */
  @Override
  public void handle(RoutingContext ctx) {
    String header = ctx.request().getHeader("Authorization");
    String credential = header != null && header.regionMatches(true, 0, "Bearer ", 0, 7)
        ? header.substring(7).trim() : null;
    if (credential == null) {
      ctx.response().putHeader("WWW-Authenticate", "Bearer");
      ctx.fail(ApiException.unauthorized("Authentication is required: send Authorization: Bearer <token>."));
      return;
    }
    // A user's state being loaded is shared by their concurrent requests: each goes on on its own context.
    Contexts.onCaller(ctx.vertx(), authenticate(credential)).onFailure(err -> {
      ctx.response().putHeader("WWW-Authenticate", "Bearer error=\"invalid_token\"");
      ctx.fail(err);
    }).onSuccess(principal -> {
      principal.attach(ctx);
      gate.admit(ctx, principal).onSuccess(ok -> ctx.next()).onFailure(ctx::fail);
    });
  }

  /** Route handler placed after this one on admin routes. */
  public static void requireAdmin(RoutingContext ctx) {
    if (!Principal.required(ctx).admin()) {
      ctx.fail(ApiException.forbidden("This requires the admin role."));
      return;
    }
    ctx.next();
  }

  private static ApiException deactivated() {
    return ApiException.unauthorized("The account is deactivated or no longer exists.");
  }
}
