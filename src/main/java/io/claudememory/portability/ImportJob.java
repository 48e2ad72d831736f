package io.claudememory.portability;

import static io.claudememory.portability.RowStream.await;

import io.claudememory.jobs.JobContext;
import io.claudememory.jobs.JobFailure;
import io.claudememory.jobs.JobHandler;
import io.claudememory.platform.crypto.SecretBox;
import io.claudememory.platform.db.TenantPools;
import io.claudememory.webhooks.Outbox;
import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Pool;
import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.UUID;

/**
 * The {@code import} job. The uploaded file is decrypted first when it is an encrypted export, then recognised
 * ({@link ImportSource}): a native bundle, a claude.ai export or a ChatGPT export, as a ZIP or a bare
 * {@code conversations.json}. A first pass reads the whole file without writing anything, so a malformed or hostile
 * file (bad JSON, ZIP bomb, path traversal, a huge field) is refused with nothing imported; the second pass writes
 * each project and each conversation in a transaction of its own ({@link ImportWriter}). The job's result is the
 * report {@code {source, imported, skipped, refused: [{item, reason}]}}; a refused file fails the job with the report
 * as its result. A finished import records {@code import.completed} in the tenant's outbox, retried until it is
 * (under an id derived from the job: recorded whatever fails meanwhile, and only once; see
 * {@link JobContext#untilDone}). The upload is deleted once the job is over; an interrupted job runs again from the
 * start and skips what it already imported.
 */
public final class ImportJob implements JobHandler {
  public static final String KIND = "import";
  private static final int PROGRESS_EVERY = 50;

  private final TenantPools pools;
  private final JobThreads threads;
  private final SecretBox secrets;
  private final SafeZip.Limits limits;

  public ImportJob(TenantPools pools, JobThreads threads, SecretBox secrets, SafeZip.Limits limits) {
    this.pools = pools;
    this.threads = threads;
    this.secrets = secrets;
    this.limits = limits;
  }

  @Override
  public String kind() {
    return KIND;
  }

  @Override
  public Future<JsonObject> run(JobContext ctx) {
    UUID tenant = ctx.userId();
    Path upload = Path.of(ctx.params().getString("upload"));
    return pools.withPool(tenant, pool -> threads.run(() -> importFile(ctx, pool, upload)))
        .compose(report -> ctx.untilDone("recording import.completed", () -> pools.withPool(tenant, pool ->
            Outbox.emitOnce(ctx.vertx(), pool, tenant, "import.completed", ctx.jobId(), new JsonObject()
                .put("jobId", ctx.jobId().toString()).put("source", report.getString("source"))
                .put("imported", report.getJsonObject("imported"))))).map(report))
        // only now: a run after an interruption before the event was recorded still needs the file
        .compose(report -> threads.run(() -> Files.deleteIfExists(upload)).map(report));
  }

  private JsonObject importFile(JobContext ctx, Pool pool, Path upload) throws Exception {
    if (!Files.exists(upload)) {
      throw new JobFailure("The uploaded file is no longer available; upload it again.");
    }
    Path decrypted = upload.resolveSibling(upload.getFileName() + ".decrypted");
    Report report = new Report();
    try {
      Path file = decryptIfNeeded(ctx, upload, decrypted);
      try (ImportSource source = ImportSource.open(file, limits)) {
        report.source = source.name();
        int total = source.validate();
        importAll(ctx, source, new ImportWriter(pool), report, Math.max(1, total));
      }
    } catch (ImportRefused e) {
      report.refuse("file", e.getMessage());
      Files.deleteIfExists(upload);
      throw new JobFailure(e.getMessage(), report.toJson());
    } catch (ExportCipher.BadPassphraseException e) {
      report.refuse("file", e.getMessage());
      Files.deleteIfExists(upload);
      throw new JobFailure(e.getMessage(), report.toJson());
    } finally {
      Files.deleteIfExists(decrypted);
    }
    return report.toJson();
  }

  private Path decryptIfNeeded(JobContext ctx, Path upload, Path decrypted) throws Exception {
    byte[] head;
    try (InputStream in = Files.newInputStream(upload)) {
      head = in.readNBytes(ExportCipher.MAGIC.length);
    }
    if (!ExportCipher.isEncrypted(head)) {
      return upload;
    }
    String sealed = ctx.params().getString("passphrase");
    if (sealed == null) {
      throw new ImportRefused("This export is encrypted: import it again with its passphrase.");
    }
    char[] passphrase = secrets.open(sealed, ExportJob.PASSPHRASE_CONTEXT + ctx.userId()).toCharArray();
    try (InputStream in = ExportCipher.decrypt(new BufferedInputStream(Files.newInputStream(upload)), passphrase);
         OutputStream out = new BufferedOutputStream(Files.newOutputStream(decrypted))) {
      long copied = 0;
      byte[] buffer = new byte[1 << 16];
      for (int n; (n = in.read(buffer)) > 0; ) {
        copied += n;
        if (copied > limits.maxUncompressed()) {
          throw new ImportRefused("The decrypted file is larger than the size limit.");
        }
        out.write(buffer, 0, n);
      }
    } catch (IOException e) {
      Files.deleteIfExists(decrypted);
      if (e instanceof ExportCipher.BadPassphraseException) {
        throw e;
      }
      throw new ImportRefused("The encrypted export could not be read: " + e.getMessage());
    }
    return decrypted;
  }

  private void importAll(JobContext ctx, ImportSource source, ImportWriter writer, Report report, int total)
      throws Exception {
    int[] done = {0};
    ImportSource.Sink sink = new ImportSource.Sink() {
      private final Map<String, UUID> projects = new HashMap<>();

      @Override
      public void project(String sourceName, JsonObject project) throws Exception {
        ImportWriter.ProjectId id = writer.project(sourceName, project);
        projects.put(project.getString("sourceId"), id.id());
        report.count(id.created() ? report.imported : report.skipped, "projects", 1);
      }

      @Override
      public void nativeProject(JsonObject line) throws Exception {
        report.count(writer.nativeProject(line) ? report.imported : report.skipped, "projects", 1);
      }

      @Override
      public void conversation(Imported conversation) throws Exception {
        UUID project = conversation.projectSourceId() == null ? null : projects.get(conversation.projectSourceId());
        written(writer.conversation(conversation, project));
      }

      @Override
      public void nativeConversation(JsonObject line, ImportWriter.MessageFeed feed) throws Exception {
        written(writer.nativeConversation(line, feed));
      }

      @Override
      public void refused(String item, String reason) {
        report.refuse(item, reason);
        tick();
      }

      private void written(long messages) {
        if (messages < 0) {
          report.count(report.skipped, "conversations", 1);
        } else {
          report.count(report.imported, "conversations", 1);
          report.count(report.imported, "messages", messages);
        }
        tick();
      }

      private void tick() {
        if (++done[0] % PROGRESS_EVERY == 0) {
          try {
            await(ctx.progress(0.99 * done[0] / total, report.toJson()));
          } catch (Exception e) {
            throw e instanceof RuntimeException r ? r : new IllegalStateException(e);
          }
        }
      }
    };
    source.read(sink);
  }

  /** What an import did; {@code refused} lists items with a reason. */
  private static final class Report {
    String source = "unknown";
    final JsonObject imported = new JsonObject().put("projects", 0L).put("conversations", 0L).put("messages", 0L);
    final JsonObject skipped = new JsonObject().put("projects", 0L).put("conversations", 0L);
    final io.vertx.core.json.JsonArray refused = new io.vertx.core.json.JsonArray();

    void count(JsonObject counts, String what, long n) {
      counts.put(what, counts.getLong(what, 0L) + n);
    }

    void refuse(String item, String reason) {
      if (refused.size() < 1000) {
        refused.add(new JsonObject().put("item", item).put("reason", reason));
      }
    }

    JsonObject toJson() {
      return new JsonObject().put("source", source).put("imported", imported.copy()).put("skipped", skipped.copy())
          .put("refused", refused.copy());
    }
  }
}
