package io.claudememory.platform.http;

import io.netty.handler.codec.http.TooLongHttpHeaderException;
import io.netty.handler.codec.http.TooLongHttpLineException;
import io.vertx.core.Handler;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.HttpServerResponse;
import java.util.UUID;

/**
 * Answers the requests the HTTP decoder refuses before any route runs (a request line or URI it cannot parse, a URI
 * longer than the server reads, headers too large) as problems like every other error: with a request id, the
 * security headers, and 400, 414 or 431. Vert.x's own answer is a bare text body. The connection is closed after it,
 * since the rest of what the client sent cannot be trusted to be a request.
 */
final class InvalidRequests implements Handler<HttpServerRequest> {
  private final boolean production;

  InvalidRequests(boolean production) {
    this.production = production;
  }

  @Override
  public void handle(HttpServerRequest request) {
    Throwable cause = request.decoderResult().cause();
    ApiException problem;
    if (cause instanceof TooLongHttpLineException) {
      problem = new ApiException(414, "URI Too Long", "The request URI is longer than the server accepts.");
    } else if (cause instanceof TooLongHttpHeaderException) {
      problem = new ApiException(431, "Request Header Fields Too Large",
          "The request headers are larger than the server accepts.");
    } else {
      problem = ApiException.badRequest("The request line or its URI is malformed.");
    }
    String requestId = UUID.randomUUID().toString();
    HttpServerResponse response = request.response();
    SecurityHeaders.apply(response.headers(), "", production);
    response.setStatusCode(problem.status())
        .putHeader(RequestIds.HEADER, requestId)
        .putHeader("Content-Type", "application/problem+json")
        .putHeader("Connection", "close")
        .end(FailureHandler.body(problem, instance(request), requestId).toBuffer());
  }

  /** The path when the decoder read one, else empty: a problem's instance never echoes an unreadable URI. */
  private static String instance(HttpServerRequest request) {
    if (request.decoderResult().cause() instanceof TooLongHttpLineException) {
      return "";
    }
    try {
      return request.path() == null ? "" : request.path();
    } catch (RuntimeException unreadable) {
      return "";
    }
  }
}
