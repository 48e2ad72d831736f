package io.claudememory.platform.http;

import io.vertx.core.Handler;
import io.vertx.ext.web.RoutingContext;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One log line per request: method, path, masked query, status, duration, request id and user id. Query values whose
 * names suggest a credential are replaced by {@code ***}: a WebSocket token in {@code ?token=} never reaches a log.
 */
public final class AccessLog implements Handler<RoutingContext> {
  private static final Logger LOG = LoggerFactory.getLogger("access");
  private static final Pattern SECRET_PARAM = Pattern.compile(
      "(?i)([?&]?(?:[a-z_]*token|api_?key|key|password|passphrase|secret|signature|code)=)[^&]*");

  @Override
  public void handle(RoutingContext ctx) {
    long start = System.nanoTime();
    ctx.addEndHandler(done -> {
      if (!LOG.isInfoEnabled()) {
        return;
      }
      String query = ctx.request().query();
      String path = ctx.request().path() + (query == null ? "" : "?" + mask(query));
      Principal principal = Principal.of(ctx);
      RequestIds.logging(ctx, () -> LOG.info("{} {} {} {}ms user={}", ctx.request().method(), path,
          ctx.response().getStatusCode(), (System.nanoTime() - start) / 1_000_000,
          principal == null ? "-" : principal.userId()));
    });
    ctx.next();
  }

  static String mask(String query) {
    return SECRET_PARAM.matcher(query).replaceAll("$1***");
  }
}
