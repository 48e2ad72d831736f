package io.claudememory.security;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.claudememory.support.ApiClient;
import io.claudememory.support.ApiClient.Reply;
import io.claudememory.support.ApiContract;
import io.claudememory.support.ApiContract.Operation;
import io.claudememory.support.RouteInventory;
import io.claudememory.support.TestServer;
import io.claudememory.support.Users;
import io.claudememory.support.Users.TestUser;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.TreeSet;
import java.util.UUID;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * OWASP API9:2023: the contract is the inventory. The routes the node's router serves and the operations of
 * {@code openapi.yaml} are the same set (outside {@code /api/v1} only the documented few), every documented operation
 * is reachable over HTTP and guarded as the contract says, and the paths an attacker tries for forgotten versions,
 * debug consoles or files answer 404 without data.
 */
@ExtendWith(SecuritySuite.class)
@DisplayName("API9:2023 Improper Inventory Management: the contract lists every route, and nothing else answers")
class Api09InventoryManagementTest {
  static TestServer server;
  static ApiClient api;
  static TestUser ann;
  static String marker;

  @BeforeAll
  static void start() {
    server = SecuritySuite.shared().server();
    api = SecuritySuite.shared().client();
    ann = Users.register(api);
    marker = "inventory" + UUID.randomUUID().toString().replace("-", "");
    api.post("/api/v1/projects", ann.accessToken(), new JsonObject().put("name", marker));
    api.post("/api/v1/conversations", ann.accessToken(), new JsonObject().put("title", marker));
  }

  @Test
  @DisplayName("the router serves exactly the operations of the contract, plus only the documented routes outside it")
  void routerMatchesContract() {
    ApiContract contract = ApiContract.load();
    Set<Operation> served = RouteInventory.of(server);
    Set<Operation> api = new TreeSet<>();
    Set<Operation> outside = new TreeSet<>();
    served.forEach(op -> (op.path().startsWith(contract.basePath() + "/") ? api : outside).add(op));
    Set<Operation> undocumented = new TreeSet<>(api);
    undocumented.removeAll(contract.operations());
    Set<Operation> unserved = new TreeSet<>(contract.operations());
    unserved.removeAll(api);
    assertEquals(Set.of(), undocumented, "routes served but missing from openapi.yaml");
    assertEquals(Set.of(), unserved, "operations in openapi.yaml that no route serves");
    assertEquals(new TreeSet<>(RouteInventory.OUTSIDE_CONTRACT), outside, "routes outside the contract");
  }

  @Test
  @DisplayName("every documented operation is reachable over HTTP, and asks for credentials unless the contract "
      + "says it needs none")
  void everyOperationIsReachableAndGuarded() {
    JsonObject paths = ApiContract.load().document().getJsonObject("paths");
    List<String> wrong = new ArrayList<>();
    for (String path : paths.fieldNames()) {
      JsonObject item = paths.getJsonObject(path);
      for (String method : item.fieldNames()) {
        if (!(item.getValue(method) instanceof JsonObject operation) || operation.getJsonObject("responses") == null) {
          continue;
        }
        boolean open = operation.getJsonArray("security") != null && operation.getJsonArray("security").isEmpty();
        String uri = "/api/v1" + path.replaceAll("\\{[^}]+}", UUID.randomUUID().toString());
        HttpMethod verb = HttpMethod.valueOf(method.toUpperCase(Locale.ROOT));
        Reply reply = api.withoutContractCheck().send(verb, uri, null, verb == HttpMethod.GET
            || verb == HttpMethod.DELETE ? null : new JsonObject().toBuffer());
        String detail = String.valueOf(reply.header("Content-Type")).contains("json") && reply.json() != null
            ? String.valueOf(reply.json().getString("detail")) : "";
        if (reply.status() == 405 || reply.status() == 404 && detail.equals("No such resource.")) {
          wrong.add(verb + " " + path + " is not served (" + reply.status() + ")");
        } else if (!open && reply.status() != 401) {
          wrong.add(verb + " " + path + " answered " + reply.status() + " without credentials");
        } else if (open && reply.status() == 401) {
          wrong.add(verb + " " + path + " is documented as open but asks for credentials");
        }
      }
    }
    assertEquals(List.of(), wrong);
  }

  @Test
  @DisplayName("every operation documents what it can answer: 401 when it needs credentials, 429 when it is rate "
      + "limited, and an id and a tag")
  void contractIsComplete() {
    JsonObject paths = ApiContract.load().document().getJsonObject("paths");
    List<String> missing = new ArrayList<>();
    for (String path : paths.fieldNames()) {
      JsonObject item = paths.getJsonObject(path);
      for (String method : item.fieldNames()) {
        if (!(item.getValue(method) instanceof JsonObject operation) || operation.getJsonObject("responses") == null) {
          continue;
        }
        String name = method.toUpperCase(Locale.ROOT) + " " + path;
        JsonObject responses = operation.getJsonObject("responses");
        boolean open = operation.getJsonArray("security") != null && operation.getJsonArray("security").isEmpty();
        if (operation.getString("operationId") == null || operation.getJsonArray("tags", new JsonArray()).isEmpty()) {
          missing.add(name + ": operationId or tag");
        }
        if (!open && !responses.containsKey("401")) {
          missing.add(name + ": 401");
        }
        if (!path.startsWith("/health") && !responses.containsKey("429")) {
          missing.add(name + ": 429");
        }
      }
    }
    assertEquals(List.of(), missing);
  }

  @Test
  @DisplayName("old versions, debug consoles, framework endpoints and stray files answer 404 with no data, signed in "
      + "or not")
  void shadowPathsServeNothing() {
    List<String> shadows = List.of("/api/v0/conversations", "/api/v2/conversations", "/api/conversations",
        "/v1/conversations", "/api/v1.0/conversations", "/api/V1/conversations", "/API/v1/conversations",
        "/api/v1/Conversations", "/api/v1/conversations.json", "/api/v1/conversations;x=1", "/api/v1/users",
        "/api/v1/internal", "/api/v1/debug", "/api/v1/admin", "/api/v1/auth", "/actuator", "/actuator/env",
        "/metrics", "/health", "/debug/vars", "/console", "/server-status", "/.env", "/.git/config",
        "/swagger.json", "/api/swagger.json", "/api/v1/openapi.yaml", "/WEB-INF/web.xml", "/conf/application.yaml",
        "/logback.xml", "/db/master/V1__accounts.sql");
    List<String> wrong = new ArrayList<>();
    for (String path : shadows) {
      for (String token : new String[] {null, ann.accessToken()}) {
        Reply reply = api.withoutContractCheck().get(path, token);
        if (reply.status() != 404) {
          wrong.add(path + " answered " + reply.status() + (token == null ? "" : " signed in"));
        }
        if (reply.body().contains(marker) || reply.body().contains("jwtSecret") || reply.body().contains("masterKey")) {
          wrong.add(path + " shows data");
        }
      }
    }
    assertEquals(List.of(), wrong);
    assertTrue(api.get("/api/v1/conversations", ann.accessToken()).body().contains(marker),
        "the real route serves the data the shadows must not");
  }

  @Test
  @DisplayName("the documentation's file routes serve their own files only: no path escapes to configuration, "
      + "migrations or the file system")
  void noPathTraversal() {
    List<String> attempts = new ArrayList<>();
    for (String target : List.of("logback.xml", "db/master/V1__accounts.sql", "conf/application.yaml",
        "META-INF/MANIFEST.MF", "etc/passwd", "build-info.properties")) {
      for (String climb : List.of("../", "%2e%2e/", "%2e%2e%2f", "..%2f", "..%5c", "....//", "%252e%252e/")) {
        for (String base : List.of("/api/docs/assets/", "/api/docs/", "/api/")) {
          attempts.add(base + climb.repeat(8) + target);
        }
      }
    }
    List<String> served = new ArrayList<>();
    for (String path : attempts) {
      Reply reply = api.withoutContractCheck().get(path, null);
      String body = reply.body();
      if (reply.status() == 200 || body.contains("CREATE TABLE") || body.contains("<configuration")
          || body.contains("root:") || body.contains("Manifest-Version") || body.contains("jwtSecret")
          || body.contains("git.commit")) {
        served.add(path + " answered " + reply.status());
      }
    }
    assertEquals(List.of(), served);
  }
}
