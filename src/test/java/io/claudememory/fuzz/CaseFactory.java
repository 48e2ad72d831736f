package io.claudememory.fuzz;

import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.UUID;
import java.util.function.Function;
import java.util.function.Supplier;
import java.util.regex.Pattern;

/**
 * The cases of one operation: its valid request (real ids, a body the schema accepts, the right caller), then that
 * request with one thing broken at a time (credentials, each path and query parameter, headers, the body and each of
 * its fields) and, to fill the budget, a few broken at once. Sampling is stratified by category so every kind of case
 * reaches every operation, and seeded so a run can be repeated.
 */
final class CaseFactory {
  private final Fixtures fx;
  private final SchemaValues values;
  private final BodyMutations bodies;
  private final RequestMutations requests;
  private final Random rng;
  final List<String> warnings = new ArrayList<>();

  CaseFactory(Fixtures fx, Schemas schemas, Random rng, String issuer, String audience) {
    this.fx = fx;
    this.rng = rng;
    this.values = new SchemaValues(schemas, rng);
    this.bodies = new BodyMutations(values, rng, fx.exportFile);
    this.requests = new RequestMutations(fx, rng, issuer, audience);
  }

  /**
   * At most {@code budget} cases (at least the valid ones) for {@code t}; with an {@code only} pattern, every case
   * whose description ({@code operationId [category: label]}) matches it instead. Each is built just before it is
   * sent ({@link #build}), so the ids in it are current and throwaway objects live until their case runs.
   */
  List<Mutation> plan(FuzzTarget t, int budget, Pattern only) {
    List<Mutation> all = new ArrayList<>(requests.of(t, actor(t), this::foreignPath));
    all.addAll(bodies.of(t, hints(t)));
    return only == null ? choose(all, budget) : all.stream()
        .filter(m -> only.matcher(t.operationId() + " [" + m.category() + ": " + m.label() + "]").find()).toList();
  }

  /** The valid request of {@code t} with {@code m} applied. */
  FuzzCase build(FuzzTarget t, Mutation m) {
    FuzzCase.Draft draft = base(t, actor(t));
    m.apply().accept(draft);
    return draft.build(m.category(), m.label());
  }

  /** Who calls: the admin on admin routes, a throwaway account where the password changes, else the owner. */
  Fixtures.Actor actor(FuzzTarget t) {
    if (t.tags().contains("admin")) {
      return fx.admin;
    }
    return t.operationId().equals("changePassword") ? fx.passwordChanger() : fx.owner;
  }

  private List<Mutation> choose(List<Mutation> all, int budget) {
    Map<String, List<Mutation>> byCategory = new LinkedHashMap<>();
    all.forEach(m -> byCategory.computeIfAbsent(m.category(), k -> new ArrayList<>()).add(m));
    List<Mutation> chosen = new ArrayList<>(byCategory.getOrDefault(Mutation.VALID, List.of()));
    byCategory.remove(Mutation.VALID);
    byCategory.values().forEach(list -> Collections.shuffle(list, rng));
    // about a sixth of the budget goes to combinations, when there is enough to combine
    int singles = byCategory.isEmpty() ? 0 : budget - chosen.size() - budget / 6;
    List<List<Mutation>> lists = new ArrayList<>(byCategory.values());
    int longest = lists.stream().mapToInt(List::size).max().orElse(0);
    for (int round = 0; singles > 0 && round < longest; round++) {
      for (List<Mutation> list : lists) {
        if (singles > 0 && list.size() > round) {
          chosen.add(list.get(round));
          singles--;
        }
      }
    }
    List<Mutation> combinable = all.stream()
        .filter(m -> m.category().equals("field") || m.category().equals("query") || m.category().equals("header"))
        .toList();
    while (chosen.size() < budget && combinable.size() > 1) {
      Mutation first = combinable.get(rng.nextInt(combinable.size()));
      Mutation second = combinable.get(rng.nextInt(combinable.size()));
      chosen.add(rng.nextBoolean() ? first.and(second)
          : first.and(second).and(combinable.get(rng.nextInt(combinable.size()))));
    }
    return chosen;
  }

  /** The valid request: real ids in the path, required query parameters, the caller's token and a valid body. */
  private FuzzCase.Draft base(FuzzTarget t, Fixtures.Actor actor) {
    FuzzCase.Draft d = new FuzzCase.Draft(t);
    for (FuzzTarget.Param p : t.pathParams()) {
      d.path.put(p.name(), validPath(t, p));
    }
    for (FuzzTarget.Param p : t.queryParams()) {
      if (p.required()) {
        Object value = values.valid(p.schema(), p.name(), k -> k.equals("q") ? "postgres" : null);
        d.setQuery(p.name(), String.valueOf(value));
      }
    }
    if (t.secured()) {
      d.headers.set("Authorization", "Bearer " + actor.accessToken);
    }
    if (t.multipart()) {
      d.form = bodies.validForm();
    } else if (t.takesBody()) {
      d.headers.set("Content-Type", "application/json");
      d.json = values.validObject(t.bodySchema(), false, hints(t));
    }
    return d;
  }

  /** A real object for the path parameter: a throwaway one where the operation deletes it. */
  private Supplier<String> validPath(FuzzTarget t, FuzzTarget.Param p) {
    String resource = resourceOf(t.template(), p.name());
    boolean deletes = t.method().equals("DELETE") && t.template().endsWith("{" + p.name() + "}");
    String existing = existing(resource);
    if (existing == null) {
      warnings.add(t + ": no real object for path parameter " + p.name() + " (" + resource + "); a random id is used");
      String random = UUID.randomUUID().toString();
      return () -> random;
    }
    return deletes ? () -> java.util.Objects.requireNonNullElse(fx.fresh(resource), existing) : () -> existing;
  }

  /** An id of the same kind that the caller must not reach (someone else's), or one that names nothing. */
  private String foreignPath(FuzzTarget t, FuzzTarget.Param p) {
    return switch (resourceOf(t.template(), p.name())) {
      case "conversations" -> fx.strangerConversationId;
      case "users" -> fx.admin.id.toString(); // an admin changing themselves is refused
      case "members" -> fx.stranger.id.toString();
      default -> UUID.randomUUID().toString();
    };
  }

  private String existing(String resource) {
    return switch (resource) {
      case "api-keys" -> fx.apiKeyId;
      case "projects" -> fx.projectId;
      case "members" -> fx.member.id.toString();
      case "conversations" -> fx.conversationId;
      case "messages" -> fx.userMessageId;
      case "users" -> fx.victim.id.toString();
      case "database" -> fx.databaseId;
      case "jobs", "download" -> fx.exportJobId;
      case "webhooks" -> fx.webhookId;
      case "deliveries" -> fx.deliveryId;
      default -> null;
    };
  }

  /** The path segment naming what a parameter identifies: {@code /projects/{id}/members/{userId}} → members. */
  static String resourceOf(String template, String param) {
    String before = template.substring(0, template.indexOf("{" + param + "}") - 1);
    return before.substring(before.lastIndexOf('/') + 1);
  }

  /** Valid values for body fields that must name real things or match the caller, by field name. */
  Function<String, Object> hints(FuzzTarget t) {
    String op = t.operationId();
    Fixtures.Actor actor = actor(t);
    boolean database = t.template().contains("/database");
    return field -> switch (field) {
      case "email" -> switch (op) {
        case "register" -> Fixtures.REGISTER_EMAIL;
        case "login" -> actor.email;
        case "addProjectMember" -> fx.invitee.email;
        default -> null;
      };
      case "password" -> actor.password;
      case "currentPassword" -> (Supplier<String>) () -> actor.password;
      case "newPassword" -> "fuzz horse battery staple " + fx.next();
      case "refreshToken" -> (Supplier<String>) fx::freshRefreshToken;
      case "projectId" -> fx.projectId;
      case "conversationId" -> fx.conversationId;
      case "leafId" -> fx.assistantMessageId;
      case "parentId" -> fx.userMessageId;
      case "id" -> database ? fx.databaseId : null;
      case "url" -> database ? "postgresql://postgres@127.0.0.1:5432/" + Fixtures.ABSENT_DATABASE : Fixtures.HOOK_URL;
      case "host" -> "127.0.0.1";
      case "database" -> Fixtures.ABSENT_DATABASE;
      case "user" -> "postgres";
      case "port" -> 5432;
      case "name" -> database ? "fuzz db " + fx.next() : null;
      case "events" -> List.of("message.created");
      case "content" -> "hello from the fuzzer";
      case "scope" -> "all";
      case "role" -> switch (op) {
        case "addProjectMember", "changeProjectMemberRole" -> "viewer";
        default -> "user";
      };
      default -> null;
    };
  }

  static JsonObject describe(FuzzCase c) {
    return new JsonObject().put("operation", c.target().operationId()).put("category", c.category())
        .put("case", c.label());
  }
}
