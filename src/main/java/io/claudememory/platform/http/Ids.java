package io.claudememory.platform.http;

import io.vertx.ext.web.RoutingContext;
import java.security.SecureRandom;
import java.util.UUID;

/** UUIDs: version 7 for new rows (time-ordered, index friendly), and parsing of ids from paths. */
public final class Ids {
  private static final SecureRandom RANDOM = new SecureRandom();

  private Ids() {}

  /** A UUIDv7 (RFC 9562): 48 bits of Unix milliseconds, then random bits. */
  public static UUID newId() {
    long millis = System.currentTimeMillis();
    long high = (millis << 16) | 0x7000L | (RANDOM.nextInt() & 0x0FFFL);
    long low = (RANDOM.nextLong() & 0x3FFFFFFFFFFFFFFFL) | 0x8000000000000000L;
    return new UUID(high, low);
  }

  public static UUID parseOrNull(String text) {
    if (text == null || text.length() != 36) {
      return null;
    }
    try {
      return UUID.fromString(text);
    } catch (IllegalArgumentException e) {
      return null;
    }
  }

  /** A path parameter that must be an id; a malformed one is simply not found (it names nothing). */
  public static UUID pathId(RoutingContext ctx, String name, String what) {
    UUID id = parseOrNull(ctx.pathParam(name));
    if (id == null) {
      throw ApiException.notFound(what);
    }
    return id;
  }
}
