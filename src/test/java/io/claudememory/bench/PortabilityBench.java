package io.claudememory.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.claudememory.support.ApiClient;
import io.claudememory.support.TenantData;
import io.claudememory.support.TestDatabase;
import io.claudememory.support.TestServer;
import io.claudememory.support.Users;
import io.claudememory.support.Users.TestUser;
import io.claudememory.support.WebhookReceiver;
import io.claudememory.webhooks.Outbox;
import io.vertx.core.Future;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.ext.web.multipart.MultipartForm;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryPoolMXBean;
import java.lang.management.MemoryType;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/**
 * Figures for scripts/bench/portability (not part of the test suite: its name does not end in Test). Export and
 * import of an account with {@code bench.messages} messages (time, peak heap of this JVM, which runs the node), and
 * webhook throughput and outbox lag for a burst of {@code bench.events} events to a local receiver. Prints the
 * figures and writes {@code bench-results/portability.json}.
 */
class PortabilityBench {
  private static final int MESSAGES = Integer.getInteger("bench.messages", 1_000_000);
  private static final int PER_CONVERSATION = Integer.getInteger("bench.perConversation", 1000);
  private static final int EVENTS = Integer.getInteger("bench.events", 2000);

  @Test
  void run() throws Exception {
    JsonObject results = new JsonObject().put("messages", MESSAGES).put("messagesPerConversation", PER_CONVERSATION)
        .put("maxHeapMiB", Runtime.getRuntime().maxMemory() / (1 << 20))
        .put("cpus", Runtime.getRuntime().availableProcessors());
    try (TestServer server = TestServer.start(Map.of("CMB_IMPORT_MAX_UPLOAD_MB", "4096",
        "CMB_WEBHOOKS_SWEEP_MS", "1000", "CMB_WEBHOOKS_BATCH_SIZE", "100"))) {
      ApiClient api = server.client();
      TestUser ann = Users.register(api);
      long t0 = System.nanoTime();
      seed(server, ann);
      results.put("seedSeconds", seconds(t0));

      resetPeaks();
      t0 = System.nanoTime();
      ApiClient.Reply created = api.post("/api/v1/export/create", ann.accessToken(), new JsonObject());
      JsonObject export = await(api, ann, created.data().getString("id"), 1800);
      results.put("export", new JsonObject().put("seconds", seconds(t0)).put("peakHeapMiB", peakHeapMiB())
          .put("fileBytes", export.getJsonObject("result").getLong("size"))
          .put("counts", export.getJsonObject("result").getJsonObject("counts")));
      System.out.println("export: " + results.getJsonObject("export").encode());

      Path file = exportPath(server, export.getString("id"));
      TestUser bob = Users.register(api);
      resetPeaks();
      t0 = System.nanoTime();
      HttpResponse<Buffer> upload = api.request(HttpMethod.POST, "/api/v1/export/import", bob.accessToken())
          .sendMultipartForm(MultipartForm.create().binaryFileUpload("file", "export.zip", file.toString(),
              "application/zip")).await(600, TimeUnit.SECONDS);
      assertEquals(202, upload.statusCode(), upload.bodyAsString());
      double uploadSeconds = seconds(t0);
      JsonObject imported = await(api, bob, upload.bodyAsJsonObject().getJsonObject("data").getString("id"), 3600);
      results.put("import", new JsonObject().put("seconds", seconds(t0)).put("uploadSeconds", uploadSeconds)
          .put("peakHeapMiB", peakHeapMiB()).put("report", imported.getJsonObject("result")));
      System.out.println("import: " + results.getJsonObject("import").encode());

      results.put("webhooks", webhooks(server, api));
      System.out.println("webhooks: " + results.getJsonObject("webhooks").encode());
    }
    Path out = Path.of("bench-results", "portability.json");
    Files.createDirectories(out.getParent());
    Files.writeString(out, results.encodePrettily() + "\n");
    System.out.println(results.encodePrettily());
  }

  private static void seed(TestServer server, TestUser user) throws Exception {
    int conversations = Math.max(1, MESSAGES / PER_CONVERSATION);
    try (Connection c = TestDatabase.connect(TenantData.of(server, user.id())); Statement s = c.createStatement()) {
      s.execute("INSERT INTO projects (id, name) VALUES (gen_random_uuid(), 'Bench')");
      s.execute("""
          INSERT INTO conversations (id, project_id, title, message_count, last_seq)
          SELECT gen_random_uuid(), (SELECT id FROM projects), 'Conversation ' || n, %d, %d
          FROM generate_series(1, %d) n""".formatted(PER_CONVERSATION, PER_CONVERSATION, conversations));
      // a linear chain per conversation: each message answers the previous one (ids derived from position)
      s.execute("""
          INSERT INTO messages (id, conversation_id, parent_id, seq, role, content, usage, model)
          SELECT md5(c.id::text || m)::uuid, c.id, CASE WHEN m > 1 THEN md5(c.id::text || (m - 1))::uuid END, m,
                 CASE WHEN m %% 2 = 1 THEN 'user' ELSE 'assistant' END,
                 'Message ' || m || ' of a benchmark conversation, long enough to look like a real sentence.',
                 CASE WHEN m %% 2 = 0 THEN '{"input_tokens": 120, "output_tokens": 80}'::jsonb END,
                 CASE WHEN m %% 2 = 0 THEN 'claude-sonnet-4-5' END
          FROM conversations c, generate_series(1, %d) m ORDER BY c.id, m""".formatted(PER_CONVERSATION));
      s.execute("UPDATE conversations c SET current_leaf_id = md5(c.id::text || %d)::uuid".formatted(
          PER_CONVERSATION));
    }
  }

  private static Path exportPath(TestServer server, String jobId) throws Exception {
    try (Connection c = TestDatabase.connect(server.master()); Statement s = c.createStatement();
         ResultSet rs = s.executeQuery("SELECT path FROM export_files WHERE job_id = '" + jobId + "'")) {
      rs.next();
      return Path.of(rs.getString(1));
    }
  }

  private static JsonObject await(ApiClient api, TestUser user, String jobId, int seconds) throws Exception {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
    while (System.nanoTime() < deadline) {
      JsonObject job = api.get("/api/v1/export/jobs/" + jobId, user.accessToken()).data();
      if (Set.of("succeeded", "failed").contains(job.getString("status"))) {
        assertEquals("succeeded", job.getString("status"), job.encode());
        return job;
      }
      Thread.sleep(250);
    }
    throw new IllegalStateException("job " + jobId + " did not finish");
  }

  /** A burst of events written through the seam; throughput and commit-to-receipt lag. */
  private static JsonObject webhooks(TestServer server, ApiClient api) throws Exception {
    try (WebhookReceiver receiver = new WebhookReceiver()) {
      TestUser carol = Users.register(api);
      JsonObject hook = api.post("/api/v1/webhooks", carol.accessToken(), new JsonObject()
          .put("url", receiver.url()).put("events", new JsonArray().add("message.created"))).data();
      receiver.secret(hook.getString("secret"));
      Map<String, Long> committedAt = Collections.synchronizedMap(new HashMap<>());
      long t0 = System.nanoTime();
      int perTransaction = 50;
      for (int batch = 0; batch < EVENTS / perTransaction; batch++) {
        List<String> ids = new ArrayList<>();
        int first = batch * perTransaction;
        server.app().tenantPools().withPool(carol.id(), pool -> pool.withTransaction(conn -> {
          Future<Void> chain = Future.succeededFuture();
          for (int i = 0; i < perTransaction; i++) {
            int n = first + i;
            chain = chain.compose(v -> Outbox.write(conn, "message.created", new JsonObject().put("n", n))
                .map(id -> ids.add(id.toString())).mapEmpty());
          }
          return chain;
        })).await(60, TimeUnit.SECONDS);
        long now = System.nanoTime();
        ids.forEach(id -> committedAt.put(id, now));
        Outbox.kick(server.app().vertx(), carol.id());
      }
      long written = System.nanoTime();
      List<WebhookReceiver.Received> got = receiver.await(r -> committedAt.containsKey(r.id()),
          committedAt.size(), 600);
      long done = got.stream().mapToLong(WebhookReceiver.Received::atNanos).max().orElse(t0);
      List<Long> lags = got.stream().map(r -> (r.atNanos() - committedAt.get(r.id())) / 1_000_000).sorted()
          .collect(Collectors.toList());
      long distinct = got.stream().map(WebhookReceiver.Received::id).distinct().count();
      return new JsonObject().put("events", committedAt.size()).put("received", got.size())
          .put("distinct", distinct).put("allSignaturesValid", got.stream().allMatch(
              WebhookReceiver.Received::validSignature))
          .put("writeSeconds", (written - t0) / 1e9).put("deliverySeconds", (done - t0) / 1e9)
          .put("deliveriesPerSecond", Math.round(got.size() / ((done - t0) / 1e9)))
          .put("lagMs", new JsonObject().put("p50", lags.get(lags.size() / 2))
              .put("p95", lags.get((int) (lags.size() * 0.95))).put("max", lags.get(lags.size() - 1)));
    }
  }

  private static void resetPeaks() {
    System.gc();
    ManagementFactory.getMemoryPoolMXBeans().forEach(MemoryPoolMXBean::resetPeakUsage);
  }

  private static long peakHeapMiB() {
    return ManagementFactory.getMemoryPoolMXBeans().stream().filter(p -> p.getType() == MemoryType.HEAP)
        .mapToLong(p -> p.getPeakUsage().getUsed()).sum() / (1 << 20);
  }

  private static double seconds(long since) {
    return Math.round((System.nanoTime() - since) / 1e7) / 100.0;
  }
}
