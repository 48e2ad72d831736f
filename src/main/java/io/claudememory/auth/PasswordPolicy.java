package io.claudememory.auth;

import io.claudememory.platform.http.Validation;
import java.nio.charset.StandardCharsets;
import java.util.Locale;
import java.util.Set;

/**
 * What a password must be (after OWASP ASVS V6 / NIST 800-63B): at least 8 characters, at most 72 bytes (bcrypt reads
 * no further, and silently ignoring the rest would surprise), not only spaces, not the email, not a well-known one.
 */
public final class PasswordPolicy {
  private static final int MIN_CHARS = 8;
  static final int MAX_BYTES = 72;
  private static final Set<String> COMMON = Set.of("password", "password1", "password123", "12345678", "123456789",
      "1234567890", "qwertyuiop", "iloveyou", "11111111", "00000000", "abc12345", "qwerty123", "letmein1",
      "welcome1", "admin123", "passw0rd", "sunshine", "princess", "football", "baseball", "trustno1", "superman",
      "1q2w3e4r", "zaq12wsx", "changeme", "qwertyui", "asdfghjk", "monkey123", "dragon123", "starwars");

  private PasswordPolicy() {}

  /** Adds a field error to {@code v} for each rule {@code password} breaks. */
  public static void check(Validation v, String field, String password, String email) {
    if (password == null) {
      return;
    }
    if (password.codePointCount(0, password.length()) < MIN_CHARS) {
      v.error(field, "must be at least " + MIN_CHARS + " characters");
    } else if (password.getBytes(StandardCharsets.UTF_8).length > MAX_BYTES) {
      v.error(field, "must be at most " + MAX_BYTES + " bytes (UTF-8)");
    } else if (password.isBlank()) {
      v.error(field, "must not be only spaces");
    } else if (COMMON.contains(password.toLowerCase(Locale.ROOT))) {
      v.error(field, "is too common; choose another");
    } else if (email != null && password.equalsIgnoreCase(email)) {
      v.error(field, "must not be the email address");
    }
  }
}
