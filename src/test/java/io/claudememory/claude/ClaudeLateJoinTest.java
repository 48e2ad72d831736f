package io.claudememory.claude;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.claudememory.support.ApiClient;
import io.claudememory.support.ApiClient.Reply;
import io.claudememory.support.FakeClaude;
import io.claudememory.support.RoomEvents;
import io.claudememory.support.TenantSeed;
import io.claudememory.support.TestServer;
import io.claudememory.support.Users;
import io.claudememory.support.Users.TestUser;
import io.claudememory.support.WsClient;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.TreeSet;
import java.util.UUID;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

@DisplayName("Late joiners: the text so far, then exactly the rest of the answer, over /ws")
class ClaudeLateJoinTest {
  private static final int TOKENS = 1500;
  @RegisterExtension
  @Order(1)
  static final FakeClaude fake = FakeClaude.start();
  @RegisterExtension
  @Order(2)
  static final TestServer server = TestServer.start(fake.nodeEnv("CMB_CLAUDE_TITLES", "false"));
  static final ApiClient api = server.client();

  @Test
  @DisplayName("sockets joining at random moments mid-answer each get a snapshot and then only later deltas: "
      + "snapshot + deltas is exactly the stored answer")
  void snapshotThenRest() {
    long seed = System.nanoTime();
    Random random = new Random(seed);
    TreeSet<Integer> joinAfter = new TreeSet<>();
    while (joinAfter.size() < 6) {
      joinAfter.add(1 + random.nextInt(TOKENS / 2)); // the first half: the answer is surely still running
    }
    String why = "joins after deltas " + joinAfter + " (seed " + seed + ")";

    TestUser ann = Users.register(api);
    UUID conversation = UUID.fromString(api.post("/api/v1/conversations", ann.accessToken(),
        new JsonObject().put("title", "Late joiners")).data().getString("id"));
    fake.tokenRate(500).tokens(TOKENS);
    List<WsClient> joiners = new ArrayList<>();
    String assistant;
    JsonObject done;
    try (RoomEvents room = new RoomEvents(server.app().vertx(), ann.id(), conversation)) {
      Reply sent = api.post("/api/v1/conversations/" + conversation + "/messages", ann.accessToken(),
          new JsonObject().put("content", "A long answer, please."));
      assertEquals(201, sent.status(), sent::body);
      assistant = sent.data().getJsonObject("generation").getString("assistantMessageId");
      int seen = 0;
      for (int after : joinAfter) {
        while (seen < after) {
          room.next("assistant.delta", 10_000);
          seen++;
        }
        WsClient joiner = WsClient.connect(fake.vertx(), server.port(), ann.accessToken());
        joiners.add(joiner);
        joiner.send("join_room", new JsonObject().put("room_id", conversation.toString()));
      }
      done = room.next("assistant.done", 30_000);
    }
    try {
      String stored = done.getJsonObject("message").getString("content");
      assertEquals(stored, new TenantSeed(server, ann.id()).messages(conversation).get(1).content());
      for (int i = 0; i < joiners.size(); i++) {
        assertEquals(stored, received(joiners.get(i), assistant, "joiner " + i + ": " + why),
            "joiner " + i + " got exactly the answer: " + why);
      }
    } finally {
      joiners.forEach(WsClient::close);
    }
  }

  /** The answer as a socket saw it: its snapshot, then each later delta, checking each comes after the one before. */
  static String received(WsClient ws, String messageId, String why) {
    JsonObject snapshot = ws.expect(f -> "assistant.delta".equals(f.getString("type"))
        && messageId.equals(f.getJsonObject("data").getString("message_id")), "the snapshot");
    JsonObject data = snapshot.getJsonObject("data");
    assertTrue(data.getBoolean("snapshot", false), () -> "the first delta a joiner gets is the snapshot: " + data);
    StringBuilder text = new StringBuilder(data.getString("text"));
    int index = data.getInteger("index");
    while (true) {
      JsonObject frame = ws.expect(f -> f.getJsonObject("data") != null
          && messageId.equals(f.getJsonObject("data").getString("message_id")), "a delta or the end of the answer");
      String type = frame.getString("type");
      if ("assistant.done".equals(type)) {
        assertNotNull(frame.getJsonObject("data").getJsonObject("message"));
        return text.toString();
      }
      assertEquals("assistant.delta", type, frame::encode);
      JsonObject delta = frame.getJsonObject("data");
      int next = delta.getInteger("index");
      int previous = index;
      assertTrue(next > previous, () -> why + ": delta " + next + " after " + previous + " is a duplicate");
      assertEquals(previous + 1, next - countMerged(delta), why + ": no delta is skipped");
      index = next;
      text.append(delta.getString("text"));
    }
  }

  /** Deltas merged for a slow reader carry the index of the last one: each "tokN " piece is one delta. */
  private static int countMerged(JsonObject delta) {
    return delta.getString("text").split(" ").length - 1;
  }
}
