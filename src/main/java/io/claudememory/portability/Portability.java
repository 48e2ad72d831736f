package io.claudememory.portability;

import io.claudememory.audit.SecurityAudit;
import io.claudememory.jobs.Jobs;
import io.claudememory.platform.crypto.SecretBox;
import io.claudememory.platform.db.TenantPools;
import io.claudememory.platform.http.ApiException;
import io.claudememory.platform.http.Ids;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Tuple;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import java.util.UUID;

/** The use cases behind {@link ExportRoutes}: submitting export and import jobs, showing them, downloads. */
public final class Portability {
  private static final Set<String> KINDS = Set.of(ExportJob.KIND, ImportJob.KIND);
  static final String PROJECT_EXISTS = "SELECT 1 FROM projects WHERE id = $1";
  static final String CONVERSATION_EXISTS = "SELECT 1 FROM conversations WHERE id = $1";

  private final Vertx vertx;
  private final Pool master;
  private final Jobs jobs;
  private final TenantPools pools;
  private final SecretBox secrets;
  private final ExportFiles files;
  private final SecurityAudit audit;
  private final Path storage;
  private final int maxActiveJobs;

  /** {@code maxActiveJobs}: exports and imports one user may have queued or running at once. */
  public Portability(Vertx vertx, Pool master, Jobs jobs, TenantPools pools, SecretBox secrets, ExportFiles files,
      SecurityAudit audit, Path storage, int maxActiveJobs) {
    this.vertx = vertx;
    this.master = master;
    this.jobs = jobs;
    this.pools = pools;
    this.secrets = secrets;
    this.files = files;
    this.audit = audit;
    this.storage = storage;
    this.maxActiveJobs = maxActiveJobs;
  }

  Future<JsonObject> createExport(UUID userId, String scope, String format, UUID projectId, UUID conversationId,
      String passphrase) {
    JsonObject params = new JsonObject().put("scope", scope).put("format", format)
        .put("encrypted", passphrase != null);
    if (projectId != null) {
      params.put("projectId", projectId.toString());
    }
    if (conversationId != null) {
      params.put("conversationId", conversationId.toString());
    }
    if (passphrase != null) {
      params.put("passphrase", secrets.seal(passphrase, ExportJob.PASSPHRASE_CONTEXT + userId));
    }
    Future<Void> exists = projectId != null ? mustExist(userId, PROJECT_EXISTS, projectId, "The project")
        : conversationId != null ? mustExist(userId, CONVERSATION_EXISTS, conversationId, "The conversation")
        : Future.succeededFuture();
    return exists.compose(ok -> submit(userId, ExportJob.KIND, params));
  }

  Future<JsonObject> submitImport(UUID userId, String uploaded, String fileName, long size, String passphrase) {
    UUID uploadId = Ids.newId();
    Path dir = storage.resolve("imports").resolve(userId.toString());
    String target = dir.resolve(uploadId + ".upload").toString();
    JsonObject params = new JsonObject().put("fileName", fileName == null ? null
        : fileName.length() > 255 ? fileName.substring(0, 255) : fileName).put("size", size).put("upload", target)
        .put("encrypted", passphrase != null);
    if (passphrase != null) {
      params.put("passphrase", secrets.seal(passphrase, ExportJob.PASSPHRASE_CONTEXT + userId));
    }
    return vertx.fileSystem().mkdirs(dir.toString())
        .compose(v -> vertx.fileSystem().move(uploaded, target))
        .compose(v -> submit(userId, ImportJob.KIND, params)
            .recover(err -> vertx.fileSystem().delete(target).transform(ignored -> Future.failedFuture(err))));
  }

  private Future<JsonObject> submit(UUID userId, String kind, JsonObject params) {
    return jobs.insertUnlessBusy(userId, kind, params, List.of(ExportJob.KIND, ImportJob.KIND), maxActiveJobs)
        .onSuccess(jobs::kick).map(Jobs::visible);
  }

  private Future<Void> mustExist(UUID userId, String sql, UUID id, String what) {
    return pools.withPool(userId, pool -> pool.preparedQuery(sql).execute(Tuple.of(id)))
        .compose(rows -> rows.size() == 0 ? Future.failedFuture(ApiException.notFound(what))
            : Future.succeededFuture());
  }

  /**
   * The caller's export or import job; another's, or another kind, is not found. A finished export's result says
   * whether its download time is over ({@code expired}: the file is deleted, or about to be).
   */
  Future<JsonObject> findJob(UUID userId, UUID jobId) {
    return jobs.findOwn(userId, jobId).compose(job -> {
      if (job == null || !KINDS.contains(job.getString("kind"))) {
        return Future.failedFuture(ApiException.notFound("The job"));
      }
      JsonObject result = job.getJsonObject("result");
      if (!ExportJob.KIND.equals(job.getString("kind")) || !"succeeded".equals(job.getString("status"))
          || result == null) {
        return Future.succeededFuture(job);
      }
      return files.findOwn(userId, jobId).map(file -> {
        result.put("expired", file == null || file.gone());
        return job;
      });
    });
  }

  /** The file to stream, once the download is audited; 404 when not the caller's or not ready, 410 once expired. */
  Future<ExportFiles.ExportFile> download(UUID userId, UUID jobId, SecurityAudit.Caller caller) {
    return files.findOwn(userId, jobId).compose(file -> {
      if (file == null) {
        return Future.failedFuture(ApiException.notFound("The export"));
      }
      if (file.gone()) {
        // the periodic sweep would delete it within a minute; no reason to keep it that long
        files.deleteExpired();
        return Future.failedFuture(new ApiException(410, "Gone",
            "This export has expired and its file was deleted; create a new export."));
      }
      return audit.record(master, userId, userId, "export.downloaded", caller, new JsonObject()
          .put("jobId", jobId.toString()).put("size", file.size()).put("sha256", file.sha256())).map(file);
    });
  }
}
