package io.claudememory.auth;

import static io.claudememory.platform.http.Responses.caller;
import static io.claudememory.platform.http.Responses.reply;

import io.claudememory.platform.http.ApiException;
import io.claudememory.platform.http.Principal;
import io.claudememory.platform.http.Responses;
import io.claudememory.platform.http.Validation;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import java.util.Set;

/** {@code /api/v1/auth/*}: register, login, refresh, logout, profile, password. */
public final class AuthRoutes {
  private static final String USERNAME = "[A-Za-z0-9_.-]{3,32}";
  private final AccountService accounts;
  private final Authenticator auth;

  public AuthRoutes(AccountService accounts, Authenticator auth) {
    this.accounts = accounts;
    this.auth = auth;
  }

  public void mount(Router api) {
    api.post("/auth/register").handler(this::register);
    api.post("/auth/login").handler(this::login);
    api.post("/auth/refresh").handler(this::refresh);
    api.post("/auth/logout").handler(this::logout);
    api.get("/auth/profile").handler(auth).handler(this::profile);
    api.patch("/auth/profile").handler(auth).handler(this::updateProfile);
    api.post("/auth/password").handler(auth).handler(this::changePassword);
  }

  private void register(RoutingContext ctx) {
    Validation v = Validation.of(ctx, Set.of("email", "password", "name", "username"));
    String email = v.email("email", true);
    String password = v.requiredSecret("password");
    String name = v.optionalString("name", 1, 100);
    String username = username(v);
    PasswordPolicy.check(v, "password", password, email);
    v.check();
    reply(ctx, accounts.register(new AccountService.Registration(email, password, name, username), caller(ctx)),
        tokens -> Responses.created(ctx, tokens));
  }

  private void login(RoutingContext ctx) {
    Validation v = Validation.of(ctx, Set.of("email", "password"));
    String email = v.requiredString("email", 1, 254);
    String password = v.requiredSecret("password");
    v.check();
    if (password.length() > 1024) {
      throw ApiException.unauthorized("The email or password is wrong.");
    }
    reply(ctx, accounts.login(email, password, caller(ctx)), tokens -> Responses.ok(ctx, tokens));
  }

  private void refresh(RoutingContext ctx) {
    Validation v = Validation.of(ctx, Set.of("refreshToken"));
    String token = v.requiredString("refreshToken", 1, 512);
    v.check();
    reply(ctx, accounts.refresh(token, caller(ctx)), tokens -> Responses.ok(ctx, tokens));
  }

  private void logout(RoutingContext ctx) {
    Validation v = Validation.of(ctx, Set.of("refreshToken"));
    String token = v.requiredString("refreshToken", 1, 512);
    v.check();
    reply(ctx, accounts.logout(token), done -> Responses.noContent(ctx));
  }

  private void profile(RoutingContext ctx) {
    reply(ctx, accounts.profile(Principal.required(ctx).userId()), user -> Responses.ok(ctx, user));
  }

  private void updateProfile(RoutingContext ctx) {
    Validation v = Validation.of(ctx, Set.of("name", "username"));
    String name = v.optionalString("name", 1, 100);
    String username = username(v);
    v.check();
    reply(ctx, accounts.updateProfile(Principal.required(ctx).userId(), v.has("name"), name, v.has("username"),
        username), user -> Responses.ok(ctx, user));
  }

  private void changePassword(RoutingContext ctx) {
    Validation v = Validation.of(ctx, Set.of("currentPassword", "newPassword"));
    String current = v.requiredSecret("currentPassword");
    String next = v.requiredSecret("newPassword");
    PasswordPolicy.check(v, "newPassword", next, null);
    if (current != null && current.equals(next)) {
      v.error("newPassword", "must differ from the current password");
    }
    v.check();
    reply(ctx, accounts.changePassword(Principal.required(ctx).userId(), current, next, caller(ctx)),
        tokens -> Responses.ok(ctx, tokens));
  }

  private static String username(Validation v) {
    String username = v.optionalString("username", 3, 32);
    if (username != null && !username.matches(USERNAME)) {
      v.error("username", "may hold only letters, digits, '_', '.' and '-'");
    }
    return username;
  }
}
