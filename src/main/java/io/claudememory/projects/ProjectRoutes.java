package io.claudememory.projects;

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
import java.util.Set;
import java.util.UUID;

/** {@code /api/v1/projects} (CRUD, archive by PATCH) and {@code /api/v1/projects/:id/members} (sharing). */
public final class ProjectRoutes {
  private static final Set<String> FIELDS = Set.of("name", "description", "instructions", "archived");
  private static final Set<String> ROLES = Set.of("viewer", "editor");
  private final ProjectService projects;
  private final Members members;
  private final Authenticator auth;
  private final Idempotency idempotency;

  public ProjectRoutes(ProjectService projects, Members members, Authenticator auth, Idempotency idempotency) {
    this.projects = projects;
    this.members = members;
    this.auth = auth;
    this.idempotency = idempotency;
  }

  public void mount(Router api) {
    api.post("/projects").handler(auth).handler(idempotency).handler(this::createProject);
    api.get("/projects").handler(auth).handler(this::listProjects);
    api.get("/projects/:id").handler(auth).handler(this::getProject);
    api.put("/projects/:id").handler(auth).handler(ctx -> updateProject(ctx, true));
    api.patch("/projects/:id").handler(auth).handler(ctx -> updateProject(ctx, false));
    api.delete("/projects/:id").handler(auth).handler(this::deleteProject);
    api.post("/projects/:id/members").handler(auth).handler(idempotency).handler(this::addMember);
    api.get("/projects/:id/members").handler(auth).handler(this::listMembers);
    api.patch("/projects/:id/members/:userId").handler(auth).handler(this::changeMemberRole);
    api.delete("/projects/:id/members/:userId").handler(auth).handler(this::removeMember);
  }

  private void createProject(RoutingContext ctx) {
    Validation v = Validation.of(ctx, Set.of("name", "description", "instructions"));
    String name = v.requiredString("name", 1, 200);
    String description = v.optionalString("description", 0, 2000);
    String instructions = v.optionalString("instructions", 0, 100_000);
    v.check();
    reply(ctx, projects.create(caller(ctx), name, description, instructions), p -> Responses.created(ctx, p));
  }

  private void listProjects(RoutingContext ctx) {
    QueryParams q = QueryParams.of(ctx);
    int limit = q.limit();
    Boolean archived = q.bool("archived");
    JsonArray cursor = q.cursor(1);
    UUID after = cursor == null ? null : Ids.parseOrNull(cursor.getString(0));
    if (cursor != null && after == null) {
      q.error("cursor", "is not a cursor this list gave out");
    }
    q.check();
    reply(ctx, projects.list(caller(ctx), after, archived, limit), page -> Responses.page(ctx, page.data(),
        page.nextCursor()));
  }

  private void getProject(RoutingContext ctx) {
    reply(ctx, projects.get(caller(ctx), projectId(ctx)), p -> Responses.ok(ctx, p));
  }

  /** PUT replaces every writable field (absent ones become empty / false); PATCH changes only those sent. */
  private void updateProject(RoutingContext ctx, boolean replace) {
    UUID id = projectId(ctx);
    Validation v = Validation.of(ctx, FIELDS);
    String name = replace ? v.requiredString("name", 1, 200) : v.optionalString("name", 1, 200);
    if (!replace && v.has("name") && name == null && !v.hasError("name")) {
      v.error("name", "must not be null");
    }
    String description = v.optionalString("description", 0, 2000);
    String instructions = v.optionalString("instructions", 0, 100_000);
    Boolean archived = v.optionalBoolean("archived");
    v.check();
    var changes = new ProjectService.Changes(replace || v.has("name"), name,
        replace || v.has("description"), description, replace || v.has("instructions"), instructions,
        replace || archived != null, archived != null && archived);
    reply(ctx, projects.update(caller(ctx), id, changes), p -> Responses.ok(ctx, p));
  }

  private void deleteProject(RoutingContext ctx) {
    UUID id = projectId(ctx);
    QueryParams q = QueryParams.of(ctx);
    Boolean cascade = q.bool("cascade");
    q.check();
    reply(ctx, projects.delete(caller(ctx), id, Boolean.TRUE.equals(cascade)), done -> Responses.noContent(ctx));
  }

  private void addMember(RoutingContext ctx) {
    UUID id = projectId(ctx);
    Validation v = Validation.of(ctx, Set.of("email", "role"));
    String email = v.email("email", true);
    String role = role(v);
    v.check();
    reply(ctx, members.add(caller(ctx), id, email, role), m -> Responses.created(ctx, m));
  }

  private void listMembers(RoutingContext ctx) {
    reply(ctx, members.list(caller(ctx), projectId(ctx)), list -> Responses.page(ctx, list, null));
  }

  private void changeMemberRole(RoutingContext ctx) {
    UUID id = projectId(ctx);
    UUID member = Ids.pathId(ctx, "userId", "The member");
    Validation v = Validation.of(ctx, Set.of("role"));
    String role = role(v);
    v.check();
    reply(ctx, members.setRole(caller(ctx), id, member, role), m -> Responses.ok(ctx, m));
  }

  private void removeMember(RoutingContext ctx) {
    UUID id = projectId(ctx);
    UUID member = Ids.pathId(ctx, "userId", "The member");
    reply(ctx, members.remove(caller(ctx), id, member), done -> Responses.noContent(ctx));
  }

  private static String role(Validation v) {
    String role = v.requiredString("role", 1, 20);
    if (role != null && !ROLES.contains(role)) {
      v.error("role", "must be viewer or editor");
    }
    return role;
  }

  private static UUID projectId(RoutingContext ctx) {
    return Ids.pathId(ctx, "id", "The project");
  }

  private static UUID caller(RoutingContext ctx) {
    return Principal.required(ctx).userId();
  }
}
