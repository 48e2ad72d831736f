package io.claudememory.security;

import static io.claudememory.support.Problems.assertFieldError;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.claudememory.support.ApiClient;
import io.claudememory.support.ApiClient.Reply;
import io.claudememory.support.ApiContract;
import io.claudememory.support.ExternalDatabases;
import io.claudememory.support.Jobs;
import io.claudememory.support.TestServer;
import io.claudememory.support.Users;
import io.claudememory.support.Users.TestUser;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.UUID;
import java.util.regex.Pattern;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * OWASP API3:2023: what a reply shows (excessive data exposure) and what a request may set (mass assignment).
 * Every reply the tests get is checked against the contract ({@link ApiClient}), so a reply can only hold what the
 * contract lists; the first test holds the contract itself to showing no credential except where one is issued.
 */
@ExtendWith(SecuritySuite.class)
@DisplayName("API3:2023 Broken Object Property Level Authorization: replies show no secret, requests set nothing "
    + "privileged")
class Api03PropertyLevelAuthorizationTest {
  /** Member names that would hold a credential or its digest. */
  private static final Pattern SENSITIVE = Pattern.compile("(?i).*(password|hash|sealed|secret|token|key|passphrase"
      + "|salt)$|.*(password|hash|sealed|secret|passphrase).*");
  /** Where the contract issues a credential, shown this once: operationId → members. */
  private static final Map<String, Set<String>> ISSUED = Map.of(
      "register", Set.of("accessToken", "refreshToken"), "login", Set.of("accessToken", "refreshToken"),
      "refreshTokens", Set.of("accessToken", "refreshToken"), "changePassword", Set.of("accessToken", "refreshToken"),
      "createApiKey", Set.of("key"), "createWebhook", Set.of("secret"));
  /** Members a client must never be able to set, wherever it tries. */
  private static final List<String> PRIVILEGED = List.of("id", "userId", "ownerId", "owner_id", "role", "createdAt",
      "updatedAt", "active", "admin", "isAdmin", "tokenVersion", "passwordHash", "password_hash", "emailVerified",
      "tenantId", "databaseId", "usageQuota", "deletedAt", "email", "messageCount", "seq", "conversationId");
  static final IdOperations CONTRACT = new IdOperations();
  static TestServer server;
  static ApiClient api;

  @BeforeAll
  static void start() {
    server = SecuritySuite.shared().server();
    api = SecuritySuite.shared().client();
  }

  @Test
  @DisplayName("the contract lets no reply hold a password, a hash, a sealed secret or a token, except where a "
      + "credential is issued (once)")
  void contractShowsNoCredentials() {
    JsonObject paths = ApiContract.load().document().getJsonObject("paths");
    List<String> exposed = new ArrayList<>();
    for (String path : paths.fieldNames()) {
      JsonObject item = paths.getJsonObject(path);
      for (String method : item.fieldNames()) {
        if (!(item.getValue(method) instanceof JsonObject operation) || operation.getJsonObject("responses") == null) {
          continue;
        }
        String id = operation.getString("operationId");
        JsonObject responses = operation.getJsonObject("responses");
        for (String status : responses.fieldNames()) {
          JsonObject content = CONTRACT.resolve(responses.getJsonObject(status)).getJsonObject("content");
          if (content == null) {
            continue;
          }
          for (String media : content.fieldNames()) {
            Set<String> names = new TreeSet<>();
            members(content.getJsonObject(media).getJsonObject("schema", new JsonObject()), names, new HashSet<>());
            names.removeIf(name -> !SENSITIVE.matcher(name).matches()
                || ISSUED.getOrDefault(id, Set.of()).contains(name));
            names.forEach(name -> exposed.add(id + " " + status + ": " + name));
          }
        }
      }
    }
    assertEquals(List.of(), exposed, "reply members that would carry a credential");
  }

  @Test
  @DisplayName("no reply ever shows a stored password, webhook secret, API key or export passphrase again, nor a "
      + "bcrypt hash")
  void storedSecretsAreNeverShownAgain() {
    TestUser ann = Users.register(api);
    String token = ann.accessToken();
    ExternalDatabases.External db = ExternalDatabases.create(server.scope());
    Reply database = api.post("/api/v1/database", token, db.body("mine"));
    assertEquals(201, database.status(), database.body());
    Reply hook = api.post("/api/v1/webhooks", token, new JsonObject().put("url", "http://127.0.0.1:9/x")
        .put("events", new JsonArray().add("import.completed")));
    Reply key = api.post("/api/v1/api-keys", token, new JsonObject().put("name", "ci"));
    String passphrase = "export passphrase " + UUID.randomUUID();
    Reply export = api.post("/api/v1/export/create", token, new JsonObject().put("passphrase", passphrase));
    assertEquals(202, export.status(), export.body());
    Jobs.awaitFinishedAt(api, token, "/api/v1/export/jobs/" + export.data().getString("id"), 60);
    Map<String, String> secrets = new LinkedHashMap<>();
    secrets.put("the account password", Users.PASSWORD);
    secrets.put("the database password", db.password());
    secrets.put("the webhook secret", hook.data().getString("secret"));
    secrets.put("the API key", key.data().getString("key"));
    secrets.put("the export passphrase", passphrase);

    List<String> paths = new ArrayList<>();
    CONTRACT.listings().forEach(list -> paths.add(list.uri("/api/v1", Map.of(), Map.of("marker", "passphrase"))));
    paths.addAll(List.of("/api/v1/webhooks/" + hook.data().getString("id"),
        "/api/v1/export/jobs/" + export.data().getString("id"), "/api/v1/jobs/" + export.data().getString("id"),
        "/api/v1/audit?limit=200"));
    List<String> shown = new ArrayList<>();
    for (String uri : paths) {
      for (String credential : List.of(token, key.data().getString("key"))) {
        Reply reply = api.get(uri, credential);
        assertEquals(200, reply.status(), uri + ": " + reply.body());
        secrets.forEach((what, value) -> {
          if (reply.body().contains(value)) {
            shown.add(uri + " shows " + what);
          }
        });
        if (Pattern.compile("\\$2[aby]?\\$\\d\\d\\$").matcher(reply.body()).find()) {
          shown.add(uri + " shows a bcrypt hash");
        }
      }
    }
    assertEquals(List.of(), shown);
    assertTrue(api.get("/api/v1/database", token).list().stream().map(JsonObject.class::cast)
        .anyMatch(d -> d.getBoolean("passwordSet", false)), "the database says a password is set, not which");
  }

  @Test
  @DisplayName("a privileged member (role, id, owner, timestamps, flags) in any create or update body is refused with "
      + "a 400 naming it, and changes nothing")
  void massAssignmentRefused() {
    TestUser ann = Users.register(api);
    String token = ann.accessToken();
    String project = api.post("/api/v1/projects", token, new JsonObject().put("name", "p")).data().getString("id");
    String conversation = api.post("/api/v1/conversations", token, new JsonObject().put("title", "c")
        .put("projectId", project)).data().getString("id");
    String webhook = api.post("/api/v1/webhooks", token, new JsonObject().put("url", "http://127.0.0.1:9/y")
        .put("events", new JsonArray().add("import.completed"))).data().getString("id");
    TestUser member = Users.register(api);
    api.post("/api/v1/projects/" + project + "/members", token, new JsonObject().put("email", member.email())
        .put("role", "viewer"));
    record Write(String method, String template, String uri, JsonObject body) {}
    List<Write> writes = List.of(
        new Write("POST", "/auth/register", "/auth/register", new JsonObject().put("email", "mass-"
            + UUID.randomUUID() + "@example.com").put("password", Users.PASSWORD)),
        new Write("PATCH", "/auth/profile", "/auth/profile", new JsonObject().put("name", "Ann")),
        new Write("POST", "/projects", "/projects", new JsonObject().put("name", "p2")),
        new Write("PUT", "/projects/{id}", "/projects/" + project, new JsonObject().put("name", "p")),
        new Write("PATCH", "/projects/{id}", "/projects/" + project, new JsonObject().put("name", "p")),
        new Write("PATCH", "/projects/{id}/members/{userId}", "/projects/" + project + "/members/" + member.id(),
            new JsonObject().put("role", "viewer")),
        new Write("POST", "/conversations", "/conversations", new JsonObject().put("title", "c2")),
        new Write("PATCH", "/conversations/{id}", "/conversations/" + conversation, new JsonObject().put("title", "c")),
        new Write("POST", "/conversations/{id}/messages", "/conversations/" + conversation + "/messages",
            new JsonObject().put("content", "hello").put("generate", false)),
        new Write("POST", "/webhooks", "/webhooks", new JsonObject().put("url", "http://127.0.0.1:9/z")
            .put("events", new JsonArray().add("import.completed"))),
        new Write("PATCH", "/webhooks/{id}", "/webhooks/" + webhook, new JsonObject().put("description", "d")),
        new Write("POST", "/api-keys", "/api-keys", new JsonObject().put("name", "k")));
    int refusals = 0;
    for (Write write : writes) {
      Map<String, JsonObject> allowed = CONTRACT.requestMembers(write.method(), write.template());
      assertTrue(!allowed.isEmpty(), write.method() + " " + write.template() + " has a documented body");
      for (String field : PRIVILEGED) {
        if (allowed.containsKey(field)) {
          continue; // a member the operation documents (a member's role, a message's role) is not privileged there
        }
        JsonObject body = write.body().copy().put(field, field.equals("role") ? "admin" : UUID.randomUUID()
            .toString());
        Reply reply = api.send(HttpMethod.valueOf(write.method()), "/api/v1" + write.uri(), token, body.toBuffer());
        assertFieldError(reply, field);
        refusals++;
      }
    }
    assertTrue(refusals > 100, "every privileged member was tried where it is not documented: " + refusals);
    Reply profile = api.get("/api/v1/auth/profile", token);
    assertEquals("user", profile.data().getString("role"));
    assertEquals(ann.email(), profile.data().getString("email"));
    assertEquals(1, api.get("/api/v1/projects", token).list().size(), "no project was created by a refused body");
    assertEquals(1, api.get("/api/v1/conversations", token).list().size(), "nor a conversation");
    assertEquals(1, api.get("/api/v1/webhooks", token).list().size(), "nor a webhook");
  }

  @Test
  @DisplayName("values of the members a client may set are held to their allowed ones: a member cannot be made owner "
      + "or admin, a message cannot be given a role of its own invention")
  void allowedValuesOnly() {
    TestUser ann = Users.register(api);
    TestUser bob = Users.register(api);
    String project = api.post("/api/v1/projects", ann.accessToken(), new JsonObject().put("name", "p")).data()
        .getString("id");
    api.post("/api/v1/projects/" + project + "/members", ann.accessToken(), new JsonObject().put("email", bob.email())
        .put("role", "viewer"));
    for (String role : List.of("owner", "admin", "OWNER", "")) {
      assertFieldError(api.patch("/api/v1/projects/" + project + "/members/" + bob.id(), ann.accessToken(),
          new JsonObject().put("role", role)), "role");
      assertFieldError(api.post("/api/v1/projects/" + project + "/members", ann.accessToken(), new JsonObject()
          .put("email", "x" + UUID.randomUUID() + "@example.com").put("role", role)), "role");
    }
    String conversation = api.post("/api/v1/conversations", ann.accessToken(), new JsonObject()).data()
        .getString("id");
    assertFieldError(api.post("/api/v1/conversations/" + conversation + "/messages", ann.accessToken(),
        new JsonObject().put("content", "hi").put("role", "tool")), "role");
    assertFieldError(api.send(HttpMethod.POST, "/api/v1/auth/register", null, Buffer.buffer(new JsonObject()
        .put("email", "typed-" + UUID.randomUUID() + "@example.com").put("password", Users.PASSWORD)
        .put("name", new JsonObject().put("role", "admin")).encode())), "name");
  }

  /** Every property name in {@code schema}, through references, combinators, items and nested objects. */
  private static void members(JsonObject schema, Set<String> names, Set<String> seen) {
    String ref = schema.getString("$ref");
    if (ref != null && !seen.add(ref)) {
      return;
    }
    JsonObject resolved = CONTRACT.resolve(schema);
    JsonObject properties = resolved.getJsonObject("properties");
    if (properties != null) {
      for (String name : properties.fieldNames()) {
        JsonObject property = CONTRACT.resolve(properties.getJsonObject(name));
        Object type = property.getValue("type");
        boolean scalarFlag = "boolean".equals(type) || "integer".equals(type);
        if (!scalarFlag) {
          names.add(name);
        }
        members(properties.getJsonObject(name), names, seen);
      }
    }
    for (String combinator : List.of("allOf", "oneOf", "anyOf")) {
      JsonArray parts = resolved.getJsonArray(combinator);
      if (parts != null) {
        parts.forEach(part -> members((JsonObject) part, names, seen));
      }
    }
    if (resolved.getValue("items") instanceof JsonObject items) {
      members(items, names, seen);
    }
    if (resolved.getValue("additionalProperties") instanceof JsonObject more) {
      members(more, names, seen);
    }
  }
}
