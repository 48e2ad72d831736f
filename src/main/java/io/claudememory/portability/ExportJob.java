package io.claudememory.portability;

import static io.claudememory.portability.RowStream.await;

import io.claudememory.jobs.JobContext;
import io.claudememory.jobs.JobHandler;
import io.claudememory.platform.crypto.SecretBox;
import io.claudememory.platform.db.TenantPools;
import io.claudememory.webhooks.Outbox;
import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.SqlConnection;
import io.vertx.sqlclient.Transaction;
import io.vertx.sqlclient.Tuple;
import java.io.BufferedOutputStream;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.DigestOutputStream;
import java.security.MessageDigest;
import java.time.Instant;
import java.util.HexFormat;
import java.util.UUID;
import java.util.zip.ZipOutputStream;

/**
 * The {@code export} job: streams the scope's rows from one consistent snapshot (a repeatable-read transaction)
 * into a ZIP, encrypted when a passphrase was given, written as {@code <job>.partial} while the SHA-256 is computed;
 * then reads the file back to verify size and digest, renames it and only then publishes it in {@link ExportFiles}
 * and records {@code export.completed} in the tenant's outbox. The event cannot share the master transaction that
 * publishes the file, so it is written under an id derived from the job and retried until it is recorded before the
 * job may end ({@link JobContext#untilDone}): recorded whatever fails meanwhile, and only once. Running the job again
 * (after an interruption) starts the file over.
 */
public final class ExportJob implements JobHandler {
  public static final String KIND = "export";
  static final String PASSPHRASE_CONTEXT = "export-passphrase:";
  private static final long PROGRESS_EVERY = 5000;

  private final TenantPools pools;
  private final JobThreads threads;
  private final ExportFiles files;
  private final SecretBox secrets;
  private final Path storage;
  private final int kdfIterations;

  public ExportJob(TenantPools pools, JobThreads threads, ExportFiles files, SecretBox secrets, Path storage,
      int kdfIterations) {
    this.pools = pools;
    this.threads = threads;
    this.files = files;
    this.secrets = secrets;
    this.storage = storage;
    this.kdfIterations = kdfIterations;
  }

  /** What was written and verified. */
  private record Written(Path path, String fileName, String contentType, long size, String sha256, boolean encrypted,
      JsonObject counts) {}

  @Override
  public String kind() {
    return KIND;
  }

  @Override
  public Future<JsonObject> run(JobContext ctx) {
    UUID tenant = ctx.userId();
    return pools.withPool(tenant, pool -> threads.run(() -> write(ctx, pool)))
        .compose(w -> files.publish(ctx.jobId(), tenant, w.path().toString(), w.fileName(), w.contentType(),
            w.size(), w.sha256(), w.encrypted()).map(expires -> ExportFiles.describe(w.fileName(), w.size(),
            w.sha256(), w.encrypted(), expires, ctx.jobId()).put("counts", w.counts())
            .put("format", ctx.params().getString("format")).put("scope", ctx.params().getString("scope"))))
        .compose(result -> ctx.untilDone("recording export.completed", () -> pools.withPool(tenant, pool ->
            Outbox.emitOnce(ctx.vertx(), pool, tenant, "export.completed", ctx.jobId(), new JsonObject()
                .put("jobId", ctx.jobId().toString()).put("format", result.getString("format"))
                .put("size", result.getLong("size")).put("sha256", result.getString("sha256")))))
            .map(eventId -> result));
  }

  private Written write(JobContext ctx, Pool pool) throws Exception {
    JsonObject params = ctx.params();
    String format = params.getString("format");
    String sealed = params.getString("passphrase");
    char[] passphrase = sealed == null ? null : secrets.open(sealed, PASSPHRASE_CONTEXT + ctx.userId()).toCharArray();
    Path dir = Files.createDirectories(storage.resolve("exports").resolve(ctx.userId().toString()));
    String fileName = "claude-memory-export-" + format + "-" + ctx.jobId().toString().substring(0, 8)
        + (passphrase == null ? ".zip" : ".zip.cmbx");
    Path partial = dir.resolve(ctx.jobId() + ".partial");
    Path done = dir.resolve(ctx.jobId() + (passphrase == null ? ".zip" : ".zip.cmbx"));
    MessageDigest sha = MessageDigest.getInstance("SHA-256");
    JsonObject counts;
    SqlConnection conn = await(pool.getConnection());
    try {
      Transaction tx = await(conn.begin());
      await(conn.query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY").execute());
      Row totals = await(conn.preparedQuery(ExportSql.COUNTS).execute(scope(params))).iterator().next();
      long total = Math.max(1, totals.getLong("conversations") + totals.getLong("messages"));
      long[] rows = {0};
      try (OutputStream file = new DigestOutputStream(new BufferedOutputStream(Files.newOutputStream(partial),
          1 << 16), sha);
           OutputStream sink = passphrase == null ? file : ExportCipher.encrypt(file, passphrase, kdfIterations);
           ZipOutputStream zip = new ZipOutputStream(sink)) {
        ExportWriter writer = new ExportWriter(conn, zip, uuid(params, "projectId"), uuid(params, "conversationId"),
            () -> {
              if (++rows[0] % PROGRESS_EVERY == 0) {
                await(ctx.progress(0.95 * rows[0] / total, new JsonObject().put("rows", rows[0])));
              }
            });
        counts = switch (format) {
          case "markdown" -> writer.markdown();
          case "csv" -> writer.csv();
          default -> writer.nativeBundle(new JsonObject().put("createdAt", Instant.now().toString())
              .put("scope", params.getString("scope")).put("projectId", params.getString("projectId"))
              .put("conversationId", params.getString("conversationId")));
        };
      }
      await(tx.commit());
    } finally {
      conn.close();
    }
    String sha256 = HexFormat.of().formatHex(sha.digest());
    long size = Files.size(partial);
    verify(partial, size, sha256);
    Files.move(partial, done, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    return new Written(done, fileName, passphrase == null ? "application/zip" : "application/octet-stream", size,
        sha256, passphrase != null, counts);
  }

  /** Reads the file back: what is published is exactly what was written. */
  private static void verify(Path file, long size, String sha256) throws Exception {
    MessageDigest check = MessageDigest.getInstance("SHA-256");
    long read = 0;
    byte[] buffer = new byte[1 << 16];
    try (InputStream in = Files.newInputStream(file)) {
      for (int n; (n = in.read(buffer)) > 0; ) {
        check.update(buffer, 0, n);
        read += n;
      }
    }
    if (read != size || !HexFormat.of().formatHex(check.digest()).equals(sha256)) {
      throw new IllegalStateException("the export file did not verify");
    }
  }

  private static Tuple scope(JsonObject params) {
    return Tuple.of(uuid(params, "projectId"), uuid(params, "conversationId"));
  }

  private static UUID uuid(JsonObject params, String field) {
    String value = params.getString(field);
    return value == null ? null : UUID.fromString(value);
  }
}
