package io.claudememory.security;

import static io.claudememory.support.Problems.assertProblem;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.claudememory.support.ApiClient;
import io.claudememory.support.ApiClient.Reply;
import io.claudememory.support.TestServer;
import io.claudememory.support.Users;
import io.claudememory.support.Users.TestUser;
import io.claudememory.support.WsClient;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServer;
import io.vertx.core.json.JsonObject;
import java.nio.charset.StandardCharsets;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.util.Base64;
import java.util.HashMap;
import java.util.LinkedHashMap;
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
 * OWASP API2:2023, through REST and the WebSocket. The node signs with RS256, so the RFC 8725 checklist of
 * protocols.md §6.1 applies whole: each forged token below is signed correctly (with the node's private key, or the
 * attacker's own where the header names a key) and wrong in exactly one way, and the first test proves that a token
 * forged with everything right is accepted. Sign-in is limited to {@value #AUTH_LIMIT} attempts per client address
 * (the node trusts one proxy, so each test speaks from addresses of its own through X-Forwarded-For).
 */
@ExtendWith(SecuritySuite.class)
@DisplayName("API2:2023 Broken Authentication: only current, genuine tokens of live sign-ins are accepted")
class Api02BrokenAuthenticationTest {
  static final int AUTH_LIMIT = 30;
  static TestServer server;
  static ApiClient api;
  static KeyPair keys;
  static String publicPem;
  static TestUser ann;
  static Vertx attackerVertx;
  static HttpServer attacker;
  static final AtomicInteger attackerHits = new AtomicInteger();

  @BeforeAll
  static void start() throws Exception {
    KeyPairGenerator generator = KeyPairGenerator.getInstance("RSA");
    generator.initialize(2048);
    keys = generator.generateKeyPair();
    publicPem = Jwts.pem("PUBLIC KEY", keys.getPublic().getEncoded());
    Map<String, String> env = new HashMap<>();
    env.put("JWT_SECRET", "");
    env.put("JWT_PRIVATE_KEY", Jwts.pem("PRIVATE KEY", keys.getPrivate().getEncoded()));
    env.put("JWT_PUBLIC_KEY", publicPem);
    env.put("CMB_RATE_LIMIT_TRUSTED_PROXIES", "1");
    env.put("CMB_RATE_LIMIT_AUTH_LIMIT", Integer.toString(AUTH_LIMIT));
    env.put("CMB_RATE_LIMIT_AUTH_WINDOW_SECONDS", "3600");
    server = SecuritySuite.start(env);
    api = SecuritySuite.observe(server.client());
    ann = Users.register(api);
    attackerVertx = Vertx.vertx();
    attacker = attackerVertx.createHttpServer().requestHandler(req -> {
      attackerHits.incrementAndGet();
      req.response().putHeader("content-type", "application/json").end("{\"keys\":[]}");
    }).listen(0, "127.0.0.1").await(10, TimeUnit.SECONDS);
  }

  @AfterAll
  static void stop() throws Exception {
    if (server != null) {
      server.close();
    }
    attackerVertx.close().await(10, TimeUnit.SECONDS);
  }

  @Test
  @DisplayName("a token forged with every claim right and the node's own key is accepted (the forger is sound)")
  void forgerIsSound() {
    assertEquals("RS256", Jwts.headerOf(ann.accessToken()).getString("alg"), "the node signs with its RSA key");
    String forged = Jwts.rs256(Jwts.header("RS256"), claims(), keys.getPrivate());
    assertEquals(200, api.get("/api/v1/auth/profile", forged).status());
    assertNull(WsClient.refusal(server.app().vertx(), server.port(), "/ws?token=" + forged));
  }

  @Test
  @DisplayName("the RFC 8725 attacks (alg none, HS256 keyed with the public key, exp, nbf, aud, iss, kid, jku, x5u, "
      + "jwk, another kind of token) are all refused, by REST and by the WebSocket, and no key URL is fetched")
  void forgedTokensRefused() throws Exception {
    long now = System.currentTimeMillis() / 1000;
    KeyPairGenerator generator = KeyPairGenerator.getInstance("RSA");
    generator.initialize(2048);
    KeyPair attackers = generator.generateKeyPair();
    String attackerUrl = "http://127.0.0.1:" + attacker.actualPort();
    JsonObject rs256 = Jwts.header("RS256");
    String der = Base64.getEncoder().encodeToString(keys.getPublic().getEncoded());
    Map<String, String> attacks = new LinkedHashMap<>();
    attacks.put("alg none", Jwts.unsigned(Jwts.header("none"), claims()));
    attacks.put("alg None", Jwts.unsigned(Jwts.header("None"), claims()));
    attacks.put("HS256 keyed with the public key's PEM", Jwts.hs256(Jwts.header("HS256"), claims(),
        publicPem.getBytes(StandardCharsets.US_ASCII)));
    attacks.put("HS256 keyed with the public key's base64", Jwts.hs256(Jwts.header("HS256"), claims(),
        der.getBytes(StandardCharsets.US_ASCII)));
    attacks.put("HS256 keyed with the public key's DER", Jwts.hs256(Jwts.header("HS256"), claims(),
        keys.getPublic().getEncoded()));
    attacks.put("expired", Jwts.rs256(rs256, claims().put("iat", now - 1200).put("exp", now - 600),
        keys.getPrivate()));
    attacks.put("not valid before a future nbf", Jwts.rs256(rs256, claims().put("nbf", now + 600),
        keys.getPrivate()));
    attacks.put("another audience", Jwts.rs256(rs256, claims().put("aud", "another-api"), keys.getPrivate()));
    attacks.put("another issuer", Jwts.rs256(rs256, claims().put("iss", "https://attacker.example"),
        keys.getPrivate()));
    attacks.put("an unknown kid", Jwts.rs256(rs256.copy().put("kid", "key-2"), claims(), keys.getPrivate()));
    attacks.put("a kid walking the file system", Jwts.rs256(rs256.copy().put("kid", "../../../../../../dev/null"),
        claims(), keys.getPrivate()));
    attacks.put("a kid carrying SQL", Jwts.rs256(rs256.copy().put("kid", "x' UNION SELECT 'secret' --"), claims(),
        keys.getPrivate()));
    attacks.put("jku naming the attacker's key set", Jwts.rs256(rs256.copy().put("jku", attackerUrl + "/jwks.json"),
        claims(), attackers.getPrivate()));
    attacks.put("x5u naming the attacker's certificate", Jwts.rs256(rs256.copy().put("x5u", attackerUrl
        + "/cert.pem"), claims(), attackers.getPrivate()));
    attacks.put("jwk embedding the attacker's key", Jwts.rs256(rs256.copy().put("jwk", new JsonObject()
        .put("kty", "RSA").put("e", "AQAB").put("n", Jwts.b64(((java.security.interfaces.RSAPublicKey)
            attackers.getPublic()).getModulus().toByteArray()))), claims(), attackers.getPrivate()));
    attacks.put("signed by another key", Jwts.rs256(rs256, claims(), attackers.getPrivate()));
    attacks.put("a refresh claim (use: refresh)", Jwts.rs256(rs256, claims().put("use", "refresh"),
        keys.getPrivate()));
    JsonObject noUse = claims();
    noUse.remove("use");
    attacks.put("no use claim (an id token, say)", Jwts.rs256(rs256, noUse, keys.getPrivate()));
    attacks.put("a user that does not exist", Jwts.rs256(rs256, claims().put("sub", java.util.UUID.randomUUID()
        .toString()), keys.getPrivate()));
    attacks.put("the refresh token itself", ann.refreshToken());
    attacks.put("an API key that was never issued", "cmb_AAAAAAAA_" + "B".repeat(43));
    for (Map.Entry<String, String> attack : attacks.entrySet()) {
      Reply reply = api.get("/api/v1/auth/profile", attack.getValue());
      assertProblem(reply, 401);
      assertTrue(String.valueOf(reply.header("WWW-Authenticate")).startsWith("Bearer"), attack.getKey());
      assertEquals(401, reply.status(), attack.getKey());
      assertNotNull(WsClient.refusal(server.app().vertx(), server.port(), "/ws?token=" + attack.getValue()),
          attack.getKey() + " opens no socket");
      try (WsClient socket = WsClient.connect(server.app().vertx(), server.port(), null)) {
        socket.send("authenticate", new JsonObject().put("token", attack.getValue()));
        assertEquals(4401, socket.closeCode(), attack.getKey() + " does not authenticate a socket");
      }
    }
    assertEquals(0, attackerHits.get(), "no key URL named by a token was fetched");
  }

  @Test
  @DisplayName("a credential in the URL is not accepted by REST routes (tokens stay out of URLs and their logs)")
  void noTokensInUrls() {
    ApiClient raw = api.withoutContractCheck();
    for (String parameter : List.of("access_token", "token", "api_key")) {
      Reply reply = raw.get("/api/v1/auth/profile?" + parameter + "=" + ann.accessToken(), null);
      assertEquals(401, reply.status(), parameter + " in the query is not a credential");
    }
  }

  @Test
  @DisplayName("after logout neither the refresh token nor the access token of that sign-in works; other sign-ins do")
  void logoutEndsTheSignIn() {
    TestUser bob = Users.register(api);
    JsonObject other = login(bob.email(), Users.PASSWORD, null).data();
    assertEquals(204, api.post("/api/v1/auth/logout", null, new JsonObject().put("refreshToken",
        bob.refreshToken())).status());
    assertProblem(refresh(bob.refreshToken()), 401);
    assertProblem(api.get("/api/v1/auth/profile", bob.accessToken()), 401);
    assertNotNull(WsClient.refusal(server.app().vertx(), server.port(), "/ws?token=" + bob.accessToken()),
        "the ended sign-in's token opens no socket");
    assertEquals(200, api.get("/api/v1/auth/profile", other.getString("accessToken")).status(),
        "another sign-in of the same account is not affected");
    assertEquals(200, refresh(other.getString("refreshToken")).status());
  }

  @Test
  @DisplayName("after a password change every earlier token of the account is refused, and only the new password "
      + "signs in")
  void passwordChangeEndsEverySignIn() {
    TestUser carol = Users.register(api);
    JsonObject second = login(carol.email(), Users.PASSWORD, null).data();
    String newPassword = "a brand new passphrase " + java.util.UUID.randomUUID();
    Reply changed = api.post("/api/v1/auth/password", carol.accessToken(), new JsonObject()
        .put("currentPassword", Users.PASSWORD).put("newPassword", newPassword));
    assertEquals(200, changed.status(), changed.body());
    for (String old : List.of(carol.accessToken(), second.getString("accessToken"))) {
      assertProblem(api.get("/api/v1/auth/profile", old), 401);
    }
    for (String old : List.of(carol.refreshToken(), second.getString("refreshToken"))) {
      assertProblem(refresh(old), 401);
    }
    assertEquals(200, api.get("/api/v1/auth/profile", changed.data().getString("accessToken")).status());
    assertProblem(login(carol.email(), Users.PASSWORD, null), 401);
    assertEquals(200, login(carol.email(), newPassword, null).status());
  }

  @Test
  @DisplayName("a refresh token used twice revokes its whole sign-in (RFC 9700 §4.14), is audited, and spares others")
  void refreshReuseRevokesTheFamily() {
    TestUser dave = Users.register(api);
    JsonObject rotated = refresh(dave.refreshToken()).data();
    assertProblem(refresh(dave.refreshToken()), 401);
    assertProblem(refresh(rotated.getString("refreshToken")), 401);
    assertProblem(api.get("/api/v1/auth/profile", rotated.getString("accessToken")), 401);
    assertProblem(api.get("/api/v1/auth/profile", dave.accessToken()), 401);

    JsonObject again = login(dave.email(), Users.PASSWORD, null).data();
    Reply audit = api.get("/api/v1/audit?action=auth.refresh_reuse", again.getString("accessToken"));
    assertEquals(200, audit.status(), audit.body());
    assertEquals(1, audit.list().size(), "the reuse is in the account's trail: " + audit.body());
    assertEquals(200, refresh(again.getString("refreshToken")).status(), "a new sign-in is not affected");
  }

  @Test
  @DisplayName("of two refreshes racing with one token, at most one gets a new pair")
  void concurrentRefreshes() {
    TestUser erin = Users.register(api);
    ApiClient raw = api;
    List<Future<Integer>> racing = List.of(0, 1).stream().map(i -> raw.request(HttpMethod.POST,
            "/api/v1/auth/refresh", null)
        .sendJsonObject(new JsonObject().put("refreshToken", erin.refreshToken())).map(r -> r.statusCode()))
        .toList();
    List<Integer> statuses = racing.stream().map(f -> {
      try {
        return f.await(30, TimeUnit.SECONDS);
      } catch (Exception e) {
        throw new IllegalStateException(e);
      }
    }).toList();
    assertTrue(statuses.stream().filter(s -> s == 200).count() <= 1, "one token, one rotation: " + statuses);
    assertTrue(statuses.stream().allMatch(s -> s == 200 || s == 401), statuses.toString());
  }

  @Test
  @DisplayName("password guessing from one address is stopped with 429 and Retry-After, even for the right "
      + "password, while the owner signs in from elsewhere")
  void bruteForceIsRateLimited() {
    TestUser frank = Users.register(api);
    String attackerAddress = "203.0.113.77";
    for (int i = 0; i < AUTH_LIMIT; i++) {
      Reply reply = login(frank.email(), "guess number " + i, attackerAddress);
      assertEquals(401, reply.status(), "guess " + i + ": " + reply.body());
    }
    Reply stopped = login(frank.email(), Users.PASSWORD, attackerAddress);
    assertProblem(stopped, 429);
    assertTrue(Long.parseLong(stopped.header("Retry-After")) > 0, "says when to try again");
    assertTrue(!stopped.body().contains("accessToken"), "the right password is not confirmed while limited");
    assertEquals(200, login(frank.email(), Users.PASSWORD, "198.51.100.23").status(),
        "the owner, elsewhere, is not locked out");
  }

  @Test
  @DisplayName("a wrong password and an unknown email get the same answer, so accounts cannot be enumerated")
  void noAccountEnumeration() {
    Reply wrongPassword = login(ann.email(), "not the password at all", "203.0.113.78");
    Reply unknownEmail = login("nobody-" + java.util.UUID.randomUUID() + "@example.com", "not the password at all",
        "203.0.113.78");
    assertProblem(wrongPassword, 401);
    assertProblem(unknownEmail, 401);
    assertEquals(wrongPassword.json().getString("detail"), unknownEmail.json().getString("detail"));
  }

  @Test
  @DisplayName("a revoked API key stops working at once")
  void revokedApiKey() {
    Reply key = api.post("/api/v1/api-keys", ann.accessToken(), new JsonObject().put("name", "ci"));
    String secret = key.data().getString("key");
    assertEquals(200, api.get("/api/v1/auth/profile", secret).status());
    assertEquals(204, api.delete("/api/v1/api-keys/" + key.data().getString("id"), ann.accessToken()).status());
    assertProblem(api.get("/api/v1/auth/profile", secret), 401);
  }

  /** Ann's real claims: a token forged from them with the node's key is as good as hers. */
  private static JsonObject claims() {
    return Jwts.claimsOf(ann.accessToken()).copy();
  }

  private static Reply login(String email, String password, String address) {
    var request = api.request(HttpMethod.POST, "/api/v1/auth/login", null);
    if (address != null) {
      request.putHeader("X-Forwarded-For", address);
    }
    return api.send(request, new JsonObject().put("email", email).put("password", password).toBuffer());
  }

  private static Reply refresh(String token) {
    return api.post("/api/v1/auth/refresh", null, new JsonObject().put("refreshToken", token));
  }
}
