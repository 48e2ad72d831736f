package io.claudememory.security;

import io.vertx.core.json.JsonObject;
import java.nio.charset.StandardCharsets;
import java.security.PrivateKey;
import java.security.Signature;
import java.util.Base64;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * Hand-made JWTs for attacks on the API's token checks (RFC 8725): written from RFC 7515/7519, not with the library
 * the server uses, so a shared bug cannot hide a hole. A forged token carries every claim right except the one under
 * test, so its refusal is for that one property.
 */
final class Jwts {
  private Jwts() {}

  static JsonObject header(String alg) {
    return new JsonObject().put("typ", "JWT").put("alg", alg);
  }

  /** The header of {@code token}, unverified. */
  static JsonObject headerOf(String token) {
    return new JsonObject(new String(Base64.getUrlDecoder().decode(token.split("\\.")[0]), StandardCharsets.UTF_8));
  }

  /** The claims of {@code token}, unverified. */
  static JsonObject claimsOf(String token) {
    return new JsonObject(new String(Base64.getUrlDecoder().decode(token.split("\\.")[1]), StandardCharsets.UTF_8));
  }

  /** A token with the given header and claims and no signature at all. */
  static String unsigned(JsonObject header, JsonObject claims) {
    return b64(header.encode()) + "." + b64(claims.encode()) + ".";
  }

  static String hs256(JsonObject header, JsonObject claims, byte[] key) {
    String input = b64(header.encode()) + "." + b64(claims.encode());
    try {
      Mac mac = Mac.getInstance("HmacSHA256");
      mac.init(new SecretKeySpec(key, "HmacSHA256"));
      return input + "." + b64(mac.doFinal(input.getBytes(StandardCharsets.US_ASCII)));
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }

  static String rs256(JsonObject header, JsonObject claims, PrivateKey key) {
    String input = b64(header.encode()) + "." + b64(claims.encode());
    try {
      Signature signature = Signature.getInstance("SHA256withRSA");
      signature.initSign(key);
      signature.update(input.getBytes(StandardCharsets.US_ASCII));
      return input + "." + b64(signature.sign());
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }

  /** {@code token} with its header replaced (its signature kept). */
  static String withHeader(String token, JsonObject header) {
    String[] parts = token.split("\\.");
    return b64(header.encode()) + "." + parts[1] + "." + parts[2];
  }

  static String pem(String type, byte[] der) {
    return "-----BEGIN " + type + "-----\n" + Base64.getMimeEncoder(64, "\n".getBytes(StandardCharsets.US_ASCII))
        .encodeToString(der) + "\n-----END " + type + "-----\n";
  }

  static String b64(String text) {
    return b64(text.getBytes(StandardCharsets.UTF_8));
  }

  static String b64(byte[] bytes) {
    return Base64.getUrlEncoder().withoutPadding().encodeToString(bytes);
  }
}
