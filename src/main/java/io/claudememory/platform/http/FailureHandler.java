package io.claudememory.platform.http;

import io.vertx.core.Handler;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.core.json.DecodeException;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.RoutingContext;
import io.vertx.ext.web.handler.HttpException;
import io.vertx.pgclient.PgException;
import java.sql.SQLException;
import java.util.Locale;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The one place where failures become RFC 9457 problems ({@code application/problem+json}). Expected failures (4xx)
 * are logged at debug without a stack trace; anything else is a 500 that logs its stack trace and tells the client
 * only the request id. Never answers twice: a response already ended is left alone.
 */
public final class FailureHandler implements Handler<RoutingContext> {
  private static final Logger LOG = LoggerFactory.getLogger(FailureHandler.class);
  private static final long MAX_DISCARD = 64L * 1024 * 1024;

  @Override
  public void handle(RoutingContext ctx) {
    ApiException problem = toProblem(ctx.failure(), ctx.statusCode());
    if (problem.status() >= 500 && !(ctx.failure() instanceof ApiException)) {
      RequestIds.logging(ctx, () -> LOG.error("{} {} failed with status {}", ctx.request().method(),
          ctx.request().path(), ctx.statusCode(), ctx.failure()));
    } else if (LOG.isDebugEnabled()) {
      RequestIds.logging(ctx, () -> LOG.debug("{} {} -> {} {}", ctx.request().method(), ctx.request().path(),
          problem.status(), problem.getMessage()));
    }
    Idempotency.release(ctx).onComplete(released -> send(ctx, problem));
  }

  /** Writes a problem; used by this handler and by the router's 404/405 handlers. */
  public static void send(RoutingContext ctx, ApiException problem) {
    HttpServerResponse response = ctx.response();
    if (response.ended()) {
      return;
    }
    if (response.closed()) {
      // The client left: nothing reaches it, but ending says the request's handling is over (InFlightRequests).
      response.end();
      return;
    }
    if (response.headWritten()) {
      response.reset();
      return;
    }
    if (problem.retryAfter() != null) {
      response.putHeader("Retry-After", problem.retryAfter());
    }
    response.setStatusCode(problem.status())
        .putHeader("Content-Type", "application/problem+json")
        .end(body(problem, ctx.request().path(), RequestIds.of(ctx)).toBuffer());
    if (!ctx.request().isEnded()) {
      discardRest(ctx.request());
    }
  }

  /** The RFC 9457 document of {@code problem}. */
  static JsonObject body(ApiException problem, String instance, String requestId) {
    JsonObject body = new JsonObject()
        .put("type", "urn:claude-memory:problem:" + slug(problem.title()))
        .put("title", problem.title())
        .put("status", problem.status())
        .put("detail", problem.getMessage())
        .put("instance", instance)
        .put("requestId", requestId);
    if (!problem.errors().isEmpty()) {
      JsonArray errors = new JsonArray();
      problem.errors().forEach(e -> errors.add(new JsonObject().put("field", e.field()).put("message", e.message())));
      body.put("errors", errors);
    }
    return body;
  }

  /**
   * Answering before the body was read (a 413, say) leaves the rest of it on the connection, where it would be taken
   * for the next request and hang it. The rest is read and dropped so the client gets its answer and the connection
   * stays usable; past {@link #MAX_DISCARD} bytes the connection is closed instead.
   */
  private static void discardRest(HttpServerRequest request) {
    long[] dropped = {0};
    try {
      request.handler(chunk -> {
        dropped[0] += chunk.length();
        if (dropped[0] > MAX_DISCARD) {
          request.connection().close();
        }
      });
      request.resume();
    } catch (IllegalStateException alreadyConsumed) {
      request.connection().close();
    }
  }

  /**
   * What {@code failure} means for the client (a status of -1 when there is none): used here, and by the WebSocket
   * protocol to choose its error codes by the same rules.
   */
  public static ApiException toProblem(Throwable failure, int statusCode) {
    if (failure instanceof ApiException api) {
      return api;
    }
    if (failure instanceof DecodeException || failure instanceof IllegalStateException
        && failure.getCause() instanceof DecodeException) {
      return ApiException.badRequest("The body is not valid JSON.");
    }
    String sqlState = sqlState(failure);
    if (sqlState != null) {
      return fromSqlState(sqlState);
    }
    if (failure instanceof HttpException http) {
      return fromStatus(http.getStatusCode(), http.getPayload());
    }
    if (failure == null && statusCode > 0 || statusCode >= 400 && statusCode < 500) {
      // A handler's ctx.fail(4xx, cause), e.g. CorsHandler refusing an origin: the status is the answer.
      return fromStatus(statusCode, null);
    }
    return new ApiException(500, "Internal Server Error",
        "The server could not complete the request. Quote the requestId when reporting it.");
  }

  /**
   * The SQL state of a database error anywhere in the cause chain: the reactive client's own, or one from JDBC (the
   * migrations a registration or a database switch runs go through Flyway, which wraps it).
   */
  private static String sqlState(Throwable failure) {
    for (Throwable t = failure; t != null; t = t.getCause() == t ? null : t.getCause()) {
      if (t instanceof PgException pg) {
        return pg.getSqlState();
      }
      if (t instanceof SQLException sql && sql.getSQLState() != null) {
        return sql.getSQLState();
      }
    }
    return null;
  }

  /** PostgreSQL errors that describe the request rather than the server. */
  private static ApiException fromSqlState(String state) {
    return switch (state == null ? "" : state) {
      case "23505" -> ApiException.conflict("A resource with the same unique value already exists.");
      case "23503" -> ApiException.conflict("The request refers to a resource that does not exist or is in use.");
      // 22021: text PostgreSQL cannot store, e.g. a NUL character (\u0000) in a JSON string or query parameter
      case "22P02", "22001", "22003", "22007", "22008", "22021" ->
          ApiException.badRequest("A value has the wrong format.");
      case "53300", "57P01", "57P03", "08006", "08001" ->
          ApiException.unavailable("The database is temporarily unavailable.", 5);
      default -> new ApiException(500, "Internal Server Error",
          "The server could not complete the request. Quote the requestId when reporting it.");
    };
  }

  static ApiException fromStatus(int status, String payload) {
    return switch (status) {
      case 400 -> ApiException.badRequest(payload != null ? payload : "The request is malformed.");
      case 401 -> ApiException.unauthorized("Authentication is required.");
      case 403 -> ApiException.forbidden("You are not allowed to do this.");
      case 404 -> new ApiException(404, "Not Found", "No such resource.");
      case 405 -> new ApiException(405, "Method Not Allowed", "This method is not allowed on this resource.");
      case 413 -> new ApiException(413, "Payload Too Large", "The request body is larger than the server accepts.");
      case 415 -> new ApiException(415, "Unsupported Media Type", "The body must be application/json.");
      case 429 -> ApiException.tooManyRequests("Too many requests.", 1);
      case 503 -> ApiException.unavailable("The service is temporarily unavailable.", 5);
      default -> status >= 400 && status < 500
          ? new ApiException(status, "Client Error", payload != null ? payload : "The request cannot be served.")
          : new ApiException(500, "Internal Server Error",
              "The server could not complete the request. Quote the requestId when reporting it.");
    };
  }

  private static String slug(String title) {
    return title.toLowerCase(Locale.ROOT).replaceAll("[^a-z0-9]+", "-");
  }
}
