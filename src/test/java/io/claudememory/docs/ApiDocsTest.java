package io.claudememory.docs;

import static io.claudememory.support.Problems.assertProblem;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.claudememory.support.ApiClient;
import io.claudememory.support.ApiClient.Reply;
import io.claudememory.support.ApiContract;
import io.claudememory.support.ApiContract.Operation;
import io.claudememory.support.RouteInventory;
import io.claudememory.support.TestServer;
import io.vertx.core.MultiMap;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.Json;
import io.vertx.core.json.JsonObject;
import io.vertx.json.schema.OutputUnit;
import io.vertx.json.schema.SchemaRepository;
import io.vertx.openapi.contract.OpenAPIVersion;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.constructor.SafeConstructor;

@DisplayName("API docs: the contract is served, browsable, complete, and every answer is held to it")
class ApiDocsTest {
  private static final Pattern LOCAL_REFERENCE = Pattern.compile("(?:src|href)=\"(/api/docs/[^\"]+)\"");
  private static final Map<String, String> CONTENT_TYPES = Map.of(
      "js", "text/javascript", "css", "text/css", "png", "image/png");

  static TestServer server;
  static ApiClient api;
  /** The docs are not API operations, so they are not in the contract they serve. */
  static ApiClient docs;

  @BeforeAll
  static void start() {
    server = TestServer.start();
    api = server.client();
    docs = api.withoutContractCheck();
  }

  @AfterAll
  static void stop() {
    server.close();
  }

  @Test
  @DisplayName("/api/openapi.yaml serves the contract as YAML, the same document the tests check answers against")
  void contractIsServed() {
    Reply reply = docs.get("/api/openapi.yaml", null);
    assertEquals(200, reply.status(), reply.body());
    assertTrue(reply.header("Content-Type").startsWith("application/yaml"), reply.header("Content-Type"));
    Map<String, Object> served = new Yaml(new SafeConstructor(new LoaderOptions())).load(reply.body());
    assertEquals(ApiContract.load().document(), new JsonObject(Json.encode(served)),
        "the served document is the one on the classpath");
    assertTrue(reply.body().startsWith("openapi: 3.1"), "an OpenAPI 3.1 document");
  }

  @Test
  @DisplayName("the contract is a valid OpenAPI 3.1 document")
  void contractIsValidOpenApi() throws Exception {
    JsonObject document = ApiContract.load().document().copy();
    OpenAPIVersion version = OpenAPIVersion.fromContract(document);
    assertEquals(OpenAPIVersion.V3_1, version);
    Vertx vertx = server.app().vertx();
    SchemaRepository metaSchemas = version.getRepository(vertx, "app:///").await(30, TimeUnit.SECONDS);
    OutputUnit result = version.validateContract(vertx, metaSchemas, document).await(30, TimeUnit.SECONDS);
    assertTrue(result.getValid(),
        () -> "openapi.yaml breaks the OpenAPI 3.1 schema: " + result.toJson().encodePrettily());
  }

  @Test
  @DisplayName("/api/docs is a page that runs Swagger UI from this server only, without inline scripts")
  void docsPageLoads() {
    Reply page = docs.get("/api/docs", null);
    assertEquals(200, page.status(), page.body());
    assertTrue(page.header("Content-Type").startsWith("text/html"), page.header("Content-Type"));
    String csp = page.header("Content-Security-Policy");
    assertTrue(csp != null && csp.contains("script-src 'self'") && !csp.contains("unsafe-eval"),
        () -> "scripts only from this origin: " + csp);
    assertFalse(Pattern.compile("<script(?![^>]*\\bsrc=)").matcher(page.body()).find(), "no inline <script>");
    assertFalse(page.body().contains("//cdn") || page.body().contains("https://"), "nothing from a CDN");

    List<String> references = new ArrayList<>();
    Matcher reference = LOCAL_REFERENCE.matcher(page.body());
    while (reference.find()) {
      references.add(reference.group(1));
    }
    assertTrue(references.containsAll(List.of("/api/docs/assets/swagger-ui-bundle.js",
        "/api/docs/assets/swagger-ui.css", "/api/docs/swagger-init.js")), () -> "page references " + references);
    for (String path : references) {
      Reply asset = docs.get(path, null);
      assertEquals(200, asset.status(), () -> path + " loads");
      String extension = path.substring(path.lastIndexOf('.') + 1);
      assertTrue(asset.header("Content-Type").startsWith(CONTENT_TYPES.get(extension)),
          () -> path + " is " + CONTENT_TYPES.get(extension) + ", not " + asset.header("Content-Type"));
      assertTrue(asset.raw().length() > 0, () -> path + " is not empty");
    }
    assertTrue(docs.get("/api/docs/swagger-init.js", null).body().contains("'/api/openapi.yaml'"),
        "the initializer points Swagger UI at the served contract");
  }

  @Test
  @DisplayName("every route the server registers is in the contract, and every operation in the contract is served")
  void routesMatchContract() {
    Set<Operation> registered = RouteInventory.of(server);
    ApiContract contract = ApiContract.load();
    Set<Operation> api = new TreeSet<>();
    Set<Operation> outside = new TreeSet<>();
    registered.forEach(op -> (op.path().startsWith(contract.basePath() + "/") ? api : outside).add(op));

    Set<Operation> undocumented = new TreeSet<>(api);
    undocumented.removeAll(contract.operations());
    Set<Operation> unserved = new TreeSet<>(contract.operations());
    unserved.removeAll(api);
    assertTrue(undocumented.isEmpty(), () -> "routes missing from openapi.yaml: " + undocumented);
    assertTrue(unserved.isEmpty(), () -> "operations in openapi.yaml that no route serves: " + unserved);
    assertEquals(new TreeSet<>(RouteInventory.OUTSIDE_CONTRACT), outside,
        "routes outside " + contract.basePath() + " (not in the contract)");
  }

  @Test
  @DisplayName("every health probe answers as the contract describes")
  void healthAnswersMatchContract() {
    for (String probe : List.of("", "/liveness", "/readiness", "/info", "/metrics")) {
      Reply reply = api.get("/api/v1/health" + probe, null);
      assertEquals(200, reply.status(), () -> "/health" + probe + ": " + reply.body());
    }
    // up or down depends on the machine (a busy CI host trips the event-loop check); both are documented
    Reply detailed = api.get("/api/v1/health/detailed", null);
    assertTrue(detailed.status() == 200 || detailed.status() == 503, detailed::body);
  }

  @Test
  @DisplayName("an unknown path answers a documented 404 problem and an unlisted method a documented 405 problem")
  void unknownRoutesAnswerDocumentedProblems() {
    assertProblem(api.get("/api/v1/no-such-thing", null), 404);
    assertProblem(api.put("/api/v1/auth/profile", null, new JsonObject()), 405);
  }

  @Test
  @DisplayName("a body that is not JSON, has unknown fields or is too large answers a documented problem")
  void badBodiesAnswerDocumentedProblems() {
    assertProblem(api.send(HttpMethod.POST, "/api/v1/auth/login", null, Buffer.buffer("{not json")), 400);
    assertProblem(api.post("/api/v1/auth/refresh", null, new JsonObject().put("refreshToken", "x").put("more", 1)),
        400);
    int tooLarge = (int) server.config().http().bodyLimitBytes() + 1;
    assertProblem(api.send(HttpMethod.POST, "/api/v1/auth/login", null,
        Buffer.buffer("{\"email\":\"" + "x".repeat(tooLarge) + "\"}")), 413);
  }

  @Test
  @DisplayName("the contract check refuses an undocumented status, a wrong content type and a body off the schema")
  void contractCheckCatchesDeviations() {
    ApiContract contract = ApiContract.load();
    MultiMap json = MultiMap.caseInsensitiveMultiMap().add("Content-Type", "application/json");
    Buffer up = new JsonObject().put("status", "UP").toBuffer();
    contract.check(HttpMethod.GET, "/api/v1/health", new Reply(200, json, up));

    AssertionError status = assertThrows(AssertionError.class,
        () -> contract.check(HttpMethod.GET, "/api/v1/health", new Reply(201, json, up)));
    assertTrue(status.getMessage().contains("does not document"), status.getMessage());
    MultiMap text = MultiMap.caseInsensitiveMultiMap().add("Content-Type", "text/html");
    assertThrows(AssertionError.class,
        () -> contract.check(HttpMethod.GET, "/api/v1/health", new Reply(200, text, up)));
    AssertionError body = assertThrows(AssertionError.class, () -> contract.check(HttpMethod.GET,
        "/api/v1/health/info", new Reply(200, json, new JsonObject().put("version", 1).toBuffer())));
    assertTrue(body.getMessage().contains("/version"), body.getMessage());
    AssertionError templated = assertThrows(AssertionError.class, () -> contract.check(HttpMethod.GET,
        "/api/v1/projects/x", new Reply(200, json, new JsonObject().put("data", new JsonObject()).toBuffer())));
    assertTrue(templated.getMessage().contains("does not match"), "a path with {id} is checked too: "
        + templated.getMessage());
    assertThrows(AssertionError.class, () -> contract.check(HttpMethod.DELETE, "/api/v1/api-keys/x/y",
        new Reply(204, json, Buffer.buffer())));
  }
}
