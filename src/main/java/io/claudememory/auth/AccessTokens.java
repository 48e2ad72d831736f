package io.claudememory.auth;

import io.claudememory.config.AppConfig;
import io.claudememory.platform.http.ApiException;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.auth.JWTOptions;
import io.vertx.ext.auth.PubSecKeyOptions;
import io.vertx.ext.auth.User;
import io.vertx.ext.auth.authentication.TokenCredentials;
import io.vertx.ext.auth.jwt.JWTAuth;
import io.vertx.ext.auth.jwt.JWTAuthOptions;
import java.nio.charset.StandardCharsets;
import java.security.KeyFactory;
import java.security.spec.X509EncodedKeySpec;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Access tokens: short-lived JWTs (RFC 8725 practice). The algorithm is fixed by configuration, never by the token:
 * HS256 with JWT_SECRET, or ES256/RS256 with a PEM pair. {@code iss}, {@code aud} and {@code exp} are checked, and
 * so is the token's kind (RFC 8725 §3.11, §3.12): vertx-auth-jwt fixes the header to {@code typ: JWT}, so the kind is
 * carried by the claim {@code use: access}, which no other token this server issues has.
 *
 * <p>Each token names its sign-in in {@code sid}: the family of refresh tokens it was issued with. Ending a sign-in
 * (logout, a reused refresh token) revokes that family, and with it the access tokens that name it (see
 * {@link Authenticator}), so "every token of the sign-in" includes the one the client holds now.
 */
public final class AccessTokens {
  static final String TYPE = "JWT";
  static final String USE = "access";
  /** How many verified tokens are remembered; when full, the memory starts over. */
  static final int REMEMBERED = 10_000;
  private final JWTAuth jwt;
  private final String algorithm;
  private final AppConfig.Auth conf;
  /**
   * Tokens verified before, each until its {@code exp}: a client sends the same token with every request for its
   * whole life, and checking it again (two JSON parses and an HMAC, or an ECDSA or RSA verification) was most of what
   * authenticating a request cost. Only tokens that passed every check get here, so no one can fill it with junk;
   * whether the token's sign-in and account are still good is checked on every request all the same
   * ({@link Authenticator}).
   */
  private final Map<String, Verified> verified = new ConcurrentHashMap<>();

  /** What a verified access token says. */
  public record Claims(UUID userId, int tokenVersion, UUID signIn) {}

  private record Verified(Claims claims, long expiresAtMillis) {}

  public AccessTokens(Vertx vertx, AppConfig.Auth conf) {
    this.conf = conf;
    JWTAuthOptions options = new JWTAuthOptions().setJWTOptions(new JWTOptions()
        .setIssuer(conf.issuer()).setAudience(List.of(conf.audience())).setLeeway(5));
    if (conf.jwtSecret() != null) {
      algorithm = "HS256";
      options.addPubSecKey(new PubSecKeyOptions().setAlgorithm(algorithm).setBuffer(conf.jwtSecret()));
    } else {
      algorithm = algorithmOf(conf.jwtPublicKey());
      options.addPubSecKey(new PubSecKeyOptions().setAlgorithm(algorithm).setBuffer(conf.jwtPublicKey()));
      options.addPubSecKey(new PubSecKeyOptions().setAlgorithm(algorithm).setBuffer(conf.jwtPrivateKey()));
    }
    this.jwt = JWTAuth.create(vertx, options);
  }

  /** A token for {@code userId} at {@code tokenVersion}, belonging to the sign-in (refresh family) {@code signIn}. */
  public String issue(UUID userId, int tokenVersion, UUID signIn) {
    return jwt.generateToken(new JsonObject().put("sub", userId.toString()).put("ver", tokenVersion).put("use", USE)
            .put("sid", signIn.toString()),
        new JWTOptions().setAlgorithm(algorithm).setIssuer(conf.issuer()).setAudience(List.of(conf.audience()))
            .setExpiresInMinutes(conf.accessTokenMinutes()));
  }

  public int expiresInSeconds() {
    return conf.accessTokenMinutes() * 60;
  }

  /**
   * Verifies header, signature, algorithm, type, issuer, audience and expiry; any failure is the same 401. The header
   * must be exactly what {@link #issue} writes ({@code typ} and the configured {@code alg}): a token naming a key
   * ({@code kid}, {@code jku}, {@code x5u}, {@code jwk}) was not issued here, and no header value is ever used to
   * find a key, a file or a URL.
   *
   * <p>vertx-auth-jwt reads some claims without checking their type and throws instead of failing (an {@code exp} of
   * JSON null is a NullPointerException in 5.0.10): a well-signed token with such claims is as invalid as any other.
   */
  public Future<Claims> verify(String token) {
    Verified known = verified.get(token);
    if (known != null) {
      if (System.currentTimeMillis() < known.expiresAtMillis()) {
        return Future.succeededFuture(known.claims());
      }
      verified.remove(token);
    }
    if (!expectedHeader(token)) {
      return Future.failedFuture(invalid());
    }
    Future<User> verified;
    try {
      verified = jwt.authenticate(new TokenCredentials(token));
    } catch (RuntimeException malformedClaims) {
      return Future.failedFuture(invalid());
    }
    return verified.transform(ar -> {
      if (ar.failed()) {
        return Future.failedFuture(invalid());
      }
      JsonObject p = ar.result().principal();
      if (!USE.equals(p.getString("use"))) {
        return Future.failedFuture(invalid());
      }
      try {
        Claims claims = new Claims(UUID.fromString(p.getString("sub")), p.getInteger("ver", -1),
            UUID.fromString(p.getString("sid")));
        // vertx-auth-jwt keeps the time claims among the user's attributes, which get() reads too
        remember(token, claims, ((Number) ar.result().get("exp")).longValue());
        return Future.succeededFuture(claims);
      } catch (RuntimeException e) {
        return Future.failedFuture(invalid());
      }
    });
  }

  private void remember(String token, Claims claims, long expSeconds) {
    if (verified.size() >= REMEMBERED) {
      verified.clear();
    }
    verified.put(token, new Verified(claims, expSeconds * 1000));
  }

  private boolean expectedHeader(String token) {
    int dot = token.indexOf('.');
    if (dot <= 0) {
      return false;
    }
    try {
      byte[] bytes = Base64.getUrlDecoder().decode(token.substring(0, dot));
      JsonObject header = new JsonObject(new String(bytes, StandardCharsets.UTF_8));
      return TYPE.equals(header.getString("typ")) && algorithm.equals(header.getString("alg"))
          && header.size() == 2;
    } catch (RuntimeException e) {
      return false;
    }
  }

  private static ApiException invalid() {
    return ApiException.unauthorized("The access token is invalid or expired.");
  }

  /** ES256 for an EC public key, RS256 for RSA. */
  private static String algorithmOf(String publicPem) {
    String base64 = publicPem.replaceAll("-----[A-Z ]+-----", "").replaceAll("\\s", "");
    try {
      KeyFactory.getInstance("EC").generatePublic(new X509EncodedKeySpec(Base64.getDecoder().decode(base64)));
      return "ES256";
    } catch (Exception notEc) {
      return "RS256";
    }
  }
}
