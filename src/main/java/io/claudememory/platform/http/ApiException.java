package io.claudememory.platform.http;

import java.util.List;

/**
 * A failure with a meaning for the client: turned into an RFC 9457 problem by {@link FailureHandler}. Carries no
 * stack trace (it is expected, not a bug).
 */
public class ApiException extends RuntimeException {
  private final int status;
  private final String title;
  private final List<FieldError> errors;
  private final String retryAfter;

  /** One invalid field of a request. */
  public record FieldError(String field, String message) {}

  public ApiException(int status, String title, String detail) {
    this(status, title, detail, List.of(), null);
  }

  public ApiException(int status, String title, String detail, List<FieldError> errors, String retryAfter) {
    super(detail, null, false, false);
    this.status = status;
    this.title = title;
    this.errors = List.copyOf(errors);
    this.retryAfter = retryAfter;
  }

  public int status() {
    return status;
  }

  public String title() {
    return title;
  }

  public List<FieldError> errors() {
    return errors;
  }

  public String retryAfter() {
    return retryAfter;
  }

  public static ApiException badRequest(String detail) {
    return new ApiException(400, "Bad Request", detail);
  }

  public static ApiException validation(List<FieldError> errors) {
    return new ApiException(400, "Validation failed", "The request has invalid fields.", errors, null);
  }

  public static ApiException validation(String field, String message) {
    return validation(List.of(new FieldError(field, message)));
  }

  public static ApiException unauthorized(String detail) {
    return new ApiException(401, "Unauthorized", detail);
  }

  public static ApiException forbidden(String detail) {
    return new ApiException(403, "Forbidden", detail);
  }

  public static ApiException notFound(String what) {
    return new ApiException(404, "Not Found", what + " was not found.");
  }

  public static ApiException conflict(String detail) {
    return new ApiException(409, "Conflict", detail);
  }

  public static ApiException unavailable(String detail, int retryAfterSeconds) {
    return new ApiException(503, "Service Unavailable", detail, List.of(), Integer.toString(retryAfterSeconds));
  }

  public static ApiException tooManyRequests(String detail, int retryAfterSeconds) {
    return new ApiException(429, "Too Many Requests", detail, List.of(), Integer.toString(retryAfterSeconds));
  }
}
