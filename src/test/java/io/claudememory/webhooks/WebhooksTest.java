package io.claudememory.webhooks;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import io.claudememory.portability.PortabilityTestAccess;
import io.claudememory.support.ApiClient;
import io.claudememory.support.ExternalDatabases;
import io.claudememory.support.Jobs;
import io.claudememory.support.TenantData;
import io.claudememory.support.TestDatabase;
import io.claudememory.support.TestServer;
import io.claudememory.support.Users;
import io.claudememory.support.Users.TestUser;
import io.claudememory.support.WebhookReceiver;
import io.vertx.core.Future;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.sql.Connection;
import java.sql.Statement;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

@DisplayName("Webhooks deliver every committed event, signed, once")
class WebhooksTest {
  /** Fast timing for tests: attempts at 0 s, 1 s and 2 s, sweeps every 200 ms, disabled after 3 failures. */
  static final Map<String, String> FAST = Map.of("CMB_WEBHOOKS_SWEEP_MS", "200", "CMB_WEBHOOKS_RETRY_SECONDS",
      "0,1,2", "CMB_WEBHOOKS_DISABLE_AFTER_FAILURES", "3", "CMB_WEBHOOKS_TIMEOUT_MS", "3000");
  private static TestServer server;
  private static WebhookReceiver receiver;

  @BeforeAll
  static void start() {
    server = TestServer.start(FAST);
    receiver = new WebhookReceiver();
  }

  @AfterAll
  static void stop() {
    receiver.close();
    server.close();
  }

  private static ApiClient api() {
    return server.client();
  }

  static JsonObject subscribe(ApiClient api, TestUser user, String url, String... events) {
    ApiClient.Reply reply = api.post("/api/v1/webhooks", user.accessToken(), new JsonObject().put("url", url)
        .put("events", new JsonArray(List.of(events))));
    assertEquals(201, reply.status(), reply.body());
    receiver.secret(reply.data().getString("secret"));
    return reply.data();
  }

  /** Writes an event through the seam in a transaction of its own that commits (and kicks) or rolls back. */
  static UUID emit(TestServer node, TestUser user, String type, JsonObject data, boolean commit) throws Exception {
    UUID[] id = {null};
    try {
      node.app().tenantPools().withPool(user.id(), pool -> pool.withTransaction(conn -> Outbox.write(conn, type, data)
          .compose(eventId -> {
            id[0] = eventId;
            return commit ? Future.succeededFuture(eventId) : Future.failedFuture("rolled back on purpose");
          }))).await(30, TimeUnit.SECONDS);
      Outbox.kick(node.app().vertx(), user.id());
    } catch (Exception e) {
      if (commit) {
        throw e;
      }
    }
    return id[0];
  }

  private static JsonArray deliveries(TestUser user, String webhookId) {
    ApiClient.Reply reply = api().get("/api/v1/webhooks/" + webhookId + "/deliveries", user.accessToken());
    assertEquals(200, reply.status(), reply.body());
    return reply.list();
  }

  private static <T> T eventually(Supplier<T> probe, java.util.function.Predicate<T> done, int seconds, String what) {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
    T value = probe.get();
    while (!done.test(value)) {
      if (System.nanoTime() > deadline) {
        fail(what + " did not happen within " + seconds + "s; last seen: " + value);
      }
      try {
        Thread.sleep(50);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        fail("interrupted");
      }
      value = probe.get();
    }
    return value;
  }

  @Test
  @DisplayName("a committed event is delivered once, signed, with its id stable as webhook-id; the secret is shown "
      + "only at creation")
  void signedDelivery() throws Exception {
    TestUser ann = Users.register(api());
    JsonObject hook = subscribe(api(), ann, receiver.url() + "?tenant=" + ann.id(), "conversation.created");
    assertTrue(hook.getString("secret").startsWith("whsec_"));
    assertFalse(api().get("/api/v1/webhooks/" + hook.getString("id"), ann.accessToken()).data()
        .containsKey("secret"), "the secret is shown once");
    UUID event = emit(server, ann, "conversation.created", new JsonObject().put("conversationId", "c-1"), true);
    WebhookReceiver.Received got = receiver.await(r -> r.id().equals(event.toString()), 1, 10).get(0);
    assertTrue(got.validSignature(), "the signature verifies with the secret");
    assertEquals("conversation.created", got.body().getString("type"));
    assertEquals("c-1", got.body().getJsonObject("data").getString("conversationId"));
    JsonObject delivery = eventually(() -> deliveries(ann, hook.getString("id")).getJsonObject(0),
        d -> "succeeded".equals(d.getString("status")), 10, "the delivery to be recorded");
    assertEquals(event.toString(), delivery.getString("eventId"));
    assertEquals(1, delivery.getJsonArray("attemptLog").size());
    assertEquals(200, delivery.getJsonArray("attemptLog").getJsonObject(0).getInteger("statusCode"));
  }

  @Test
  @DisplayName("changes made through the API become webhook events and audit entries, in order of the changes")
  void apiChangesAreEvents() {
    TestUser ann = Users.register(api());
    subscribe(api(), ann, receiver.url() + "?tenant=" + ann.id(), "project.created", "conversation.created",
        "conversation.updated", "message.created", "conversation.deleted");
    String project = api().post("/api/v1/projects", ann.accessToken(), new JsonObject().put("name", "Hooks"))
        .data().getString("id");
    String conversation = api().post("/api/v1/conversations", ann.accessToken(),
        new JsonObject().put("title", "Hooked").put("projectId", project)).data().getString("id");
    String message = api().post("/api/v1/conversations/" + conversation + "/messages", ann.accessToken(),
        new JsonObject().put("content", "hello hooks")).data().getJsonObject("message").getString("id");
    assertEquals(200, api().patch("/api/v1/conversations/" + conversation, ann.accessToken(),
        new JsonObject().put("title", "Renamed")).status());
    assertEquals(204, api().delete("/api/v1/conversations/" + conversation, ann.accessToken()).status());
    assertEquals(400, api().post("/api/v1/conversations", ann.accessToken(),
        new JsonObject().put("title", "x".repeat(10_000))).status(), "a refused change is no event");

    // Event ids are UUIDv7, so sorting them gives the order of the changes whatever order deliveries arrive in.
    List<WebhookReceiver.Received> got = receiver.await(r -> r.body().toString().contains(project)
        || r.body().toString().contains(conversation), 5, 15).stream()
        .collect(java.util.stream.Collectors.toMap(WebhookReceiver.Received::id, r -> r, (a, b) -> a,
            java.util.TreeMap::new)).values().stream().toList();
    assertTrue(got.stream().allMatch(WebhookReceiver.Received::validSignature), "every delivery is signed");
    assertEquals(List.of("project.created", "conversation.created", "message.created", "conversation.updated",
        "conversation.deleted"), got.stream().map(r -> r.body().getString("type")).toList());
    assertEquals(message, got.get(2).body().getJsonObject("data").getString("id"));
    assertEquals("Renamed", got.get(3).body().getJsonObject("data").getString("title"));

    JsonArray trail = api().get("/api/v1/audit?limit=200", ann.accessToken()).list();
    for (String action : List.of("project.created", "conversation.created", "message.created",
        "conversation.updated", "conversation.deleted")) {
      assertTrue(trail.stream().map(JsonObject.class::cast).anyMatch(e -> action.equals(e.getString("action"))),
          action + " is in the audit trail: " + trail);
    }
  }

  @Test
  @DisplayName("a 500 is retried after the backoff delay, and the event succeeds exactly once")
  void retryAfterServerError() throws Exception {
    TestUser ann = Users.register(api());
    JsonObject hook = subscribe(api(), ann, receiver.url(), "message.created");
    UUID event = emit(server, ann, "message.created", new JsonObject().put("messageId", "m-1"), false);
    assertTrue(event != null);
    UUID real = UUID.randomUUID();
    receiver.answer((id, before) -> before == 0 && !id.startsWith("ffff") ? 500 : 200);
    UUID committed = emit(server, ann, "message.created", new JsonObject().put("messageId", real.toString()), true);
    List<WebhookReceiver.Received> got = receiver.await(r -> r.id().equals(committed.toString()), 2, 15);
    receiver.answer((id, before) -> 200);
    assertEquals(500, got.get(0).answered());
    assertEquals(200, got.get(1).answered());
    long gapMs = TimeUnit.NANOSECONDS.toMillis(got.get(1).atNanos() - got.get(0).atNanos());
    assertTrue(gapMs >= 750, "the retry waited for the backoff (1 s ± 20 %), not " + gapMs + " ms");
    JsonObject delivery = eventually(() -> deliveries(ann, hook.getString("id")).getJsonObject(0),
        d -> "succeeded".equals(d.getString("status")), 10, "the retry to be recorded");
    assertEquals(List.of(500, 200), delivery.getJsonArray("attemptLog").stream()
        .map(a -> ((JsonObject) a).getInteger("statusCode")).toList());
    assertEquals(1, receiver.received(r -> r.id().equals(committed.toString()) && r.answered() == 200).size(),
        "exactly one success");
    assertEquals(0, receiver.received(r -> r.id().equals(event.toString())).size(),
        "the rolled-back change produced no delivery");
  }

  @Test
  @DisplayName("two nodes sharing the database never send the same attempt twice")
  void twoNodes() throws Exception {
    TestUser ann = Users.register(api());
    JsonObject hook = subscribe(api(), ann, receiver.url(), "project.created");
    TestServer second = TestServer.start(server.scope(), FAST);
    try {
      Set<String> ids = new java.util.HashSet<>();
      for (int i = 0; i < 40; i++) {
        TestServer node = i % 2 == 0 ? server : second;
        ids.add(emit(node, ann, "project.created", new JsonObject().put("n", i), true).toString());
      }
      receiver.await(r -> ids.contains(r.id()), 40, 30);
      eventually(() -> TenantData.query(TenantData.of(server, ann.id()),
          "SELECT count(*)::text FROM webhook_deliveries WHERE status = 'succeeded'").getString(0),
          "40"::equals, 20, "every delivery to succeed");
      Map<String, Long> perEvent = receiver.received(r -> ids.contains(r.id())).stream()
          .collect(Collectors.groupingBy(WebhookReceiver.Received::id, Collectors.counting()));
      assertEquals(40, perEvent.size());
      assertTrue(perEvent.values().stream().allMatch(n -> n == 1), "each event was sent once: " + perEvent);
      assertEquals("40", TenantData.query(TenantData.of(server, ann.id()),
          "SELECT count(*)::text FROM webhook_attempts").getString(0), "one attempt per event, whichever node");
      assertEquals(Set.of(server.config().nodeId(), second.config().nodeId()).size(), 2);
    } finally {
      second.stopNode();
    }
  }

  @Test
  @DisplayName("a subscription failing again and again is disabled and its owner notified")
  void disabling() throws Exception {
    TestUser ann = Users.register(api());
    ConcurrentLinkedQueue<JsonObject> notes = new ConcurrentLinkedQueue<>();
    var consumer = server.app().vertx().eventBus().<JsonObject>consumer("user." + ann.id(),
        m -> notes.add(m.body().getJsonObject("frame").getJsonObject("data")));
    consumer.completion().await(5, TimeUnit.SECONDS);
    JsonObject hook = subscribe(api(), ann, receiver.url() + "?failing", "project.deleted");
    receiver.answer((id, before) -> 503);
    UUID event = emit(server, ann, "project.deleted", new JsonObject(), true);
    JsonObject disabled = eventually(() -> api().get("/api/v1/webhooks/" + hook.getString("id"), ann.accessToken())
        .data(), h -> !h.getBoolean("enabled"), 20, "the webhook to be disabled");
    receiver.answer((id, before) -> 200);
    assertEquals(3, receiver.received(r -> r.id().equals(event.toString())).size(), "three attempts");
    assertTrue(disabled.getString("disabledReason").contains("3 failed attempts"), disabled.encode());
    JsonObject note = eventually(() -> notes.stream().filter(n -> "webhook.disabled".equals(n.getString("type")))
        .findFirst().orElse(null), n -> n != null, 5, "the owner to be notified");
    assertEquals(hook.getString("id"), note.getJsonObject("webhook").getString("id"));
    JsonObject delivery = deliveries(ann, hook.getString("id")).getJsonObject(0);
    assertEquals("failed", delivery.getString("status"));
    assertNull(delivery.getString("nextAttemptAt"));
    consumer.unregister();

    ApiClient.Reply enabled = api().patch("/api/v1/webhooks/" + hook.getString("id"), ann.accessToken(),
        new JsonObject().put("enabled", true));
    assertTrue(enabled.data().getBoolean("enabled"));
    assertEquals(0, enabled.data().getInteger("consecutiveFailures"));
  }

  @Test
  @DisplayName("every failing subscription of an account counts its failures and is disabled, not only the first")
  void failuresCountedForEverySubscription() throws Exception {
    TestUser bea = Users.register(api());
    List<String> hooks = List.of(
        subscribe(api(), bea, receiver.url() + "?first", "project.updated").getString("id"),
        subscribe(api(), bea, receiver.url() + "?second", "project.updated").getString("id"));
    receiver.answer((id, before) -> 503);
    try {
      emit(server, bea, "project.updated", new JsonObject(), true);
      for (String id : hooks) {
        JsonObject disabled = eventually(() -> api().get("/api/v1/webhooks/" + id, bea.accessToken()).data(),
            h -> !h.getBoolean("enabled"), 20, "webhook " + id + " to be disabled");
        assertEquals(3, disabled.getInteger("consecutiveFailures"), disabled.encode());
      }
    } finally {
      receiver.answer((id, before) -> 200);
    }
  }

  @Test
  @DisplayName("a test ping reaches the endpoint and a delivery can be sent again with the same webhook-id")
  void pingAndRedeliver() throws Exception {
    TestUser ann = Users.register(api());
    JsonObject hook = subscribe(api(), ann, receiver.url(), "export.completed");
    ApiClient.Reply ping = api().post("/api/v1/webhooks/" + hook.getString("id") + "/test", ann.accessToken(), null);
    assertEquals(202, ping.status(), ping.body());
    String eventId = ping.data().getString("eventId");
    WebhookReceiver.Received got = receiver.await(r -> r.id().equals(eventId), 1, 10).get(0);
    assertEquals("webhook.ping", got.body().getString("type"));
    assertTrue(got.validSignature());
    String deliveryId = ping.data().getString("id");
    eventually(() -> deliveries(ann, hook.getString("id")).getJsonObject(0).getString("status"),
        "succeeded"::equals, 10, "the ping to be recorded");
    ApiClient.Reply again = api().post("/api/v1/webhooks/" + hook.getString("id") + "/deliveries/" + deliveryId
        + "/redeliver", ann.accessToken(), null);
    assertEquals(202, again.status(), again.body());
    assertEquals(2, receiver.await(r -> r.id().equals(eventId), 2, 10).size(), "sent again, same webhook-id");
  }

  @Test
  @DisplayName("a finished export and a finished import are delivered signed, once, even when recording the event "
      + "failed at first")
  void jobEvents() throws Exception {
    TestUser ann = Users.register(api());
    subscribe(api(), ann, receiver.url(), "export.completed", "import.completed");
    // the first try to record each job event fails, as when the tenant database is briefly out of reach
    try (Connection c = TestDatabase.connect(TenantData.of(server, ann.id())); Statement s = c.createStatement()) {
      s.execute("""
          CREATE SEQUENCE job_event_tries;
          GRANT USAGE ON SEQUENCE job_event_tries TO PUBLIC;
          CREATE FUNCTION fail_first_try() RETURNS trigger LANGUAGE plpgsql AS $$
          BEGIN
            IF NEW.type IN ('export.completed', 'import.completed') AND nextval('job_event_tries') % 2 = 1 THEN
              RAISE EXCEPTION 'injected failure';
            END IF;
            RETURN NEW;
          END $$;
          CREATE TRIGGER fail_first_try BEFORE INSERT ON webhook_outbox
            FOR EACH ROW EXECUTE FUNCTION fail_first_try()""");
    }
    PortabilityTestAccess portability = new PortabilityTestAccess(api());

    JsonObject export = portability.export(ann.accessToken());
    assertEquals("succeeded", export.getString("status"), export.encode());
    WebhookReceiver.Received exported = receiver.await(r -> export.getString("id")
        .equals(r.body().getJsonObject("data").getString("jobId")), 1, 20).get(0);
    assertEquals("export.completed", exported.body().getString("type"));
    assertTrue(exported.validSignature(), "signed");
    assertEquals(export.getJsonObject("result").getString("sha256"),
        exported.body().getJsonObject("data").getString("sha256"));

    JsonObject imported = portability.importFile(ann.accessToken(), "conversations.json",
        Buffer.buffer("[{\"uuid\": \"c1\", \"name\": \"Hi\", \"chat_messages\": []}]"));
    assertEquals("succeeded", imported.getString("status"), imported.encode());
    WebhookReceiver.Received done = receiver.await(r -> imported.getString("id")
        .equals(r.body().getJsonObject("data").getString("jobId")), 1, 20).get(0);
    assertEquals("import.completed", done.body().getString("type"));
    assertTrue(done.validSignature(), "signed");
    assertEquals(1L, done.body().getJsonObject("data").getJsonObject("imported").getLong("conversations"));
    assertEquals(2, receiver.received(r -> r.id().equals(exported.id()) || r.id().equals(done.id())).size(),
        "one delivery per job");
  }

  @Test
  @DisplayName("switching to another database is delivered as database.activated, signed, once")
  void databaseActivated() {
    TestUser ann = Users.register(api());
    subscribe(api(), ann, receiver.url(), "database.activated");
    // /database is documented at merge; its replies are not held to the contract here
    ApiClient raw = api().withoutContractCheck();
    String db = raw.post("/api/v1/database", ann.accessToken(), ExternalDatabases.create(server.scope())
        .body("Mine")).data().getString("id");
    ApiClient.Reply started = raw.post("/api/v1/database/" + db + "/activate", ann.accessToken(), new JsonObject());
    assertEquals(202, started.status(), started.body());
    JsonObject job = Jobs.awaitFinished(raw, ann.accessToken(), started.data().getString("id"), 90);
    assertEquals("succeeded", job.getString("status"), job.encode());

    WebhookReceiver.Received activated = receiver.await(r -> "database.activated".equals(r.body().getString("type"))
        && db.equals(r.body().getJsonObject("data").getString("databaseId")), 1, 20).get(0);
    assertTrue(activated.validSignature(), "signed");
    assertEquals(job.getJsonObject("result").getString("previousDatabaseId"),
        activated.body().getJsonObject("data").getString("previousDatabaseId"));
    assertEquals(1, receiver.received(r -> r.id().equals(activated.id())).size(), "delivered once");
  }

  @Test
  @DisplayName("targets are checked: metadata and link-local addresses are refused, other schemes too")
  void targetsChecked() {
    TestUser ann = Users.register(api());
    for (String url : List.of("http://169.254.169.254/latest/meta-data", "http://metadata.google.internal/",
        "ftp://example.com/", "http://user:pw@example.com/")) {
      ApiClient.Reply reply = api().post("/api/v1/webhooks", ann.accessToken(), new JsonObject().put("url", url)
          .put("events", new JsonArray().add("conversation.created")));
      assertEquals(400, reply.status(), url + ": " + reply.body());
    }
    ApiClient.Reply unknownEvent = api().post("/api/v1/webhooks", ann.accessToken(), new JsonObject()
        .put("url", receiver.url()).put("events", new JsonArray().add("everything")));
    assertEquals(400, unknownEvent.status());
  }

  @Test
  @DisplayName("another user gets 404 for someone's webhooks, deliveries, pings and redeliveries")
  void isolation() throws Exception {
    TestUser ann = Users.register(api());
    TestUser bob = Users.register(api());
    JsonObject hook = subscribe(api(), ann, receiver.url(), "conversation.updated");
    UUID event = emit(server, ann, "conversation.updated", new JsonObject(), true);
    receiver.await(r -> r.id().equals(event.toString()), 1, 10);
    String delivery = eventually(() -> deliveries(ann, hook.getString("id")), l -> !l.isEmpty(), 10,
        "a delivery").getJsonObject(0).getString("id");
    String base = "/api/v1/webhooks/" + hook.getString("id");
    Map<String, Integer> answers = new HashMap<>();
    answers.put("GET " + base, api().get(base, bob.accessToken()).status());
    answers.put("PATCH " + base, api().patch(base, bob.accessToken(), new JsonObject().put("enabled", false))
        .status());
    answers.put("GET deliveries", api().get(base + "/deliveries", bob.accessToken()).status());
    answers.put("POST test", api().post(base + "/test", bob.accessToken(), null).status());
    answers.put("POST redeliver", api().post(base + "/deliveries/" + delivery + "/redeliver", bob.accessToken(),
        null).status());
    answers.put("DELETE " + base, api().delete(base, bob.accessToken()).status());
    assertTrue(answers.values().stream().allMatch(s -> s == 404), answers.toString());
    assertEquals(0, api().get("/api/v1/webhooks", bob.accessToken()).list().size());
    assertEquals(204, api().delete(base, ann.accessToken()).status(), "its owner can");
  }
}
