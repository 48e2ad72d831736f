package io.claudememory.security;

import static io.claudememory.support.Problems.assertProblem;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.claudememory.support.ApiClient;
import io.claudememory.support.ApiClient.Reply;
import io.claudememory.support.Jobs;
import io.claudememory.support.TestDatabase;
import io.claudememory.support.TestServer;
import io.claudememory.support.Users;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonObject;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * OWASP API6:2023: flows that are cheap to call and costly to serve, or valuable to abuse in bulk. Signing up (each
 * account gets a database of its own) is limited per client address; starting exports and imports (each reads or
 * writes a whole account and keeps a file) per account, whichever credential starts them. The node trusts one proxy,
 * so each test speaks from client addresses of its own.
 */
@ExtendWith(SecuritySuite.class)
@DisplayName("API6:2023 Unrestricted Access to Sensitive Business Flows: scripted sign-ups and mass exports are "
    + "throttled")
class Api06SensitiveBusinessFlowsTest {
  static final int SIGN_UPS = 3;
  static final int JOBS = 2;
  static TestServer server;
  static ApiClient api;

  @BeforeAll
  static void start() {
    server = SecuritySuite.start(Map.of("CMB_RATE_LIMIT_TRUSTED_PROXIES", "1",
        "CMB_RATE_LIMIT_AUTH_LIMIT", Integer.toString(SIGN_UPS), "CMB_RATE_LIMIT_AUTH_WINDOW_SECONDS", "3600",
        "CMB_RATE_LIMIT_JOBS_LIMIT", Integer.toString(JOBS), "CMB_RATE_LIMIT_JOBS_WINDOW_SECONDS", "3600"));
    api = SecuritySuite.observe(server.client());
  }

  @AfterAll
  static void stop() {
    if (server != null) {
      server.close();
    }
  }

  @Test
  @DisplayName("sign-ups from one address past the limit are refused with 429 and create no account or database; "
      + "another address still signs up")
  void scriptedSignUpsAreThrottled() throws Exception {
    String script = "203.0.113.61";
    for (int i = 0; i < SIGN_UPS; i++) {
      assertEquals(201, register(script, "bot-" + i + "-" + UUID.randomUUID() + "@example.com").status());
    }
    long accounts = count("SELECT count(*) FROM users");
    long databases = count("SELECT count(*) FROM pg_database WHERE datname LIKE '" + server.scope().tenantPrefix()
        + "%'");
    String refusedEmail = "bot-refused-" + UUID.randomUUID() + "@example.com";
    Reply refused = register(script, refusedEmail);
    assertProblem(refused, 429);
    assertTrue(Long.parseLong(refused.header("Retry-After")) > 0);
    assertEquals("\"auth\";q=" + SIGN_UPS + ";w=3600", refused.header("RateLimit-Policy"));
    assertEquals(accounts, count("SELECT count(*) FROM users"), "no account was created");
    assertEquals(databases, count("SELECT count(*) FROM pg_database WHERE datname LIKE '"
        + server.scope().tenantPrefix() + "%'"), "no tenant database was created");
    assertEquals(201, register("198.51.100.61", refusedEmail).status(), "a person elsewhere is not affected");
  }

  @Test
  @DisplayName("exports and imports past the hourly limit are refused with 429, per account: an API key of the "
      + "account does not get a fresh allowance")
  void massExportsAreThrottled() {
    Reply registered = register("203.0.113.62", "exporter-" + UUID.randomUUID() + "@example.com");
    String token = registered.data().getString("accessToken");
    for (int i = 0; i < JOBS; i++) {
      Reply export = api.post("/api/v1/export/create", token, new JsonObject());
      assertEquals(202, export.status(), export.body());
      Jobs.awaitFinishedAt(api, token, "/api/v1/export/jobs/" + export.data().getString("id"), 30);
    }
    Reply refused = api.post("/api/v1/export/create", token, new JsonObject());
    assertProblem(refused, 429);
    assertEquals("\"jobs\";q=" + JOBS + ";w=3600", refused.header("RateLimit-Policy"));
    assertProblem(api.upload("/api/v1/export/import", token, "c.json", Buffer.buffer("[]"), null), 429);
    String key = api.post("/api/v1/api-keys", token, new JsonObject().put("name", "another way in")).data()
        .getString("key");
    assertProblem(api.post("/api/v1/export/create", key, new JsonObject()), 429);
    assertEquals(200, api.get("/api/v1/projects", key).status(), "other routes are not limited by it");
  }

  private static Reply register(String address, String email) {
    return api.send(api.request(HttpMethod.POST, "/api/v1/auth/register", null).putHeader("X-Forwarded-For", address),
        new JsonObject().put("email", email).put("password", Users.PASSWORD).toBuffer());
  }

  private static long count(String sql) throws Exception {
    try (Connection c = TestDatabase.connect(sql.contains("pg_database") ? TestDatabase.server() : server.master());
         Statement s = c.createStatement(); ResultSet rs = s.executeQuery(sql)) {
      rs.next();
      return rs.getLong(1);
    }
  }
}
