package io.claudememory.security;

import static io.claudememory.support.Problems.assertFieldError;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.claudememory.platform.net.AddressGuard;
import io.claudememory.support.ApiClient;
import io.claudememory.support.ApiClient.Reply;
import io.claudememory.support.Awaits;
import io.claudememory.support.ExternalDatabases;
import io.claudememory.support.TestDatabase;
import io.claudememory.support.TestServer;
import io.claudememory.support.Users;
import io.claudememory.support.Users.TestUser;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.net.InetAddress;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * OWASP API7:2023 with the SSRF list of protocols.md §6.5, on a node in the production profile (which refuses
 * private and loopback targets by default). Every hostile target is tried where a user can name a host: webhook
 * URLs (created and changed) and bring-your-own database hosts (as fields and as a URL, added and tested). A host
 * name that resolves to a private address is {@code localhost} and this machine's own name (offline, no public DNS
 * name can be relied on; AddressGuardTest covers the resolver itself). Redirects are tried on the development node
 * of the suite, where the first hop is allowed: the second must never be followed.
 */
@ExtendWith(SecuritySuite.class)
@DisplayName("API7:2023 Server Side Request Forgery: no user-supplied URL or host reaches an internal address")
class Api07ServerSideRequestForgeryTest {
  /** Hosts that must be refused, in every spelling protocols.md §6.5 lists. */
  static final List<String> HOSTS = List.of("169.254.169.254", "127.0.0.1", "[::1]", "0x7f000001", "2130706433",
      "0177.0.0.1", "127.1", "0", "0.0.0.0", "10.0.0.5", "172.16.3.4", "192.168.1.1", "100.64.0.1", "[fd00::1]",
      "[fe80::1]", "[::ffff:127.0.0.1]", "[::ffff:a9fe:a9fe]", "[64:ff9b::a9fe:a9fe]", "metadata.google.internal",
      "localhost", "LOCALHOST.");
  static TestServer server;
  static ApiClient api;
  static TestUser ann;
  static Vertx vertx;
  static HttpServer internal;
  static final AtomicInteger internalHits = new AtomicInteger();

  @BeforeAll
  static void start() throws Exception {
    server = SecuritySuite.start(Map.of("APP_PROFILE", "production", "CMB_AUTH_BCRYPT_COST", "10"));
    api = SecuritySuite.observe(server.client());
    ann = Users.register(api);
    vertx = Vertx.vertx();
    internal = vertx.createHttpServer().requestHandler(req -> {
      internalHits.incrementAndGet();
      req.response().end("internal secrets");
    }).listen(0, "127.0.0.1").await(10, TimeUnit.SECONDS);
  }

  @AfterAll
  static void stop() throws Exception {
    if (server != null) {
      server.close();
    }
    vertx.close().await(10, TimeUnit.SECONDS);
  }

  /** The hosts above, and this machine's own name when it resolves to a private address (it usually does). */
  static List<String> hosts() throws Exception {
    List<String> hosts = new ArrayList<>(HOSTS);
    String own = InetAddress.getLocalHost().getHostName();
    if (AddressGuard.classify(InetAddress.getByName(own)) != AddressGuard.Verdict.PUBLIC) {
      hosts.add(own);
    }
    return hosts;
  }

  @Test
  @DisplayName("the production profile refuses private targets unless an operator allows them")
  void productionRefusesPrivateTargets() {
    assertTrue(server.config().production());
    assertFalse(server.config().database().allowPrivateHosts());
    assertFalse(server.config().webhooks().allowPrivateTargets());
  }

  @Test
  @DisplayName("a webhook cannot be created for, or moved to, an internal address, however spelled, nor use another "
      + "scheme or carry credentials")
  void webhookTargetsAreChecked() throws Exception {
    Reply created = api.post("/api/v1/webhooks", ann.accessToken(), hook("http://8.8.8.8/hook"));
    assertEquals(201, created.status(), "a public address is accepted: " + created.body());
    String id = created.data().getString("id");
    List<String> urls = new ArrayList<>();
    for (String host : hosts()) {
      urls.add("http://" + host + ":" + internal.actualPort() + "/latest/meta-data/");
      urls.add("https://" + host + "/");
    }
    urls.addAll(List.of("file:///etc/passwd", "gopher://127.0.0.1:6379/_FLUSHALL", "ftp://10.0.0.1/",
        "http://user:password@8.8.8.8/", "http:///nohost", "http://8.8.8.8:99999/"));
    for (String url : urls) {
      assertFieldError(api.post("/api/v1/webhooks", ann.accessToken(), hook(url)), "url");
      assertFieldError(api.patch("/api/v1/webhooks/" + id, ann.accessToken(), new JsonObject().put("url", url)),
          "url");
    }
    assertEquals(1, api.get("/api/v1/webhooks", ann.accessToken()).list().size(), "nothing was added");
    assertEquals("http://8.8.8.8/hook", api.get("/api/v1/webhooks/" + id, ann.accessToken()).data()
        .getString("url"), "nothing was changed");
    assertEquals(0, internalHits.get(), "the internal server was never reached");
  }

  @Test
  @DisplayName("a webhook whose host turns internal after it was saved (DNS rebinding) is checked again on every "
      + "delivery and never reaches it")
  void deliveriesCheckAgain() throws Exception {
    Reply created = api.post("/api/v1/webhooks", ann.accessToken(), hook("http://8.8.8.8/rebound"));
    String id = created.data().getString("id");
    try (Connection c = TestDatabase.connect(server.master());
         PreparedStatement s = c.prepareStatement("UPDATE webhooks SET url = ? WHERE id = ?::uuid")) {
      s.setString(1, "http://127.0.0.1:" + internal.actualPort() + "/rebound");
      s.setString(2, id);
      assertEquals(1, s.executeUpdate());
    }
    assertEquals(202, api.post("/api/v1/webhooks/" + id + "/test", ann.accessToken(), null).status());
    Awaits.until(() -> {
      JsonObject delivery = api.get("/api/v1/webhooks/" + id + "/deliveries", ann.accessToken()).list()
          .getJsonObject(0);
      return !delivery.getJsonArray("attemptLog").isEmpty();
    }, 20_000, "the delivery's attempt was recorded");
    JsonObject delivery = api.get("/api/v1/webhooks/" + id + "/deliveries", ann.accessToken()).list()
        .getJsonObject(0);
    assertTrue(delivery.getString("lastError").contains("private or loopback"), delivery.encode());
    assertEquals(0, internalHits.get(), "the internal server was never reached");
  }

  @Test
  @DisplayName("a database host that is internal, however spelled or resolved, is refused when added and when "
      + "tested, in fields and in a URL, without echoing the password")
  void databaseHostsAreChecked() throws Exception {
    ExternalDatabases.External db = ExternalDatabases.create(server.scope());
    for (String host : hosts()) {
      String bare = host.startsWith("[") ? host.substring(1, host.length() - 1) : host;
      JsonObject fields = db.body("byo").put("host", bare);
      Reply added = api.post("/api/v1/database", ann.accessToken(), fields);
      assertFieldError(added, "host");
      assertFalse(added.body().contains(db.password()), "the refusal does not echo the password");
      assertFieldError(api.post("/api/v1/database/test", ann.accessToken(), fields), "host");
      JsonObject url = new JsonObject().put("name", "byo-url").put("url", "postgresql://" + db.target().user() + ":"
          + db.password() + "@" + host + ":5432/" + db.target().database());
      Reply byUrl = api.post("/api/v1/database", ann.accessToken(), url);
      assertFieldError(byUrl, "url");
      assertFalse(byUrl.body().contains(db.password()), "the refusal does not echo the password");
      assertFieldError(api.post("/api/v1/database/test", ann.accessToken(), url), "url");
    }
    assertEquals(1, api.get("/api/v1/database", ann.accessToken()).list().size(), "only the managed database");
  }

  @Test
  @DisplayName("a webhook endpoint that redirects to an internal address is not followed: the delivery fails")
  void redirectsAreNotFollowed() {
    SecuritySuite.Shared shared = SecuritySuite.shared();
    ApiClient dev = shared.client();
    TestUser bob = Users.register(dev);
    int before = internalHits.get();
    HttpServer redirecting = vertx.createHttpServer().requestHandler(req -> req.response().setStatusCode(302)
        .putHeader("Location", req.path().equals("/meta") ? "http://169.254.169.254/latest/meta-data/iam/"
            : "http://127.0.0.1:" + internal.actualPort() + "/admin").end())
        .listen(0, "127.0.0.1").await();
    try {
      for (String path : List.of("/meta", "/internal")) {
        Reply created = dev.post("/api/v1/webhooks", bob.accessToken(), hook("http://127.0.0.1:"
            + redirecting.actualPort() + path));
        assertEquals(201, created.status(), "the development node allows a loopback endpoint: " + created.body());
        String id = created.data().getString("id");
        assertEquals(202, dev.post("/api/v1/webhooks/" + id + "/test", bob.accessToken(), null).status());
        Awaits.until(() -> !dev.get("/api/v1/webhooks/" + id + "/deliveries", bob.accessToken()).list()
            .getJsonObject(0).getJsonArray("attemptLog").isEmpty(), 20_000, "the delivery's attempt was recorded");
        JsonObject delivery = dev.get("/api/v1/webhooks/" + id + "/deliveries", bob.accessToken()).list()
            .getJsonObject(0);
        assertEquals(302, delivery.getInteger("lastStatusCode"), delivery.encode());
        assertTrue(!"succeeded".equals(delivery.getString("status")), "a redirect is a failure: " + delivery);
      }
    } finally {
      redirecting.close().await();
    }
    assertEquals(before, internalHits.get(), "the redirect's target was never requested");
  }

  private static JsonObject hook(String url) {
    return new JsonObject().put("url", url).put("events", new JsonArray().add("import.completed"));
  }
}
