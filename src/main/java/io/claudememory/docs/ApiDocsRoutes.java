package io.claudememory.docs;

import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import io.vertx.ext.web.handler.StaticHandler;

/**
 * The API describing itself: {@code GET /api/openapi.yaml} is the contract (the {@code openapi.yaml} resource, which
 * tests check every answer against) and {@code GET /api/docs} an interactive page for it, Swagger UI served from its
 * webjar under {@code /api/docs/assets/} (no CDN). The page runs no inline script, so its Content-Security-Policy
 * (set with every other security header in {@code SecurityHeaders}) allows scripts from this origin only.
 */
public final class ApiDocsRoutes {
  /** Where the swagger-ui webjar (its version pinned in pom.xml) keeps its files on the classpath. */
  private static final String SWAGGER_UI = "META-INF/resources/webjars/swagger-ui/5.27.1";

  public void mount(Router root) {
    root.get("/api/openapi.yaml").handler(ctx -> send(ctx, "openapi.yaml", "application/yaml; charset=utf-8"));
    root.get("/api/docs").handler(ctx -> send(ctx, "api-docs/index.html", "text/html; charset=utf-8"));
    root.get("/api/docs/swagger-init.js")
        .handler(ctx -> send(ctx, "api-docs/swagger-init.js", "text/javascript; charset=utf-8"));
    root.get("/api/docs/assets/*").handler(StaticHandler.create(SWAGGER_UI).setDirectoryListing(false));
  }

  /** Sends a classpath resource; {@code sendFile} reads it off the event loop. */
  private static void send(RoutingContext ctx, String resource, String contentType) {
    ctx.response().putHeader("Content-Type", contentType).sendFile(resource).onFailure(ctx::fail);
  }
}
