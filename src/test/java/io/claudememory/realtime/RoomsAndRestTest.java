package io.claudememory.realtime;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.claudememory.support.ApiClient;
import io.claudememory.support.TestServer;
import io.claudememory.support.Users;
import io.claudememory.support.Users.TestUser;
import io.claudememory.support.WsClient;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

@DisplayName("Rooms and the REST API are one: what REST stores reaches the room, and project roles hold on /ws")
class RoomsAndRestTest {
  @RegisterExtension
  static final TestServer server = TestServer.start();
  static final ApiClient api = server.client();

  @Test
  @DisplayName("a message posted over REST is message.created in the room; a viewer of the project joins but "
      + "cannot write, an outsider cannot join")
  void restAndRoles() {
    TestUser ann = Users.register(api);
    TestUser viewer = Users.register(api);
    TestUser outsider = Users.register(api);
    String project = api.post("/api/v1/projects", ann.accessToken(), new JsonObject().put("name", "Shared"))
        .data().getString("id");
    assertEquals(201, api.post("/api/v1/projects/" + project + "/members", ann.accessToken(),
        new JsonObject().put("email", viewer.email()).put("role", "viewer")).status());
    String room = api.post("/api/v1/conversations", ann.accessToken(), new JsonObject().put("projectId", project))
        .data().getString("id");

    try (WsClient watcher = WsClient.connect(server.app().vertx(), server.port(), viewer.accessToken());
         WsClient stranger = WsClient.connect(server.app().vertx(), server.port(), outsider.accessToken())) {
      watcher.expect("ready");
      String join = watcher.send("join_room", new JsonObject().put("room_id", room));
      watcher.expect("joined");
      assertEquals("ack", watcher.answer(join).getString("type"), "a project viewer may join");

      String posted = api.post("/api/v1/conversations/" + room + "/messages", ann.accessToken(),
          new JsonObject().put("content", "from REST")).data().getJsonObject("message").getString("id");
      JsonObject created = watcher.expect(f -> "message.created".equals(f.getString("type"))
          && posted.equals(f.getJsonObject("data").getJsonObject("message").getString("id")), "the REST message");
      assertEquals(1L, created.getJsonObject("data").getLong("seq"));

      String write = watcher.send("send_message", new JsonObject().put("room_id", room).put("content", "hi")
          .put("client_id", "c1"));
      assertEquals("error", watcher.answer(write).getString("type"), "a viewer cannot write");

      stranger.expect("ready");
      String intrude = stranger.send("join_room", new JsonObject().put("room_id", room));
      assertEquals("error", stranger.answer(intrude).getString("type"), "an outsider cannot join");
    }
    assertEquals(1, api.get("/api/v1/conversations/" + room + "/messages", ann.accessToken()).list().size(),
        "only the owner's message was stored");
  }
}
