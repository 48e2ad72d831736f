package io.claudememory.portability;

import static io.claudememory.platform.http.Responses.caller;
import static io.claudememory.platform.http.Responses.reply;

import io.claudememory.auth.Authenticator;
import io.claudememory.platform.http.ApiException;
import io.claudememory.platform.http.Ids;
import io.claudememory.platform.http.Principal;
import io.claudememory.platform.http.Responses;
import io.claudememory.platform.http.Validation;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import java.util.Base64;
import java.util.HexFormat;
import java.util.List;
import java.util.Set;
import java.util.UUID;

/**
 * {@code /api/v1/export}: create (202 with the job), the job, the download (streamed, with its size and SHA-256) and
 * import (a multipart upload streamed to disk under STORAGE_PATH, then a job).
 */
public final class ExportRoutes {
  /** The upload route reads its own body (see {@link io.claudememory.platform.http.ApiRouter}). */
  public static final String IMPORT_PATH = "/api/v1/export/import";
  private static final Set<String> CREATE_FIELDS = Set.of("scope", "projectId", "conversationId", "format",
      "passphrase");
  private static final List<String> SCOPES = List.of("all", "project", "conversation");
  private static final List<String> FORMATS = List.of("json", "markdown", "csv");

  private final Portability portability;
  private final Authenticator auth;
  private final UploadReader uploads;

  public ExportRoutes(Portability portability, Authenticator auth, String uploadsDirectory, long maxUploadBytes) {
    this.portability = portability;
    this.auth = auth;
    this.uploads = new UploadReader(uploadsDirectory, maxUploadBytes);
  }

  public void mount(Router api) {
    api.post("/export/create").handler(auth).handler(this::createExport);
    api.get("/export/jobs/:id").handler(auth).handler(this::showJob);
    api.get("/export/download/:jobId").handler(auth).handler(this::downloadExport);
    // paused until the caller is known, so an anonymous upload never reaches the disk
    api.post("/export/import").handler(ctx -> {
      ctx.request().pause();
      ctx.next();
    }).handler(auth).handler(this::requireMultipart).handler(uploads).handler(this::importFile);
  }

  private void createExport(RoutingContext ctx) {
    Validation v = Validation.of(ctx, CREATE_FIELDS);
    String scope = oneOf(v, "scope", SCOPES, "all");
    String format = oneOf(v, "format", FORMATS, "json");
    UUID projectId = v.optionalUuid("projectId");
    UUID conversationId = v.optionalUuid("conversationId");
    String passphrase = v.has("passphrase") ? v.requiredSecret("passphrase") : null;
    if (passphrase != null && (passphrase.length() < 8 || passphrase.length() > 1024)) {
      v.error("passphrase", "must be 8 to 1024 characters");
    }
    if ("project".equals(scope) && projectId == null && !v.hasError("projectId")) {
      v.error("projectId", "is required when scope is project");
    }
    if ("conversation".equals(scope) && conversationId == null && !v.hasError("conversationId")) {
      v.error("conversationId", "is required when scope is conversation");
    }
    if (!"project".equals(scope) && projectId != null) {
      v.error("projectId", "is only for scope project");
    }
    if (!"conversation".equals(scope) && conversationId != null) {
      v.error("conversationId", "is only for scope conversation");
    }
    v.check();
    reply(ctx, portability.createExport(Principal.required(ctx).userId(), scope, format, projectId, conversationId,
        passphrase), job -> accepted(ctx, job));
  }

  private void showJob(RoutingContext ctx) {
    reply(ctx, portability.findJob(Principal.required(ctx).userId(), Ids.pathId(ctx, "id", "The job")),
        job -> Responses.ok(ctx, job));
  }

  private void downloadExport(RoutingContext ctx) {
    UUID jobId = Ids.pathId(ctx, "jobId", "The export");
    reply(ctx, portability.download(Principal.required(ctx).userId(), jobId, caller(ctx)), file -> ctx.response()
        .putHeader("Content-Type", file.contentType())
        .putHeader("Content-Disposition", "attachment; filename=\"" + file.fileName() + "\"")
        .putHeader("Digest", "sha-256=" + Base64.getEncoder().encodeToString(HexFormat.of().parseHex(file.sha256())))
        .putHeader("X-Content-SHA256", file.sha256())
        .putHeader("X-Export-Size", Long.toString(file.size()))
        .putHeader("Cache-Control", "no-store")
        .sendFile(file.path()).onFailure(ctx::fail));
  }

  private void requireMultipart(RoutingContext ctx) {
    String type = ctx.request().getHeader("Content-Type");
    if (type == null || !type.toLowerCase().startsWith("multipart/form-data")) {
      ctx.request().resume();
      ctx.fail(ApiException.badRequest("Send the file as multipart/form-data, in a part named file."));
      return;
    }
    ctx.next();
  }

  private void importFile(RoutingContext ctx) {
    List<UploadReader.Upload> uploaded = ctx.get(UploadReader.UPLOADS);
    List<UploadReader.Upload> files = uploaded.stream().filter(f -> f.name().equals("file")).toList();
    if (files.size() != 1 || uploaded.size() != 1) {
      throw ApiException.validation("file", "exactly one file is required, in a part named file");
    }
    String passphrase = ctx.request().getFormAttribute("passphrase");
    if (passphrase != null && (passphrase.isEmpty() || passphrase.length() > 1024)) {
      throw ApiException.validation("passphrase", "must be 1 to 1024 characters");
    }
    UploadReader.Upload file = files.get(0);
    reply(ctx, portability.submitImport(Principal.required(ctx).userId(), file.path(), file.fileName(),
        file.size(), passphrase), job -> accepted(ctx, job));
  }

  private static void accepted(RoutingContext ctx, JsonObject job) {
    ctx.response().setStatusCode(202).putHeader("Content-Type", "application/json")
        .putHeader("Location", "/api/v1/export/jobs/" + job.getString("id"))
        .end(new JsonObject().put("data", job).toBuffer());
  }

  private static String oneOf(Validation v, String field, List<String> allowed, String fallback) {
    String value = v.optionalString(field, 1, 40);
    if (value == null) {
      return fallback;
    }
    if (!allowed.contains(value)) {
      v.error(field, "must be one of " + String.join(", ", allowed));
    }
    return value;
  }
}
