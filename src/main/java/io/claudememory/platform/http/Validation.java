package io.claudememory.platform.http;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.RoutingContext;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.UUID;
import java.util.regex.Pattern;

/**
 * Reads fields of a JSON body, collecting every problem before answering one 400 with all field errors. Unknown
 * fields are refused, so a client cannot set what it must not (mass assignment).
 */
public final class Validation {
  /**
   * What the document's {@code format: email} admits (an RFC 5321 mailbox in ASCII, as JSON Schema validators check
   * it): a dot-atom of at most 64 characters, {@code @}, then host-name labels with a top-level domain. Quoted local
   * parts and international addresses are refused rather than stored as something clients cannot validate (and
   * look-alike characters cannot make a second account that reads like the first).
   */
  private static final Pattern EMAIL = Pattern.compile("^(?=[^@]{1,64}@)[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+"
      + "(?:\\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*@(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\\.)+"
      + "[A-Za-z]{2,63}$");
  private final JsonObject body;
  private final List<ApiException.FieldError> errors = new ArrayList<>();

  private Validation(JsonObject body) {
    this.body = body;
  }

  /** The request body as a JSON object, or a 400 saying what it should be. */
  public static Validation of(RoutingContext ctx, Set<String> allowed) {
    var buffer = ctx.body().buffer();
    if (buffer == null || buffer.length() == 0) {
      throw ApiException.badRequest("A JSON object body is required.");
    }
    JsonObject body;
    try {
      Object parsed = io.vertx.core.json.Json.decodeValue(buffer);
      if (!(parsed instanceof JsonObject object)) {
        throw ApiException.badRequest("The body must be a JSON object.");
      }
      body = object;
    } catch (io.vertx.core.json.DecodeException e) {
      throw ApiException.badRequest("The body is not valid JSON.");
    }
    Validation v = new Validation(body);
    for (String name : body.fieldNames()) {
      if (!allowed.contains(name)) {
        v.error(name, "is not a field that can be set here");
      }
    }
    return v;
  }

  public boolean has(String field) {
    return body.containsKey(field);
  }

  public String requiredString(String field, int min, int max) {
    String value = optionalString(field, min, max);
    if (value == null && !hasError(field)) {
      error(field, "is required");
    }
    return value;
  }

  /** Null when absent or null; trimmed; errors when not a string or out of length bounds. */
  public String optionalString(String field, int min, int max) {
    Object raw = body.getValue(field);
    if (raw == null) {
      return null;
    }
    if (!(raw instanceof String text)) {
      error(field, "must be a string");
      return null;
    }
    String value = text.strip();
    if (value.length() < min) {
      error(field, min <= 1 ? "must not be empty" : "must be at least " + min + " characters");
    } else if (value.length() > max) {
      error(field, "must be at most " + max + " characters");
    }
    return value;
  }

  /** Like {@link #requiredString} but not trimmed (passwords keep their spaces). */
  public String requiredSecret(String field) {
    Object raw = body.getValue(field);
    if (raw == null) {
      error(field, "is required");
      return null;
    }
    if (!(raw instanceof String text)) {
      error(field, "must be a string");
      return null;
    }
    return text;
  }

  public String email(String field, boolean required) {
    String value = required ? requiredString(field, 3, 254) : optionalString(field, 3, 254);
    if (value != null && !EMAIL.matcher(value).matches()) {
      error(field, "must be an email address");
      return null;
    }
    return value;
  }

  public Boolean optionalBoolean(String field) {
    Object raw = body.getValue(field);
    if (raw == null) {
      return null;
    }
    if (!(raw instanceof Boolean value)) {
      error(field, "must be true or false");
      return null;
    }
    return value;
  }

  public Integer optionalInt(String field, int min, int max) {
    Object raw = body.getValue(field);
    if (raw == null) {
      return null;
    }
    if (!(raw instanceof Number number) || number.doubleValue() != Math.rint(number.doubleValue())) {
      error(field, "must be a whole number");
      return null;
    }
    long value = number.longValue();
    if (value < min || value > max) {
      error(field, "must be between " + min + " and " + max);
      return null;
    }
    return (int) value;
  }

  public UUID optionalUuid(String field) {
    Object raw = body.getValue(field);
    if (raw == null) {
      return null;
    }
    UUID id = raw instanceof String text ? Ids.parseOrNull(text) : null;
    if (id == null) {
      error(field, "must be an id (UUID)");
    }
    return id;
  }

  public List<String> optionalStrings(String field, int maxItems, int maxLength) {
    Object raw = body.getValue(field);
    if (raw == null) {
      return null;
    }
    if (!(raw instanceof JsonArray array)) {
      error(field, "must be an array of strings");
      return null;
    }
    if (array.size() > maxItems) {
      error(field, "must have at most " + maxItems + " items");
      return null;
    }
    List<String> values = new ArrayList<>();
    for (Object item : array) {
      if (!(item instanceof String text) || text.isBlank() || text.length() > maxLength) {
        error(field, "must hold non-empty strings of at most " + maxLength + " characters");
        return null;
      }
      values.add(text.strip());
    }
    return values;
  }

  public void error(String field, String message) {
    errors.add(new ApiException.FieldError(field, message));
  }

  public boolean hasError(String field) {
    return errors.stream().anyMatch(e -> e.field().equals(field));
  }

  /** Ends validation: a 400 with every field error found, if any. */
  public void check() {
    if (!errors.isEmpty()) {
      throw ApiException.validation(errors);
    }
  }
}
