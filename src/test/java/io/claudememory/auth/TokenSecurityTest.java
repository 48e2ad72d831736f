package io.claudememory.auth;

import static io.claudememory.support.Problems.assertProblem;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.claudememory.support.ApiClient;
import io.claudememory.support.TestServer;
import io.claudememory.support.Users;
import io.claudememory.support.Users.TestUser;
import io.vertx.core.json.JsonObject;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/**
 * RFC 8725 checks through the API. Tokens are forged here with the server's own secret where the attack needs a
 * valid signature, so each refusal is for the one property under test; the first test proves the forger is right.
 */
@DisplayName("Access tokens: only well-formed, current, correctly signed tokens for this API are accepted")
class TokenSecurityTest {
  static TestServer server;
  static ApiClient api;
  static TestUser ann;

  @BeforeAll
  static void start() {
    server = TestServer.start();
    api = server.client();
    ann = Users.register(api);
  }

  @AfterAll
  static void stop() {
    server.close();
  }

  @Test
  @DisplayName("a token forged with every right claim and the real secret is accepted (the forger is sound)")
  void forgerIsSound() {
    assertEquals(200, profile(sign(header("HS256"), claims(), TestServer.SHARED_JWT_SECRET)));
  }

  @Test
  @DisplayName("alg none is refused")
  void algNone() {
    String token = b64(header("none").encode()) + "." + b64(claims().encode()) + ".";
    assertEquals(401, profile(token));
  }

  @Test
  @DisplayName("an expired token is refused")
  void expired() {
    long now = System.currentTimeMillis() / 1000;
    assertEquals(401, profile(sign(header("HS256"), claims().put("iat", now - 3600).put("exp", now - 600),
        TestServer.SHARED_JWT_SECRET)));
  }

  @Test
  @DisplayName("a token accepted before is refused once it expires (verified tokens are remembered until exp only)")
  void expiresAfterUse() throws InterruptedException {
    long exp = System.currentTimeMillis() / 1000 + 2;
    String token = sign(header("HS256"), claims().put("exp", exp), TestServer.SHARED_JWT_SECRET);
    assertEquals(200, profile(token));
    assertEquals(200, profile(token), "accepted again, now from memory");
    // Past exp plus the 5 s leeway every check allows for clock skew, it is refused: poll, the deadline well beyond.
    long deadline = System.currentTimeMillis() + 30_000;
    int status = 200;
    while (status == 200 && System.currentTimeMillis() < deadline) {
      Thread.sleep(200);
      status = profile(token);
    }
    assertEquals(401, status, "an expired token is refused even after it was accepted");
    assertTrue(System.currentTimeMillis() / 1000 >= exp, "and not before its exp");
  }

  @Test
  @DisplayName("a token not valid yet (nbf in the future) is refused")
  void notYetValid() {
    long now = System.currentTimeMillis() / 1000;
    assertEquals(401, profile(sign(header("HS256"), claims().put("nbf", now + 600), TestServer.SHARED_JWT_SECRET)));
  }

  @Test
  @DisplayName("a well-signed token whose time claims are null or of the wrong type is a 401, never a 500")
  void malformedTimeClaims() {
    for (String claim : new String[] {"exp", "iat", "nbf"}) {
      assertEquals(401, profile(sign(header("HS256"), claims().putNull(claim), TestServer.SHARED_JWT_SECRET)), claim);
      assertEquals(401, profile(sign(header("HS256"), claims().put(claim, "soon"), TestServer.SHARED_JWT_SECRET)),
          claim);
    }
  }

  @Test
  @DisplayName("a token for another audience or from another issuer is refused")
  void wrongAudienceOrIssuer() {
    assertEquals(401, profile(sign(header("HS256"), claims().put("aud", "another-api"),
        TestServer.SHARED_JWT_SECRET)));
    assertEquals(401, profile(sign(header("HS256"), claims().put("iss", "someone-else"),
        TestServer.SHARED_JWT_SECRET)));
  }

  @Test
  @DisplayName("a token of another kind (no use: access claim) is refused")
  void wrongKind() {
    JsonObject claims = claims();
    claims.remove("use");
    assertEquals(401, profile(sign(header("HS256"), claims, TestServer.SHARED_JWT_SECRET)));
    assertEquals(401, profile(sign(header("HS256"), claims().put("use", "refresh"), TestServer.SHARED_JWT_SECRET)));
  }

  @Test
  @DisplayName("a tampered payload, another key's signature and garbage are refused alike")
  void tamperedAndForeign() {
    String real = ann.accessToken();
    String[] parts = real.split("\\.");
    TestUser bob = Users.register(api);
    String swapped = b64(new JsonObject(new String(Base64.getUrlDecoder().decode(parts[1]), StandardCharsets.UTF_8))
        .put("sub", bob.id().toString()).encode());
    assertEquals(401, profile(parts[0] + "." + swapped + "." + parts[2]));
    assertEquals(401, profile(sign(header("HS256"), claims(), "another-secret-that-is-also-32-bytes-long!!")));
    assertEquals(401, profile("not.a.token"));
    assertEquals(401, profile("garbage"));
    assertEquals(401, profile(sign(header("HS512"), claims(), TestServer.SHARED_JWT_SECRET)),
        "the algorithm is pinned by the server, not chosen by the token");
  }

  @Test
  @DisplayName("a refused token gets a problem and a WWW-Authenticate challenge")
  void refusalShape() {
    ApiClient.Reply reply = api.get("/api/v1/auth/profile", "garbage");
    assertProblem(reply, 401);
    assertTrue(reply.header("WWW-Authenticate").startsWith("Bearer"));
    ApiClient.Reply none = api.get("/api/v1/auth/profile", null);
    assertProblem(none, 401);
    assertEquals("Bearer", none.header("WWW-Authenticate"));
  }

  private static int profile(String token) {
    return api.get("/api/v1/auth/profile", token).status();
  }

  private static JsonObject header(String alg) {
    return new JsonObject().put("typ", "JWT").put("alg", alg);
  }

  private static JsonObject claims() {
    long now = System.currentTimeMillis() / 1000;
    return new JsonObject().put("sub", ann.id().toString()).put("ver", 0).put("use", "access")
        .put("iat", now).put("exp", now + 600).put("iss", "claude-memory-backend").put("aud", "claude-memory-api")
        .put("sid", signIn());
  }

  /** The sign-in of ann's real token: a forged token naming it is as live as hers. */
  private static String signIn() {
    return new JsonObject(new String(Base64.getUrlDecoder().decode(ann.accessToken().split("\\.")[1]),
        StandardCharsets.UTF_8)).getString("sid");
  }

  private static String sign(JsonObject header, JsonObject claims, String secret) {
    String signingInput = b64(header.encode()) + "." + b64(claims.encode());
    try {
      String alg = "HS512".equals(header.getString("alg")) ? "HmacSHA512" : "HmacSHA256";
      Mac mac = Mac.getInstance(alg);
      mac.init(new SecretKeySpec(secret.getBytes(StandardCharsets.UTF_8), alg));
      return signingInput + "." + Base64.getUrlEncoder().withoutPadding()
          .encodeToString(mac.doFinal(signingInput.getBytes(StandardCharsets.US_ASCII)));
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }

  private static String b64(String json) {
    return Base64.getUrlEncoder().withoutPadding().encodeToString(json.getBytes(StandardCharsets.UTF_8));
  }
}
