package io.claudememory.platform.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.claudememory.support.ApiClient;
import io.claudememory.support.ApiClient.Reply;
import io.claudememory.support.TestServer;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonObject;
import java.util.Map;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

@DisplayName("Hardening: security headers on every answer, CORS for listed origins only, HSTS in production")
class HardeningTest {
  static final String ORIGIN = "https://app.example.com";
  @RegisterExtension
  static final TestServer server = TestServer.start(Map.of("ALLOWED_ORIGINS", ORIGIN + ",http://localhost:3000"));
  static final ApiClient api = server.client();

  @Test
  @DisplayName("successes, client errors and unknown routes all carry the security headers, without HSTS in dev")
  void headersEverywhere() {
    for (Reply reply : new Reply[] {api.get("/api/v1/health", null), api.get("/api/v1/auth/profile", null),
        api.get("/api/v1/no-such-thing", null), api.get("/elsewhere", null),
        api.post("/api/v1/auth/login", null, new JsonObject())}) {
      assertEquals("nosniff", reply.header("X-Content-Type-Options"), reply.body());
      assertEquals("DENY", reply.header("X-Frame-Options"));
      assertEquals("no-referrer", reply.header("Referrer-Policy"));
      assertEquals(SecurityHeaders.API_CSP, reply.header("Content-Security-Policy"));
      assertTrue(reply.header("Content-Security-Policy").contains("frame-ancestors 'none'"));
      assertNull(reply.header("Strict-Transport-Security"), "no HSTS outside production");
    }
    assertEquals("no-store", api.get("/api/v1/auth/profile", null).header("Cache-Control"));
  }

  @Test
  @DisplayName("the docs page and its assets get a CSP allowing its own scripts and styles, no inline script")
  void docsPolicy() {
    for (String path : new String[] {"/api/docs", "/api/docs/", "/api/docs/initializer.js"}) {
      String csp = api.get(path, null).header("Content-Security-Policy");
      assertEquals(SecurityHeaders.DOCS_CSP, csp, path);
      assertTrue(csp.contains("script-src 'self';"), "scripts from files on this origin only: " + csp);
      assertTrue(!csp.contains("unsafe-eval") && !csp.split("script-src")[1].split(";")[0].contains("unsafe-inline"),
          "no inline or eval'd script: " + csp);
    }
  }

  @Test
  @DisplayName("a listed origin gets CORS with credentials; any other origin gets no CORS grant")
  void cors() {
    Reply preflight = api.send(api.request(HttpMethod.OPTIONS, "/api/v1/auth/profile", null)
        .putHeader("Origin", ORIGIN).putHeader("Access-Control-Request-Method", "GET")
        .putHeader("Access-Control-Request-Headers", "Authorization"), null);
    assertTrue(preflight.status() < 300, "preflight accepted: " + preflight.status());
    assertEquals(ORIGIN, preflight.header("Access-Control-Allow-Origin"));
    assertEquals("true", preflight.header("Access-Control-Allow-Credentials"));

    Reply simple = api.send(api.request(HttpMethod.GET, "/api/v1/health", null).putHeader("Origin", ORIGIN), null);
    assertEquals(ORIGIN, simple.header("Access-Control-Allow-Origin"));
    assertTrue(String.valueOf(simple.header("Access-Control-Expose-Headers")).contains("RateLimit"),
        "clients can read the rate-limit headers: " + simple.header("Access-Control-Expose-Headers"));

    for (String foreign : new String[] {"https://evil.example", "null", "https://app.example.com.evil.example"}) {
      Reply refused = api.withoutContractCheck().send(api.request(HttpMethod.OPTIONS, "/api/v1/auth/profile", null)
          .putHeader("Origin", foreign).putHeader("Access-Control-Request-Method", "GET"), null);
      assertEquals(403, refused.status(), foreign + ": refused, as a client error");
      assertNull(refused.header("Access-Control-Allow-Origin"), foreign + " got " + refused.headers());
      assertNull(refused.header("Access-Control-Allow-Credentials"), foreign);
      // A refused origin is a cross-cutting 403 that no single operation documents.
      ApiClient raw = api.withoutContractCheck();
      Reply get = raw.send(raw.request(HttpMethod.GET, "/api/v1/health", null).putHeader("Origin", foreign), null);
      assertNotEquals("*", get.header("Access-Control-Allow-Origin"));
      assertNull(get.header("Access-Control-Allow-Origin"), foreign);
    }
  }

  @Test
  @DisplayName("a same-origin request (the docs page calling the API) is served, not refused as cross-origin")
  void sameOrigin() {
    String self = "http://127.0.0.1:" + server.port();
    Reply reply = api.send(api.request(HttpMethod.POST, "/api/v1/auth/login", null).putHeader("Origin", self),
        new JsonObject().put("email", "nobody@example.com").put("password", "wrong password").toBuffer());
    assertEquals(401, reply.status(), "handled by the route: " + reply.body());
  }

  @Test
  @DisplayName("in production every answer carries HSTS")
  void hstsInProduction() {
    try (TestServer prod = TestServer.start(Map.of("APP_PROFILE", "production", "CMB_AUTH_BCRYPT_COST", "10"))) {
      Reply reply = prod.client().get("/api/v1/health", null);
      assertEquals(SecurityHeaders.HSTS, reply.header("Strict-Transport-Security"));
      assertEquals(SecurityHeaders.HSTS, prod.client().get("/nowhere", null).header("Strict-Transport-Security"));
    }
  }
}
