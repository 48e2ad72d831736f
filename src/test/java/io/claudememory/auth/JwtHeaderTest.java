package io.claudememory.auth;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.claudememory.support.ApiClient;
import io.claudememory.support.TestServer;
import io.claudememory.support.Users;
import io.claudememory.support.Users.TestUser;
import io.vertx.core.json.JsonObject;
import java.nio.charset.StandardCharsets;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.spec.ECGenParameterSpec;
import java.util.Base64;
import java.util.Map;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/**
 * RFC 8725 attacks on a node that signs with ES256: the public key is public, so an HS256 token whose HMAC key is
 * the public key's PEM text (algorithm confusion) must fail; so must tokens whose header names a key to fetch.
 */
@DisplayName("Access tokens with an ES256 key pair: no algorithm confusion, no key chosen by the token")
class JwtHeaderTest {
  static TestServer server;
  static ApiClient api;
  static TestUser ann;
  static String publicPem;

  @BeforeAll
  static void start() throws Exception {
    KeyPairGenerator generator = KeyPairGenerator.getInstance("EC");
    generator.initialize(new ECGenParameterSpec("secp256r1"));
    KeyPair pair = generator.generateKeyPair();
    publicPem = pem("PUBLIC KEY", pair.getPublic().getEncoded());
    server = TestServer.start(Map.of("JWT_SECRET", "", "JWT_PRIVATE_KEY", pem("PRIVATE KEY",
        pair.getPrivate().getEncoded()), "JWT_PUBLIC_KEY", publicPem));
    api = server.client();
    ann = Users.register(api);
  }

  @AfterAll
  static void stop() {
    server.close();
  }

  @Test
  @DisplayName("a token the node issued (ES256) is accepted")
  void issuedTokenWorks() {
    assertEquals("ES256", new JsonObject(new String(Base64.getUrlDecoder().decode(ann.accessToken().split("\\.")[0]),
        StandardCharsets.UTF_8)).getString("alg"));
    assertEquals(200, profile(ann.accessToken()));
  }

  @Test
  @DisplayName("HS256 signed with the public key's text is refused (RS/ES → HS key confusion)")
  void keyConfusion() {
    JsonObject header = new JsonObject().put("typ", "JWT").put("alg", "HS256");
    assertEquals(401, profile(hmac(header, claims(), publicPem)));
    assertEquals(401, profile(hmac(header, claims(), publicPem.replaceAll("-----[A-Z ]+-----|\\s", ""))));
  }

  @Test
  @DisplayName("a valid token with kid, jku or jwk added to its header is refused: the header never picks a key")
  void keyHeadersRefused() {
    String[] parts = ann.accessToken().split("\\.");
    JsonObject header = new JsonObject(new String(Base64.getUrlDecoder().decode(parts[0]), StandardCharsets.UTF_8));
    for (JsonObject extra : new JsonObject[] {
        header.copy().put("kid", "../../../../dev/null"),
        header.copy().put("jku", "https://attacker.example/jwks.json"),
        header.copy().put("x5u", "https://attacker.example/cert.pem"),
        header.copy().put("jwk", new JsonObject().put("kty", "oct").put("k", "AAAA"))}) {
      assertEquals(401, profile(b64(extra.encode()) + "." + parts[1] + "." + parts[2]), extra.encode());
    }
  }

  static int profile(String token) {
    return api.get("/api/v1/auth/profile", token).status();
  }

  static JsonObject claims() {
    long now = System.currentTimeMillis() / 1000;
    return new JsonObject().put("sub", ann.id().toString()).put("ver", 0).put("use", "access")
        .put("iat", now).put("exp", now + 600).put("iss", "claude-memory-backend").put("aud", "claude-memory-api")
        .put("sid", signIn());
  }

  /** The sign-in of ann's real token: a forged token naming it is as live as hers. */
  static String signIn() {
    return new JsonObject(new String(Base64.getUrlDecoder().decode(ann.accessToken().split("\\.")[1]),
        StandardCharsets.UTF_8)).getString("sid");
  }

  static String hmac(JsonObject header, JsonObject claims, String secret) {
    String input = b64(header.encode()) + "." + b64(claims.encode());
    try {
      Mac mac = Mac.getInstance("HmacSHA256");
      mac.init(new SecretKeySpec(secret.getBytes(StandardCharsets.UTF_8), "HmacSHA256"));
      return input + "." + Base64.getUrlEncoder().withoutPadding().encodeToString(
          mac.doFinal(input.getBytes(StandardCharsets.US_ASCII)));
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }

  static String b64(String text) {
    return Base64.getUrlEncoder().withoutPadding().encodeToString(text.getBytes(StandardCharsets.UTF_8));
  }

  static String pem(String type, byte[] der) {
    return "-----BEGIN " + type + "-----\n" + Base64.getMimeEncoder(64, "\n".getBytes(StandardCharsets.US_ASCII))
        .encodeToString(der) + "\n-----END " + type + "-----\n";
  }
}
