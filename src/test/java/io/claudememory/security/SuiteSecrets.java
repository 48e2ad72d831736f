package io.claudememory.security;

import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.Json;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.net.URI;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.regex.Pattern;

/**
 * Every secret the security suite used, and the check that none of them is in a log line.
 *
 * <p>Secrets are collected as they pass (see {@link SecuritySuite#observe}): each request and reply body is walked, and
 * the string under any member whose name says it is a credential ({@code password}, {@code newPassword},
 * {@code accessToken}, {@code refreshToken}, {@code key}, {@code secret}, {@code passphrase}, …) is kept, as is the
 * password of any {@code scheme://user:password@host} URL. Server settings (JWT_SECRET, MASTER_KEY, PEM keys, the
 * Anthropic key) are added when a suite server starts. A line leaks a secret when it holds the secret as written,
 * URL-encoded, or JSON-escaped; it also leaks when it holds anything shaped like a credential this server issues
 * (a JWT, an API key, a webhook secret, a bcrypt hash, a PEM block), whoever it belonged to.
 */
final class SuiteSecrets {
  /**
   * Shorter values are too likely to occur by chance (a word like "password", which is also a route) to be told
   * apart from a leak; every credential the suite really uses is longer.
   */
  private static final int MIN_LENGTH = 12;
  private static final Pattern CREDENTIAL_MEMBER = Pattern.compile(
      "(?i).*(password|passphrase|secret|token|^key|apikey|privatekey|masterkey)$");
  private static final Map<String, Pattern> SHAPES = Map.of(
      "a JWT", Pattern.compile("eyJ[A-Za-z0-9_-]{8,}\\.eyJ[A-Za-z0-9_-]{8,}\\.[A-Za-z0-9_-]*"),
      "an API key", Pattern.compile("cmb_[A-Za-z0-9_-]{8}_[A-Za-z0-9_-]{16,}"),
      "a webhook secret", Pattern.compile("whsec_[A-Za-z0-9+/]{16,}"),
      "a bcrypt hash", Pattern.compile("\\$2[aby]?\\$\\d{2}\\$[./A-Za-z0-9]{53}"),
      "a PEM block", Pattern.compile("-----BEGIN [A-Z ]*KEY-----"));
  private static final Map<String, String> SECRETS = new ConcurrentHashMap<>();

  private SuiteSecrets() {}

  /** A log line that gives a secret away: which line, and what it gave (never the secret itself). */
  record Leak(LogCapture.Line line, String what) {
    @Override
    public String toString() {
      return line.testClass() + " logged " + what + ": " + mask(line.text());
    }
  }

  /** Remembers {@code secret} (what it is: "a password", "MASTER_KEY", …) for the checks. */
  static void add(String what, String secret) {
    if (secret != null && secret.length() >= MIN_LENGTH) {
      SECRETS.putIfAbsent(secret, what);
    }
  }

  static int count() {
    return SECRETS.size();
  }

  /** Keeps the credentials in a JSON body (sent or received); a body that is not JSON holds none. */
  static void harvest(Buffer body) {
    if (body == null || body.length() == 0) {
      return;
    }
    Object json;
    try {
      json = Json.decodeValue(body);
    } catch (RuntimeException notJson) {
      return;
    }
    walk(null, json);
  }

  private static void walk(String member, Object value) {
    if (value instanceof JsonObject object) {
      object.forEach(entry -> walk(entry.getKey(), entry.getValue()));
    } else if (value instanceof JsonArray array) {
      array.forEach(item -> walk(member, item));
    } else if (value instanceof String text && member != null) {
      if (CREDENTIAL_MEMBER.matcher(member).matches()) {
        add("the " + member + " of a request or reply", text);
      } else if (text.contains("://") && text.contains("@")) {
        addUrlPassword("a password in a URL", text);
      }
    }
  }

  /** Remembers the password of a {@code scheme://user:password@host} URL, if it has one. */
  static void addUrlPassword(String what, String url) {
    if (url == null) {
      return;
    }
    try {
      String userInfo = URI.create(url).getRawUserInfo();
      if (userInfo != null && userInfo.contains(":")) {
        add(what, userInfo.substring(userInfo.indexOf(':') + 1));
      }
    } catch (IllegalArgumentException notAUri) {
      // not a URL: nothing to keep
    }
  }

  /** Every line of {@code lines} that leaks a known secret or holds something shaped like a credential. */
  static List<Leak> leaks(List<LogCapture.Line> lines) {
    List<Leak> leaks = new ArrayList<>();
    Set<Map.Entry<String, String>> secrets = Set.copyOf(SECRETS.entrySet());
    for (LogCapture.Line line : lines) {
      String text = line.text();
      for (Map.Entry<String, String> secret : secrets) {
        if (spellings(secret.getKey()).stream().anyMatch(text::contains)) {
          leaks.add(new Leak(line, secret.getValue()));
        }
      }
      SHAPES.forEach((what, shape) -> {
        if (shape.matcher(text).find()) {
          leaks.add(new Leak(line, "something shaped like " + what));
        }
      });
    }
    return leaks;
  }

  /** The secret as written, URL-encoded (a query string) and JSON-escaped (a logged body). */
  private static Set<String> spellings(String secret) {
    String json = Json.encode(secret);
    return new HashSet<>(List.of(secret, URLEncoder.encode(secret, StandardCharsets.UTF_8),
        json.substring(1, json.length() - 1)));
  }

  /** The line with every known secret and credential shape replaced, fit for a failure message. */
  static String mask(String text) {
    String masked = text;
    for (String secret : SECRETS.keySet()) {
      for (String spelling : spellings(secret)) {
        masked = masked.replace(spelling, "***");
      }
    }
    for (Pattern shape : SHAPES.values()) {
      masked = shape.matcher(masked).replaceAll("***");
    }
    return masked.strip();
  }
}
