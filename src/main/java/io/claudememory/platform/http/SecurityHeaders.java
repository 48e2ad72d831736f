package io.claudememory.platform.http;

import io.vertx.core.Handler;
import io.vertx.core.MultiMap;
import io.vertx.ext.web.RoutingContext;

/**
 * Security headers on every response, errors included. The API answers JSON only, so its CSP allows nothing at all;
 * the documentation page ({@code /api/docs}, Swagger UI) gets a policy that lets it load its own scripts and styles
 * from {@code /api/docs/*} and fetch {@code /api/openapi.yaml}, still with no inline script and no framing. HSTS is
 * sent in production only (development runs on plain http://localhost, where a pinned HSTS would break other apps).
 */
public final class SecurityHeaders implements Handler<RoutingContext> {
  static final String API_CSP = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'";
  /** Swagger UI sets inline style attributes, hence 'unsafe-inline' for styles only; scripts must be files. */
  static final String DOCS_CSP = "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
      + "img-src 'self' data:; font-src 'self'; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; "
      + "form-action 'none'";
  static final String HSTS = "max-age=31536000; includeSubDomains";
  private final boolean production;

  public SecurityHeaders(boolean production) {
    this.production = production;
  }

  @Override
  public void handle(RoutingContext ctx) {
    apply(ctx.response().headers(), RequestTargets.path(ctx), production);
    ctx.next();
  }

  /** Sets the headers for an answer to {@code path} (the normalised request path). */
  static void apply(MultiMap headers, String path, boolean production) {
    boolean docs = path.equals("/api/docs") || path.startsWith("/api/docs/");
    headers.set("X-Content-Type-Options", "nosniff");
    headers.set("X-Frame-Options", "DENY");
    headers.set("Referrer-Policy", "no-referrer");
    headers.set("Cross-Origin-Opener-Policy", "same-origin");
    headers.set("Content-Security-Policy", docs ? DOCS_CSP : API_CSP);
    if (!docs && path.startsWith("/api/v1/")) {
      // Answers carry tokens and personal data: no shared or browser cache keeps them.
      headers.set("Cache-Control", "no-store");
    }
    if (production) {
      headers.set("Strict-Transport-Security", HSTS);
    }
  }
}
