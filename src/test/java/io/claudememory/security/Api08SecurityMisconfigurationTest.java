package io.claudememory.security;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.claudememory.config.ConfigException;
import io.claudememory.config.ConfigReader;
import io.claudememory.support.ApiClient;
import io.claudememory.support.ApiClient.Reply;
import io.claudememory.support.ApiContract;
import io.claudememory.support.TestServer;
import io.claudememory.support.Users;
import io.claudememory.support.Users.TestUser;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.UUID;
import java.util.regex.Pattern;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * OWASP API8:2023. Every operation of the contract is sent malformed input (bodies that are not JSON, not an object,
 * nested thousands deep, holding NUL characters or numbers of the wrong size; ids that are not ids; hostile query
 * values): each answer must be a 4xx problem without a trace of the implementation, never a 5xx. Then what a browser
 * and a scanner see: security headers and no CORS grant on every answer, no TRACE, no version banners, and a
 * production profile that will not start with default secrets.
 */
@ExtendWith(SecuritySuite.class)
@DisplayName("API8:2023 Security Misconfiguration: no verbose errors, strict CORS, security headers, no stray methods")
class Api08SecurityMisconfigurationTest {
  /** What an answer must never show: stack frames, exception names, the database's or framework's own words. */
  private static final Pattern INTERNALS = Pattern.compile("Exception|\\tat |\\bat [a-z]+\\.[a-z]+\\.|io\\.vertx"
      + "|org\\.postgresql|SQLSTATE|syntax error at|\\bpg_|duplicate key|jackson", Pattern.CASE_INSENSITIVE);
  static final IdOperations CONTRACT = new IdOperations();
  static TestServer server;
  static ApiClient api;
  static TestUser ann;
  static final Map<String, String> OWN = new HashMap<>();

  @BeforeAll
  static void start() {
    server = SecuritySuite.shared().server();
    api = SecuritySuite.shared().client().withoutContractCheck();
    ann = Users.register(api);
    String token = ann.accessToken();
    OWN.put("project", api.post("/api/v1/projects", token, new JsonObject().put("name", "p")).data().getString("id"));
    OWN.put("conversation", api.post("/api/v1/conversations", token, new JsonObject().put("projectId",
        OWN.get("project"))).data().getString("id"));
    OWN.put("message", api.post("/api/v1/conversations/" + OWN.get("conversation") + "/messages", token,
        new JsonObject().put("content", "hi").put("generate", false)).data().getJsonObject("message").getString("id"));
    OWN.put("webhook", api.post("/api/v1/webhooks", token, new JsonObject().put("url", "http://127.0.0.1:9/h")
        .put("events", new JsonArray().add("import.completed"))).data().getString("id"));
    OWN.put("user", ann.id().toString());
  }

  @Test
  @DisplayName("malformed bodies, ids and query values on every operation get a 4xx problem with no internals, "
      + "never a 5xx")
  void malformedInputIsAnsweredPlainly() {
    JsonObject paths = ApiContract.load().document().getJsonObject("paths");
    List<String> failures = new ArrayList<>();
    int sent = 0;
    for (String path : paths.fieldNames()) {
      JsonObject item = paths.getJsonObject(path);
      for (String method : List.of("get", "post", "put", "patch", "delete")) {
        JsonObject operation = item.getJsonObject(method);
        if (operation == null || path.startsWith("/health")) {
          continue;
        }
        HttpMethod verb = HttpMethod.valueOf(method.toUpperCase(Locale.ROOT));
        String uri = "/api/v1" + fill(path);
        for (Sample body : bodies(verb.name(), path)) {
          sent++;
          check(verb, uri, body.body(), body.malformed(), failures);
        }
        if (path.contains("{")) {
          for (String id : List.of("not-an-id", "..%2F..%2Fetc%2Fpasswd", "0", "%00", "%27%20OR%20%271%27%3D%271",
              "x".repeat(300),
              "00000000-0000-0000-0000-000000000000")) {
            sent++;
            check(verb, "/api/v1" + path.replaceAll("\\{[^}]+}", id), null, false, failures);
          }
        }
        for (String value : List.of("%00", "'%20OR%201=1--", "9".repeat(40), "-1", "%FF%FE", "[]")) {
          sent++;
          check(verb, uri + "?limit=" + value + "&cursor=" + value + "&q=" + value + "&from=" + value + "&projectId="
              + value + "&archived=" + value + "&leafId=" + value + "&userId=" + value + "&action=" + value, null,
              false, failures);
        }
      }
    }
    assertTrue(sent > 500, "malformed requests sent: " + sent);
    assertEquals(List.of(), failures, () -> failures.size() + " answers went wrong:\n" + String.join("\n", failures));
  }

  /** A body to send, and whether it must be refused (structurally wrong) or may pass (odd but well-formed). */
  private record Sample(Buffer body, boolean malformed) {}

  private static List<Sample> bodies(String method, String path) {
    List<Sample> bodies = new ArrayList<>();
    if (method.equals("GET") || method.equals("DELETE")) {
      return bodies;
    }
    for (Buffer malformed : List.of(Buffer.buffer("{not json"), Buffer.buffer("[]"), Buffer.buffer("null"),
        Buffer.buffer("\"text\""), Buffer.buffer("[".repeat(5000) + "]".repeat(5000)),
        Buffer.buffer(new byte[] {'{', '"', (byte) 0xC3, '"', ':', '1', '}'}),
        Buffer.buffer("{\"name\":" + "{\"x\":".repeat(3000) + "1" + "}".repeat(3001)))) {
      bodies.add(new Sample(malformed, true));
    }
    JsonObject sample = CONTRACT.sampleBody(method, path);
    if (sample != null && !sample.isEmpty()) {
      JsonObject withNul = sample.copy();
      JsonObject withHuge = sample.copy();
      for (String member : sample.fieldNames()) {
        if (sample.getValue(member) instanceof String) {
          withNul.put(member, "nul\u0000inside");
        }
        withHuge.put(member, new java.math.BigInteger("9".repeat(400)));
      }
      bodies.add(new Sample(withNul.toBuffer(), false));
      bodies.add(new Sample(withHuge.toBuffer(), true));
      bodies.add(new Sample(Buffer.buffer("{\"a\":1,\"a\":2," + sample.encode().substring(1)), false));
    }
    return bodies;
  }

  /** Fails the call when it answered 5xx, accepted a {@code malformed} body, or showed internals. */
  private static void check(HttpMethod method, String uri, Buffer body, boolean malformed, List<String> failures) {
    String call = method + " " + uri.substring(0, Math.min(uri.length(), 120)) + (body == null ? ""
        : " with " + body.toString().substring(0, Math.min(40, body.length())));
    Reply reply;
    try {
      reply = api.send(method, uri, ann.accessToken(), body);
    } catch (IllegalStateException transport) {
      failures.add(call + ": the connection failed: " + transport.getMessage());
      return;
    }
    if (reply.status() >= 500) {
      failures.add(call + " answered " + reply.status() + ": " + reply.body());
    } else if (malformed && reply.status() / 100 == 2) {
      failures.add(call + " accepted a malformed body: " + reply.body());
    } else if (reply.status() >= 400 && !String.valueOf(reply.header("Content-Type")).startsWith(
        "application/problem+json")) {
      failures.add(call + " answered " + reply.status() + " without a problem: " + reply.header("Content-Type"));
    }
    if (INTERNALS.matcher(reply.body()).find()) {
      failures.add(call + " shows internals: " + reply.body());
    }
  }

  private static String fill(String path) {
    String filled = path;
    java.util.regex.Matcher parameter = Pattern.compile("\\{([^}/]+)}").matcher(path);
    while (parameter.find()) {
      String before = path.substring(0, parameter.start() - 1);
      String fixture = IdOperations.PATH_FIXTURES.get(before.substring(before.lastIndexOf('/') + 1));
      filled = filled.replace(parameter.group(), OWN.getOrDefault(fixture, UUID.randomUUID().toString()));
    }
    return filled;
  }

  @Test
  @DisplayName("every answer carries the security headers and no-store, and no origin outside the list gets a CORS "
      + "grant, let alone '*' with credentials")
  void headersAndCors() {
    List<String> uris = new ArrayList<>(List.of("/api/v1/health", "/api/v1/no-such-route", "/elsewhere",
        "/api/v1/auth/profile", "/api/v1/projects", "/api/v1/conversations/" + OWN.get("conversation")));
    for (String uri : uris) {
      for (String token : new String[] {null, ann.accessToken()}) {
        for (String origin : List.of("https://evil.example", "null", "http://localhost:3000.evil.example")) {
          Reply reply = api.send(api.request(HttpMethod.GET, uri, token).putHeader("Origin", origin), null);
          assertEquals("nosniff", reply.header("X-Content-Type-Options"), uri);
          assertEquals("DENY", reply.header("X-Frame-Options"), uri);
          assertTrue(String.valueOf(reply.header("Content-Security-Policy")).contains("frame-ancestors 'none'"), uri);
          assertEquals("no-referrer", reply.header("Referrer-Policy"), uri);
          assertNull(reply.header("Access-Control-Allow-Origin"), uri + " grants " + origin);
          assertNull(reply.header("Access-Control-Allow-Credentials"), uri);
          assertNull(reply.header("X-Powered-By"), uri);
          String banner = reply.header("Server");
          assertTrue(banner == null || !banner.matches(".*\\d.*"), "no version banner: " + banner);
          if (uri.startsWith("/api/v1/")) {
            assertEquals("no-store", reply.header("Cache-Control"), uri);
          }
        }
      }
      Reply preflight = api.send(api.request(HttpMethod.OPTIONS, uri, null).putHeader("Origin", "https://evil.example")
          .putHeader("Access-Control-Request-Method", "DELETE").putHeader("Access-Control-Request-Headers",
              "Authorization"), null);
      assertNull(preflight.header("Access-Control-Allow-Origin"), uri);
      assertNull(preflight.header("Access-Control-Allow-Methods"), uri);
    }
    Reply listed = api.send(api.request(HttpMethod.GET, "/api/v1/health", null).putHeader("Origin",
        "http://localhost:3000"), null);
    assertEquals("http://localhost:3000", listed.header("Access-Control-Allow-Origin"),
        "a listed origin is granted by name, never '*'");
  }

  @Test
  @DisplayName("TRACE, TRACK and CONNECT are refused without echoing the request")
  void noDebugMethods() {
    for (String method : List.of("TRACE", "TRACK", "CONNECT")) {
      for (String uri : List.of("/api/v1/health", "/api/v1/auth/profile", "/api/v1/projects")) {
        Reply reply = api.send(api.request(HttpMethod.valueOf(method), uri, ann.accessToken())
            .putHeader("X-Probe", "echo-me"), null);
        assertTrue(reply.status() == 405 || reply.status() == 404 || reply.status() == 400 || reply.status() == 501,
            method + " " + uri + " answered " + reply.status());
        assertTrue(!reply.body().contains("echo-me") && !reply.body().contains(ann.accessToken()),
            method + " echoes nothing");
      }
    }
  }

  @Test
  @DisplayName("no account with a default password exists, and production will not start with default secrets")
  void noDefaults() {
    for (String email : List.of("admin@example.com", "admin@localhost", "root@localhost", "admin")) {
      for (String password : List.of("admin", "password", "changeme", "admin123")) {
        Reply reply = api.post("/api/v1/auth/login", null, new JsonObject().put("email", email)
            .put("password", password));
        assertTrue(reply.status() == 401 || reply.status() == 400, email + " / " + password + ": " + reply.status());
      }
    }
    Map<String, String> production = new HashMap<>(server.env());
    production.put("APP_PROFILE", "production");
    production.put("CMB_AUTH_BCRYPT_COST", "10");
    for (String secret : List.of("JWT_SECRET", "MASTER_KEY")) {
      Map<String, String> without = new HashMap<>(production);
      without.remove(secret);
      ConfigException refused = assertThrows(ConfigException.class,
          () -> ConfigReader.read(TestServer.packagedYaml(), without), secret + " is required in production");
      assertTrue(refused.getMessage().contains(secret), refused.getMessage());
    }
    Map<String, String> weak = new HashMap<>(production);
    weak.put("JWT_SECRET", "secret");
    assertThrows(ConfigException.class, () -> ConfigReader.read(TestServer.packagedYaml(), weak),
        "a short JWT secret is refused");
  }
}
