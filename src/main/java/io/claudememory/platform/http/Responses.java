package io.claudememory.platform.http;

import io.claudememory.audit.SecurityAudit;
import io.vertx.core.Future;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.RoutingContext;

/** The envelope of every success: {@code {data: ...}}; lists add {@code nextCursor}. */
public final class Responses {
  private Responses() {}

  public static void ok(RoutingContext ctx, Object data) {
    send(ctx, 200, new JsonObject().put("data", data));
  }

  public static void created(RoutingContext ctx, Object data) {
    send(ctx, 201, new JsonObject().put("data", data));
  }

  public static void page(RoutingContext ctx, JsonArray data, String nextCursor) {
    send(ctx, 200, new JsonObject().put("data", data).put("nextCursor", nextCursor));
  }

  public static void noContent(RoutingContext ctx) {
    Idempotency.record(ctx, 204, Buffer.buffer()).onComplete(stored -> ctx.response().setStatusCode(204).end());
  }

  private static void send(RoutingContext ctx, int status, JsonObject body) {
    Buffer buffer = body.toBuffer();
    Idempotency.record(ctx, status, buffer).onComplete(stored ->
        ctx.response().setStatusCode(status).putHeader("Content-Type", "application/json").end(buffer));
  }

  /** Completes a request with {@code onSuccess}, or hands the failure to the failure handler. */
  public static <T> void reply(RoutingContext ctx, Future<T> result, java.util.function.Consumer<T> onSuccess) {
    result.onSuccess(onSuccess::accept).onFailure(ctx::fail);
  }

  public static SecurityAudit.Caller caller(RoutingContext ctx) {
    var address = ctx.request().remoteAddress();
    return new SecurityAudit.Caller(address == null ? null : address.hostAddress(), RequestIds.of(ctx));
  }
}
