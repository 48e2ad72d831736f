package io.claudememory.claude;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.claudememory.platform.EventAddresses;
import io.claudememory.support.ApiClient;
import io.claudememory.support.ApiClient.Reply;
import io.claudememory.support.Awaits;
import io.claudememory.support.FakeClaude;
import io.claudememory.support.RoomEvents;
import io.claudememory.support.TenantSeed;
import io.claudememory.support.TestServer;
import io.claudememory.support.Users;
import io.claudememory.support.Users.TestUser;
import io.vertx.core.Future;
import io.vertx.core.eventbus.Message;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.SqlConnection;
import io.vertx.sqlclient.Transaction;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Cancels that arrive while an answer is still starting. The start is held deterministically by a table lock taken in
 * the tenant database (a query of the start waits for it), so the cancel surely comes first; no sleeps.
 */
@DisplayName("Cancel while starting: an answer cancelled before its request was sent ends at once and is never sent")
class ClaudeCancelTest {
  @RegisterExtension
  @Order(1)
  static final FakeClaude fake = FakeClaude.start();
  @RegisterExtension
  @Order(2)
  static final TestServer server = TestServer.start(fake.nodeEnv("CMB_CLAUDE_TITLES", "false"));
  static final ApiClient api = server.client();

  @BeforeEach
  void resetFake() {
    fake.reset();
  }

  @Test
  @DisplayName("a cancel right after POSTing, while the request is being assembled, ends the answer with "
      + "assistant.error cancelled; nothing is stored and Claude is never called")
  void cancelWhileAssembling() {
    TestUser ann = Users.register(api);
    UUID conversation = UUID.fromString(api.post("/api/v1/conversations", ann.accessToken(),
        new JsonObject().put("title", "Cancelled early")).data().getString("id"));
    String path = "/api/v1/conversations/" + conversation;
    Generations generations = server.app().generations();
    try (RoomEvents room = new RoomEvents(server.app().vertx(), ann.id(), conversation)) {
      String assistant;
      // Only assembling the request reads projects: storing the message and starting the answer go through.
      try (TableLock assembly = TableLock.take(ann.id(), "projects")) {
        Reply sent = api.post(path + "/messages", ann.accessToken(), new JsonObject().put("content", "Hello?"));
        assertEquals(201, sent.status(), sent::body);
        assistant = sent.data().getJsonObject("generation").getString("assistantMessageId");
        Reply cancel = api.post(path + "/cancel", ann.accessToken(), null);
        assertEquals(202, cancel.status(), cancel::body);

        JsonObject end = room.end(10_000);
        assertEquals("assistant.error", end.getString("type"), end::encode);
        assertEquals("cancelled", end.getString("code"), end::encode);
        assertEquals(assistant, end.getString("message_id"));
        assertFalse(end.getBoolean("partial"), "nothing was kept");
        assertEquals(1, generations.activeCount(), "the slot is held while the assembly it started is in flight");
      }
      Awaits.until(() -> generations.activeCount() == 0, 10_000, "the dropped assembly frees the answer's slot");
      assertTrue(room.seen("assistant.delta").isEmpty(), "no text streamed");
    }
    assertTrue(fake.streamed().isEmpty(), "the request was never sent to Claude");
    List<TenantSeed.Msg> stored = new TenantSeed(server, ann.id()).messages(conversation);
    assertEquals(1, stored.size(), "only the user message is stored");
    assertEquals("user", stored.get(0).role());

    try (RoomEvents room = new RoomEvents(server.app().vertx(), ann.id(), conversation)) {
      Reply again = api.post(path + "/messages/" + stored.get(0).id() + "/regenerate", ann.accessToken(), null);
      assertEquals(202, again.status(), again::body);
      assertEquals("assistant.done", room.end(10_000).getString("type"), "the conversation answers normally again");
    }
    assertEquals(1, fake.streamed().size(), "one request in all: the regenerated answer's");
  }

  @Test
  @DisplayName("a cancel during the start's own checks, before the answer is even listed, is not lost: the answer "
      + "starts cancelled")
  void cancelWhileAdmitted() throws Exception {
    TestUser ann = Users.register(api);
    TenantSeed seed = new TenantSeed(server, ann.id());
    UUID conversation = seed.conversation(null, "Admitted", null);
    UUID question = seed.message(conversation, null, "user", "Hello?");
    Generations generations = server.app().generations();
    try (RoomEvents room = new RoomEvents(server.app().vertx(), ann.id(), conversation)) {
      Future<Message<JsonObject>> reply;
      // The start checks the user message before listing the answer: that read waits for the lock.
      try (TableLock checks = TableLock.take(ann.id(), "messages")) {
        reply = server.app().vertx().eventBus().request(EventAddresses.CLAUDE_GENERATE, new JsonObject()
            .put("tenant", ann.id().toString()).put("conversationId", conversation.toString())
            .put("userMessageId", question.toString()));
        Awaits.until(() -> generations.activeCount() == 1, 10_000, "the answer took its slot");
        assertEquals(1, generations.cancel(ann.id(), conversation), "the cancel reaches the starting answer");
      }
      JsonObject started = reply.await(10, TimeUnit.SECONDS).body();
      assertTrue(started.getBoolean("accepted"), started::encode);
      JsonObject end = room.end(10_000);
      assertEquals("assistant.error", end.getString("type"), end::encode);
      assertEquals("cancelled", end.getString("code"));
      assertEquals(started.getString("assistantMessageId"), end.getString("message_id"));
      Awaits.until(() -> generations.activeCount() == 0, 10_000, "the slot is freed");
    }
    assertTrue(fake.streamed().isEmpty(), "the request was never sent to Claude");
    assertEquals(1, seed.messages(conversation).size(), "no answer is stored");
  }

  /** {@code LOCK TABLE ... IN ACCESS EXCLUSIVE MODE} held in an open transaction of the tenant's database. */
  record TableLock(SqlConnection connection, Transaction transaction) implements AutoCloseable {
    static TableLock take(UUID tenant, String table) {
      try {
        return server.app().tenantPools().withPool(tenant, pool -> pool.getConnection()
            .compose(conn -> conn.begin().compose(tx -> conn.query("LOCK TABLE " + table
                + " IN ACCESS EXCLUSIVE MODE").execute().map(locked -> new TableLock(conn, tx)))))
            .await(10, TimeUnit.SECONDS);
      } catch (Exception e) {
        throw new IllegalStateException("could not lock " + table + ": " + e.getMessage(), e);
      }
    }

    @Override
    public void close() {
      try {
        transaction.commit().eventually(connection::close).await(10, TimeUnit.SECONDS);
      } catch (Exception e) {
        throw new IllegalStateException("could not release the lock: " + e.getMessage(), e);
      }
    }
  }
}
