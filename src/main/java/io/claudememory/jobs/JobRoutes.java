package io.claudememory.jobs;

import static io.claudememory.platform.http.Responses.reply;

import io.claudememory.auth.Authenticator;
import io.claudememory.platform.http.ApiException;
import io.claudememory.platform.http.Ids;
import io.claudememory.platform.http.Principal;
import io.claudememory.platform.http.Responses;
import io.vertx.core.Future;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;

/** {@code GET /api/v1/jobs/:id}: one job of the caller (anyone else's is not found). */
public final class JobRoutes {
  private final Jobs jobs;
  private final Authenticator auth;

  public JobRoutes(Jobs jobs, Authenticator auth) {
    this.jobs = jobs;
    this.auth = auth;
  }

  public void mount(Router api) {
    api.get("/jobs/:id").handler(auth).handler(this::showJob);
  }

  private void showJob(RoutingContext ctx) {
    reply(ctx, jobs.findOwn(Principal.required(ctx).userId(), Ids.pathId(ctx, "id", "The job"))
        .compose(job -> job == null ? Future.failedFuture(ApiException.notFound("The job"))
            : Future.succeededFuture(job)), job -> Responses.ok(ctx, job));
  }
}
