package io.claudememory.auth;

import static org.junit.jupiter.api.Assertions.assertEquals;

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
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

@DisplayName("Access tokens can be signed with an EC key pair (ES256) instead of a shared secret")
class AsymmetricKeysTest {

  @Test
  @DisplayName("with JWT_PRIVATE_KEY and JWT_PUBLIC_KEY set, tokens are ES256 and work end to end")
  void es256() throws Exception {
    KeyPairGenerator generator = KeyPairGenerator.getInstance("EC");
    generator.initialize(new ECGenParameterSpec("secp256r1"));
    KeyPair pair = generator.generateKeyPair();
    try (TestServer server = TestServer.start(Map.of("JWT_SECRET", "",
        "JWT_PRIVATE_KEY", pem("PRIVATE KEY", pair.getPrivate().getEncoded()),
        "JWT_PUBLIC_KEY", pem("PUBLIC KEY", pair.getPublic().getEncoded())))) {
      TestUser ann = Users.register(server.client());
      JsonObject header = new JsonObject(new String(Base64.getUrlDecoder().decode(ann.accessToken().split("\\.")[0]),
          StandardCharsets.UTF_8));
      assertEquals("ES256", header.getString("alg"));
      assertEquals(200, server.client().get("/api/v1/auth/profile", ann.accessToken()).status());
      String[] parts = ann.accessToken().split("\\.");
      String hs256 = Base64.getUrlEncoder().withoutPadding().encodeToString(
          new JsonObject().put("typ", "JWT").put("alg", "HS256").encode().getBytes(StandardCharsets.UTF_8));
      assertEquals(401, server.client().get("/api/v1/auth/profile", hs256 + "." + parts[1] + "." + parts[2])
          .status(), "the token cannot switch the algorithm");
      javax.crypto.Mac mac = javax.crypto.Mac.getInstance("HmacSHA256");
      mac.init(new javax.crypto.spec.SecretKeySpec(server.env().get("JWT_PUBLIC_KEY")
          .getBytes(StandardCharsets.UTF_8), "HmacSHA256"));
      String confused = hs256 + "." + parts[1] + "." + Base64.getUrlEncoder().withoutPadding().encodeToString(
          mac.doFinal((hs256 + "." + parts[1]).getBytes(StandardCharsets.US_ASCII)));
      assertEquals(401, server.client().get("/api/v1/auth/profile", confused).status(),
          "HS256 signed with the public key (key confusion) is refused");
    }
  }

  private static String pem(String type, byte[] der) {
    return "-----BEGIN " + type + "-----\n" + Base64.getMimeEncoder(64, "\n".getBytes()).encodeToString(der)
        + "\n-----END " + type + "-----\n";
  }
}
