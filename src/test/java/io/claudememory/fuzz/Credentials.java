package io.claudememory.fuzz;

import io.claudememory.support.TestServer;
import io.vertx.core.json.JsonObject;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.UUID;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * {@code Authorization} values a server must refuse (or, for the few valid spellings, accept): missing, malformed,
 * other schemes, and access tokens signed with the real test secret but carrying claims it never issues, so the
 * checks behind the signature are reached too.
 */
final class Credentials {
  private static final Base64.Encoder B64 = Base64.getUrlEncoder().withoutPadding();

  private Credentials() {}

  /** Named header values; null means no Authorization header at all. */
  static List<Hostile.Value> variants(Fixtures.Actor actor, String apiKey, Fixtures.Actor stranger, String issuer,
      String audience) {
    long now = System.currentTimeMillis() / 1000;
    String token = actor.accessToken;
    List<Hostile.Value> out = new ArrayList<>(List.of(
        new Hostile.Value("none", null),
        new Hostile.Value("scheme only", "Bearer"),
        new Hostile.Value("empty token", "Bearer "),
        new Hostile.Value("garbage token", "Bearer not.a.jwt"),
        new Hostile.Value("basic scheme", "Basic ZnV6ejpmdXp6"),
        new Hostile.Value("lower-case scheme", "bearer " + token),
        new Hostile.Value("double space", "Bearer  " + token),
        new Hostile.Value("token twice", "Bearer " + token + " " + token),
        new Hostile.Value("tampered signature", "Bearer " + tamper(token)),
        new Hostile.Value("huge token", "Bearer " + "x".repeat(6000)),
        new Hostile.Value("api key", "Bearer " + apiKey),
        new Hostile.Value("unknown api key", "Bearer cmb_" + "0".repeat(40)),
        new Hostile.Value("api key prefix only", "Bearer cmb_"),
        new Hostile.Value("refresh token as bearer", "Bearer " + actor.refreshToken),
        new Hostile.Value("another account", "Bearer " + stranger.accessToken),
        new Hostile.Value("alg none", "Bearer " + unsigned(claims(actor.id.toString(), 0, issuer, audience, now)))));
    JsonObject base = claims(actor.id.toString(), 0, issuer, audience, now);
    out.add(signed("expired", base.copy().put("exp", now - 3600).put("iat", now - 7200)));
    out.add(signed("not yet valid", base.copy().put("nbf", now + 3600)));
    out.add(signed("unknown account", base.copy().put("sub", UUID.randomUUID().toString())));
    out.add(signed("subject not a uuid", base.copy().put("sub", "' OR 1=1--")));
    out.add(signed("subject a number", base.copy().put("sub", 12345)));
    out.add(signed("version a string", base.copy().put("ver", "0")));
    out.add(signed("version stale", base.copy().put("ver", 99)));
    out.add(signed("refresh use", base.copy().put("use", "refresh")));
    out.add(signed("other audience", base.copy().put("aud", "someone-else")));
    out.add(signed("other issuer", base.copy().put("iss", "evil")));
    out.add(signed("no expiry", base.copy().put("exp", (Object) null)));
    out.add(new Hostile.Value("key id header", "Bearer "
        + sign("{\"typ\":\"JWT\",\"alg\":\"HS256\",\"kid\":\"../../dev/null\"}", base.encode())));
    return out;
  }

  private static JsonObject claims(String subject, int version, String issuer, String audience, long now) {
    return new JsonObject().put("sub", subject).put("ver", version).put("use", "access").put("iss", issuer)
        .put("aud", audience).put("iat", now).put("exp", now + 600);
  }

  private static Hostile.Value signed(String name, JsonObject claims) {
    return new Hostile.Value("signed, " + name, "Bearer " + sign("{\"typ\":\"JWT\",\"alg\":\"HS256\"}",
        claims.encode()));
  }

  private static String unsigned(JsonObject claims) {
    return part("{\"typ\":\"JWT\",\"alg\":\"none\"}") + "." + part(claims.encode()) + ".";
  }

  /** An HS256 JWT with the secret every test node shares, so only the claims make it wrong. */
  private static String sign(String header, String payload) {
    String input = part(header) + "." + part(payload);
    try {
      Mac mac = Mac.getInstance("HmacSHA256");
      mac.init(new SecretKeySpec(TestServer.SHARED_JWT_SECRET.getBytes(StandardCharsets.UTF_8), "HmacSHA256"));
      return input + "." + B64.encodeToString(mac.doFinal(input.getBytes(StandardCharsets.US_ASCII)));
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException(e);
    }
  }

  private static String tamper(String jwt) {
    char last = jwt.charAt(jwt.length() - 2);
    return jwt.substring(0, jwt.length() - 2) + (last == 'A' ? 'B' : 'A') + jwt.charAt(jwt.length() - 1);
  }

  private static String part(String json) {
    return B64.encodeToString(json.getBytes(StandardCharsets.UTF_8));
  }
}
