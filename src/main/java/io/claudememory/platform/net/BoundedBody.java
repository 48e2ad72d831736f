package io.claudememory.platform.net;

import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClientResponse;

/**
 * Reads the body of an answer from a server we do not control (Claude, an n8n workflow, a webhook endpoint) up to a
 * limit: an answer that is larger is cut off (its request reset, which closes the connection) instead of being
 * buffered whole, so an upstream that sends without end cannot exhaust memory or hold a connection forever.
 */
public final class BoundedBody {
  private BoundedBody() {}

  /** The body was larger than the limit; its connection was closed. */
  public static final class TooLarge extends RuntimeException {
    public TooLarge(long limit) {
      super("the answer was larger than " + limit + " bytes", null, false, false);
    }
  }

  /** The whole body, or a failed {@link TooLarge} once it passes {@code maxBytes}. */
  public static Future<Buffer> read(HttpClientResponse response, long maxBytes) {
    Promise<Buffer> done = Promise.promise();
    Buffer body = Buffer.buffer();
    response.handler(chunk -> {
      if (done.future().isComplete()) {
        return;
      }
      if (body.length() + (long) chunk.length() > maxBytes) {
        done.tryFail(new TooLarge(maxBytes));
        response.request().reset();
        return;
      }
      body.appendBuffer(chunk);
    });
    response.exceptionHandler(done::tryFail);
    response.endHandler(v -> done.tryComplete(body));
    return done.future();
  }

  /** Reads and drops the body; past {@code maxBytes} the connection is closed and the answer counts as read. */
  public static Future<Void> discard(HttpClientResponse response, long maxBytes) {
    return read(response, maxBytes).<Void>mapEmpty()
        .recover(err -> err instanceof TooLarge ? Future.succeededFuture() : Future.failedFuture(err));
  }
}
