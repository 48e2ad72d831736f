package io.claudememory.database;

import static io.claudememory.platform.http.Responses.caller;
import static io.claudememory.platform.http.Responses.reply;

import io.claudememory.auth.Authenticator;
import io.claudememory.platform.http.Ids;
import io.claudememory.platform.http.Principal;
import io.claudememory.platform.http.Responses;
import io.claudememory.platform.http.Validation;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import java.util.HashSet;
import java.util.Set;
import java.util.UUID;

/**
 * {@code /api/v1/database}: list (secrets masked, the managed database included), add, test (a body like add, or
 * {@code {id}}), activate (202 with the {@code database.copy} job), remove (not the active one).
 */
public final class DatabaseRoutes {
  private static final Set<String> ADD_FIELDS = with(ConnectionSpec.FIELDS, "name");
  private static final Set<String> TEST_FIELDS = with(ADD_FIELDS, "id");
  private final TenantDatabases databases;
  private final Authenticator auth;

  public DatabaseRoutes(TenantDatabases databases, Authenticator auth) {
    this.databases = databases;
    this.auth = auth;
  }

  public void mount(Router api) {
    api.get("/database").handler(auth).handler(this::listDatabases);
    api.post("/database").handler(auth).handler(this::addDatabase);
    api.post("/database/test").handler(auth).handler(this::testDatabase);
    // another method on /database/test is not a call on a database with the id "test"
    api.route("/database/test").handler(ctx -> ctx.fail(405));
    api.post("/database/:id/activate").handler(auth).handler(this::activateDatabase);
    api.delete("/database/:id").handler(auth).handler(this::removeDatabase);
  }

  private void listDatabases(RoutingContext ctx) {
    reply(ctx, databases.list(Principal.required(ctx).userId()), list -> Responses.page(ctx, list, null));
  }

  private void addDatabase(RoutingContext ctx) {
    Validation v = Validation.of(ctx, ADD_FIELDS);
    String name = v.requiredString("name", 1, 100);
    ConnectionSpec spec = ConnectionSpec.read(v);
    v.check();
    reply(ctx, databases.add(Principal.required(ctx).userId(), name, spec, ConnectionSpec.hostField(v), caller(ctx)),
        db -> Responses.created(ctx, db));
  }

  private void testDatabase(RoutingContext ctx) {
    Validation v = Validation.of(ctx, TEST_FIELDS);
    UUID userId = Principal.required(ctx).userId();
    if (v.has("id")) {
      UUID id = v.optionalUuid("id");
      if (id == null && !v.hasError("id")) {
        v.error("id", "must be an id (UUID)");
      }
      TEST_FIELDS.stream().filter(field -> !field.equals("id") && v.has(field))
          .forEach(field -> v.error(field, "cannot be combined with id"));
      v.check();
      reply(ctx, databases.testSaved(userId, id), result -> Responses.ok(ctx, result));
      return;
    }
    v.optionalString("name", 1, 100);
    ConnectionSpec spec = ConnectionSpec.read(v);
    v.check();
    reply(ctx, databases.test(spec, ConnectionSpec.hostField(v)), result -> Responses.ok(ctx, result));
  }

  private void activateDatabase(RoutingContext ctx) {
    reply(ctx, databases.activate(Principal.required(ctx).userId(), Ids.pathId(ctx, "id", "The database"),
        caller(ctx)), job -> ctx.response().setStatusCode(202).putHeader("Content-Type", "application/json")
            .putHeader("Location", "/api/v1/jobs/" + job.getString("id"))
            .end(new JsonObject().put("data", job).toBuffer()));
  }

  private void removeDatabase(RoutingContext ctx) {
    reply(ctx, databases.remove(Principal.required(ctx).userId(), Ids.pathId(ctx, "id", "The database"),
        caller(ctx)), done -> Responses.noContent(ctx));
  }

  private static Set<String> with(Set<String> base, String extra) {
    Set<String> all = new HashSet<>(base);
    all.add(extra);
    return Set.copyOf(all);
  }
}
