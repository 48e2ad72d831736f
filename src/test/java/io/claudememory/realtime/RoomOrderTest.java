package io.claudememory.realtime;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.claudememory.support.ApiClient;
import io.claudememory.support.TenantSeed;
import io.claudememory.support.TestServer;
import io.claudememory.support.Users;
import io.claudememory.support.Users.TestUser;
import io.claudememory.support.WsClient;
import io.vertx.core.VertxOptions;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

@DisplayName("Room events published out of order reach every socket in order, without a database read per socket")
class RoomOrderTest {
  static final int SOCKETS = 16;
  @RegisterExtension
  static final TestServer server = TestServer.start(Map.of());
  static final ApiClient api = server.client();

  private record Room(TestUser owner, UUID id, TenantSeed seed, List<WsClient> sockets) {}

  private static Room roomWithSockets() {
    TestUser ann = Users.register(api);
    TenantSeed seed = new TenantSeed(server, ann.id());
    UUID room = seed.conversation(null, "Order", null);
    List<WsClient> sockets = new ArrayList<>();
    for (int i = 0; i < SOCKETS; i++) {
      WsClient ws = WsClient.connect(server.app().vertx(), server.port(), ann.accessToken());
      ws.expect("ready");
      ws.send("join_room", new JsonObject().put("room_id", room.toString()));
      assertEquals(0L, ws.expect("joined").getJsonObject("data").getLong("last_seq"));
      sockets.add(ws);
    }
    return new Room(ann, room, seed, sockets);
  }

  /** Persists a message without announcing it; answers it as room events carry it. */
  private static JsonObject persistQuietly(Room room, String content) {
    UUID id = room.seed().message(room.id(), null, "user", content);
    TenantSeed.Msg row = room.seed().messages(room.id()).stream().filter(m -> m.id().equals(id)).findFirst()
        .orElseThrow();
    return new JsonObject().put("id", id.toString()).put("conversationId", room.id().toString())
        .put("parentId", null).put("seq", row.seq()).put("role", "user").put("content", content)
        .put("createdAt", java.time.Instant.now().toString());
  }

  private static void announce(Room room, JsonObject message) {
    server.app().realtime().events().publishMessageCreated(room.owner().id(), room.id(), message, null);
  }

  private static List<Long> seqs(WsClient ws, int count) {
    List<Long> seqs = new ArrayList<>();
    for (int i = 0; i < count; i++) {
      seqs.add(ws.expect("message.created").getJsonObject("data").getLong("seq"));
    }
    return seqs;
  }

  private static double readBack() {
    return server.app().realtime().metrics().replayed.count();
  }

  @Test
  @DisplayName("two swapped publications are put back in order for every socket, with no read of the database")
  void swapped() {
    Room room = roomWithSockets();
    JsonObject first = persistQuietly(room, "one");
    JsonObject second = persistQuietly(room, "two");
    double before = readBack();
    announce(room, second);
    announce(room, first);
    for (WsClient ws : room.sockets()) {
      assertEquals(List.of(1L, 2L), seqs(ws, 2));
      assertTrue(ws.drain(50).stream().noneMatch(f -> "message.created".equals(f.getString("type"))),
          "nothing twice");
      ws.close();
    }
    assertEquals(before, readBack(), "no socket read the room back from the database");
  }

  @Test
  @DisplayName("an event lost on the way is read once for the room, and every socket still gets all in order")
  void lost() {
    Room room = roomWithSockets();
    persistQuietly(room, "one");
    JsonObject second = persistQuietly(room, "two");
    JsonObject third = persistQuietly(room, "three");
    double before = readBack();
    announce(room, second);
    announce(room, third);
    for (WsClient ws : room.sockets()) {
      assertEquals(List.of(1L, 2L, 3L), seqs(ws, 3));
      ws.close();
    }
    double reads = readBack() - before;
    int loops = Math.min(SOCKETS, VertxOptions.DEFAULT_EVENT_LOOP_POOL_SIZE);
    assertTrue(reads >= 1 && reads <= loops && reads < SOCKETS,
        "the lost event was read back once per event loop with sockets in the room, not once per socket: " + reads);
  }
}
