package io.claudememory.platform.http;

import io.vertx.core.Context;
import io.vertx.core.Handler;
import io.vertx.core.Vertx;
import io.vertx.core.spi.context.storage.ContextLocal;
import io.vertx.ext.web.RoutingContext;
import java.util.UUID;
import java.util.regex.Pattern;
import org.slf4j.MDC;

/**
 * Gives every request an id: the client's {@code X-Request-Id} when it is well formed, else a new one. The id is
 * echoed on the response, put into problems, and kept on the request's (duplicated) Vert.x context so that every log
 * line written while handling the request carries it (see {@code RequestIdConverter}).
 *
 * <p>The context local is only as right as the context a callback runs on: a future shared between requests (a tenant
 * pool being opened, say) completes its later listeners on the context of the request that created it, whose id
 * they would then log. The lines that describe one request (the access line, a failure) are therefore written
 * through {@link #logging}, which names the request explicitly.
 */
public final class RequestIds implements Handler<RoutingContext> {
  public static final String HEADER = "X-Request-Id";
  /** The MDC key a line written through {@link #logging} carries its request id under. */
  public static final String MDC_KEY = "requestId";
  private static final Pattern WELL_FORMED = Pattern.compile("[A-Za-z0-9._:-]{1,128}");
  /** Registered at class load, before any Vertx instance exists, as ContextLocal requires. */
  public static final ContextLocal<String> LOCAL = ContextLocal.registerLocal(String.class);

  @Override
  public void handle(RoutingContext ctx) {
    String given = ctx.request().getHeader(HEADER);
    String id = given != null && WELL_FORMED.matcher(given).matches() ? given : UUID.randomUUID().toString();
    ctx.put(HEADER, id);
    ctx.response().putHeader(HEADER, id);
    Context context = Vertx.currentContext();
    if (context != null) {
      LOCAL.put(context, id);
    }
    ctx.next();
  }

  public static String of(RoutingContext ctx) {
    return ctx.get(HEADER);
  }

  /** Runs {@code line} (a log call) with {@code ctx}'s request id as the one its lines carry, whatever the context. */
  public static void logging(RoutingContext ctx, Runnable line) {
    String previous = MDC.get(MDC_KEY);
    MDC.put(MDC_KEY, of(ctx));
    try {
      line.run();
    } finally {
      if (previous == null) {
        MDC.remove(MDC_KEY);
      } else {
        MDC.put(MDC_KEY, previous);
      }
    }
  }

  /** The id of the request being handled on this thread's context, or null. */
  public static String current() {
    Context context = Vertx.currentContext();
    return context == null ? null : LOCAL.get(context);
  }

  /**
   * Makes sure {@link #LOCAL} is registered; Vert.x accepts context locals only before the first Vertx instance is
   * built, so whoever builds one calls this first.
   */
  public static void registerContextLocal() {
    if (LOCAL == null) {
      throw new IllegalStateException("unreachable: the static initialiser has run");
    }
  }
}
