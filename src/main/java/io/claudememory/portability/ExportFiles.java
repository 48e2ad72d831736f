package io.claudememory.portability;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.Tuple;
import java.time.OffsetDateTime;
import java.util.UUID;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The master {@code export_files} registry: a file is published here only once written and verified; a download
 * finds it by job and owner; {@link #deleteExpired} removes files past their expiry (run periodically on every node:
 * the row update is the claim, so each file is deleted once).
 */
public final class ExportFiles {
  private static final Logger LOG = LoggerFactory.getLogger(ExportFiles.class);
  static final String PUBLISH = """
      INSERT INTO export_files (job_id, user_id, path, file_name, content_type, size, sha256, encrypted, expires_at)
      VALUES ($1, $2, $3, $4, $5, $6, $7, $8, now() + make_interval(hours => $9))
      ON CONFLICT (job_id) DO UPDATE SET path = EXCLUDED.path, file_name = EXCLUDED.file_name,
        content_type = EXCLUDED.content_type, size = EXCLUDED.size, sha256 = EXCLUDED.sha256,
        encrypted = EXCLUDED.encrypted, expires_at = EXCLUDED.expires_at, deleted_at = NULL
      RETURNING expires_at""";
  static final String FIND_OWN = """
      SELECT job_id, path, file_name, content_type, size, sha256, encrypted, expires_at, deleted_at,
        expires_at < now() AS expired
      FROM export_files WHERE job_id = $1 AND user_id = $2""";
  static final String CLAIM_EXPIRED = """
      UPDATE export_files SET deleted_at = now()
      WHERE job_id IN (SELECT job_id FROM export_files WHERE deleted_at IS NULL AND expires_at < now()
                       ORDER BY expires_at LIMIT 100 FOR UPDATE SKIP LOCKED)
      RETURNING path""";

  /** A published file as a download needs it. */
  public record ExportFile(UUID jobId, String path, String fileName, String contentType, long size, String sha256,
      boolean encrypted, boolean gone) {}

  private final Vertx vertx;
  private final Pool master;
  private final int downloadHours;

  public ExportFiles(Vertx vertx, Pool master, int downloadHours) {
    this.vertx = vertx;
    this.master = master;
    this.downloadHours = downloadHours;
  }

  Future<OffsetDateTime> publish(UUID jobId, UUID userId, String path, String fileName, String contentType,
      long size, String sha256, boolean encrypted) {
    return master.preparedQuery(PUBLISH).execute(Tuple.from(new Object[] {jobId, userId, path, fileName,
        contentType, size, sha256, encrypted, downloadHours}))
        .map(rows -> rows.iterator().next().getOffsetDateTime(0));
  }

  /** The caller's file, or null; {@code gone} when it expired or was deleted. */
  public Future<ExportFile> findOwn(UUID userId, UUID jobId) {
    return master.preparedQuery(FIND_OWN).execute(Tuple.of(jobId, userId)).map(rows -> {
      if (rows.size() == 0) {
        return null;
      }
      Row r = rows.iterator().next();
      return new ExportFile(r.getUUID("job_id"), r.getString("path"), r.getString("file_name"),
          r.getString("content_type"), r.getLong("size"), r.getString("sha256"), r.getBoolean("encrypted"),
          r.getOffsetDateTime("deleted_at") != null || r.getBoolean("expired"));
    });
  }

  /** Deletes the files whose download time is over; returns how many. */
  public Future<Integer> deleteExpired() {
    return master.preparedQuery(CLAIM_EXPIRED).execute().compose(rows -> {
      Future<Void> chain = Future.succeededFuture();
      for (Row row : rows) {
        String path = row.getString(0);
        chain = chain.compose(v -> vertx.fileSystem().delete(path).recover(err -> {
          LOG.debug("expired export {} already gone: {}", path, err.getMessage());
          return Future.succeededFuture();
        }));
      }
      return chain.map(rows.size());
    });
  }

  static JsonObject describe(String fileName, long size, String sha256, boolean encrypted, OffsetDateTime expires,
      UUID jobId) {
    return new JsonObject().put("fileName", fileName).put("size", size).put("sha256", sha256)
        .put("encrypted", encrypted).put("expiresAt", expires.toInstant().toString())
        .put("downloadUrl", "/api/v1/export/download/" + jobId);
  }
}
