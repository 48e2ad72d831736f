package io.claudememory.platform.http;

import io.vertx.core.json.JsonArray;
import io.vertx.ext.web.RoutingContext;
import java.nio.charset.StandardCharsets;
import java.time.LocalDate;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.UUID;

/**
 * Reads query parameters (filters, {@code limit}, {@code cursor}), collecting every problem before answering one 400
 * with all field errors, like {@link Validation} does for bodies.
 *
 * <p>Cursors are opaque to clients: base64url of a small JSON array holding the sort key of the last item served.
 * A cursor that does not decode to the shape a list expects is a 400 on {@code cursor}.
 */
public final class QueryParams {
  public static final int DEFAULT_LIMIT = 50;
  public static final int MAX_LIMIT = 200;
  private final RoutingContext ctx;
  private final List<ApiException.FieldError> errors = new ArrayList<>();

  private QueryParams(RoutingContext ctx) {
    this.ctx = ctx;
  }

  public static QueryParams of(RoutingContext ctx) {
    return new QueryParams(ctx);
  }

  /** {@code ?limit=}: 1..200, default 50. */
  public int limit() {
    String raw = ctx.queryParams().get("limit");
    if (raw == null) {
      return DEFAULT_LIMIT;
    }
    try {
      int value = Integer.parseInt(raw.strip());
      if (value >= 1 && value <= MAX_LIMIT) {
        return value;
      }
    } catch (NumberFormatException e) {
      // answered below
    }
    error("limit", "must be a whole number between 1 and " + MAX_LIMIT);
    return DEFAULT_LIMIT;
  }

  /** The decoded cursor, or null on the first page; {@code size} is the number of members the list expects. */
  public JsonArray cursor(int size) {
    String raw = ctx.queryParams().get("cursor");
    if (raw == null || raw.isEmpty()) {
      return null;
    }
    try {
      JsonArray key = new JsonArray(new String(Base64.getUrlDecoder().decode(raw), StandardCharsets.UTF_8));
      if (key.size() == size) {
        return key;
      }
    } catch (RuntimeException e) {
      // answered below
    }
    error("cursor", "is not a cursor this list gave out");
    return null;
  }

  public static String encodeCursor(JsonArray key) {
    return Base64.getUrlEncoder().withoutPadding().encodeToString(key.encode().getBytes(StandardCharsets.UTF_8));
  }

  public String string(String name, int maxLength) {
    String raw = ctx.queryParams().get(name);
    if (raw == null) {
      return null;
    }
    if (raw.length() > maxLength) {
      error(name, "must be at most " + maxLength + " characters");
      return null;
    }
    return raw;
  }

  public Boolean bool(String name) {
    String raw = ctx.queryParams().get(name);
    if (raw == null) {
      return null;
    }
    return switch (raw) {
      case "true" -> true;
      case "false" -> false;
      default -> {
        error(name, "must be true or false");
        yield null;
      }
    };
  }

  public UUID uuid(String name) {
    String raw = ctx.queryParams().get(name);
    if (raw == null) {
      return null;
    }
    UUID id = Ids.parseOrNull(raw);
    if (id == null) {
      error(name, "must be an id (UUID)");
    }
    return id;
  }

  /**
   * An ISO-8601 instant with offset, e.g. {@code 2026-01-31T10:00:00Z}, in the years 1 to 9999: what RFC 3339 (and so
   * an answer echoing it) can write, and what date arithmetic and the database never overflow on.
   */
  public OffsetDateTime timestamp(String name) {
    return time(name, false);
  }

  /** Like {@link #timestamp}, or a date alone ({@code 2026-01-31}, meaning its midnight UTC). */
  public OffsetDateTime dateOrTimestamp(String name) {
    return time(name, true);
  }

  private OffsetDateTime time(String name, boolean dates) {
    String raw = ctx.queryParams().get(name);
    if (raw == null) {
      return null;
    }
    String expected = dates ? "a date (2026-01-31) or an ISO-8601 timestamp with offset"
        : "an ISO-8601 timestamp with offset, e.g. 2026-01-31T10:00:00Z";
    try {
      OffsetDateTime value = dates && raw.length() == 10
          ? LocalDate.parse(raw).atStartOfDay().atOffset(ZoneOffset.UTC) : OffsetDateTime.parse(raw);
      if (value.getYear() >= 1 && value.getYear() <= 9999) {
        return value;
      }
    } catch (DateTimeParseException e) {
      // answered below
    }
    error(name, "must be " + expected + ", in the years 1 to 9999");
    return null;
  }

  public void error(String field, String message) {
    errors.add(new ApiException.FieldError(field, message));
  }

  /** Ends reading: a 400 with every field error found, if any. */
  public void check() {
    if (!errors.isEmpty()) {
      throw ApiException.validation(errors);
    }
  }
}
