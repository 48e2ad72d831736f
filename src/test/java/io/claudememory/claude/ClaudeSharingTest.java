package io.claudememory.claude;

import static io.claudememory.support.Problems.assertProblem;
import static org.junit.jupiter.api.Assertions.assertEquals;
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
import java.util.List;
import java.util.UUID;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

@DisplayName("Claude in shared projects: members read the context, editors regenerate and cancel, viewers only read, "
    + "outsiders find nothing")
class ClaudeSharingTest {
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

  /** Ann's project shared with an editor and a viewer, one conversation in it with a question, and an outsider. */
  record Shared(TestUser owner, TestUser editor, TestUser viewer, TestUser outsider, UUID conversation,
      UUID question) {
    String path() {
      return "/api/v1/conversations/" + conversation;
    }

    RoomEvents room() {
      return new RoomEvents(server.app().vertx(), owner.id(), conversation);
    }
  }

  private static Shared shared() {
    TestUser ann = Users.register(api);
    TestUser ed = Users.register(api);
    TestUser vic = Users.register(api);
    TestUser eve = Users.register(api);
    String project = api.post("/api/v1/projects", ann.accessToken(), new JsonObject().put("name", "Shared")
        .put("instructions", "Answer as the team's assistant.")).data().getString("id");
    for (TestUser member : List.of(ed, vic)) {
      Reply added = api.post("/api/v1/projects/" + project + "/members", ann.accessToken(), new JsonObject()
          .put("email", member.email()).put("role", member == ed ? "editor" : "viewer"));
      assertEquals(201, added.status(), added::body);
    }
    String conversation = api.post("/api/v1/conversations", ann.accessToken(), new JsonObject()
        .put("projectId", project).put("title", "Team")).data().getString("id");
    Reply question = api.post("/api/v1/conversations/" + conversation + "/messages", ann.accessToken(),
        new JsonObject().put("content", "What is our plan?").put("generate", false));
    assertEquals(201, question.status(), question::body);
    return new Shared(ann, ed, vic, eve, UUID.fromString(conversation),
        UUID.fromString(question.data().getJsonObject("message").getString("id")));
  }

  @Test
  @DisplayName("every member sees the request the owner would send; an outsider gets 404")
  void context() {
    Shared s = shared();
    Reply owners = api.get(s.path() + "/context?message=Next", s.owner().accessToken());
    assertEquals(200, owners.status(), owners::body);
    JsonObject request = owners.data().getJsonObject("request");
    assertEquals("Answer as the team's assistant.", request.getJsonArray("system").getJsonObject(0).getString("text"),
        "the project's instructions come from the owner's database");
    for (TestUser member : List.of(s.editor(), s.viewer())) {
      Reply seen = api.get(s.path() + "/context?message=Next", member.accessToken());
      assertEquals(200, seen.status(), () -> "a member reads the context: " + seen.body());
      assertEquals(request, seen.data().getJsonObject("request"), "exactly the request the owner would send");
    }
    assertProblem(api.get(s.path() + "/context", s.outsider().accessToken()), 404);
  }

  @Test
  @DisplayName("an editor regenerates on the owner's conversation: the answer is stored in the owner's database and "
      + "counted in the owner's usage; a viewer gets 403, an outsider 404")
  void regenerate() {
    Shared s = shared();
    String path = s.path() + "/messages/" + s.question() + "/regenerate";
    assertProblem(api.post(path, s.viewer().accessToken(), null), 403);
    assertProblem(api.post(path, s.outsider().accessToken(), null), 404);
    assertTrue(fake.streamed().isEmpty(), "refused callers start nothing");

    try (RoomEvents room = s.room()) {
      Reply started = api.post(path, s.editor().accessToken(), null);
      assertEquals(202, started.status(), started::body);
      JsonObject done = room.end(15_000);
      assertEquals("assistant.done", done.getString("type"), done::encode);
      assertEquals(started.data().getJsonObject("generation").getString("assistantMessageId"),
          done.getString("message_id"));
    }
    List<TenantSeed.Msg> stored = new TenantSeed(server, s.owner().id()).messages(s.conversation());
    assertEquals(2, stored.size(), "the answer is in the owner's database");
    assertEquals(s.question(), stored.get(1).parentId());
    assertEquals("tok0 tok1 tok2 tok3 tok4 ", stored.get(1).content());

    long ownersAnswers = api.get("/api/v1/usage", s.owner().accessToken()).data().getJsonObject("totals")
        .getLong("messages");
    assertEquals(1, ownersAnswers, "the answer counts in the owner's usage");
    Reply editors = api.get("/api/v1/usage", s.editor().accessToken());
    assertEquals(200, editors.status(), editors::body);
    assertEquals(0, editors.data().getJsonObject("totals").getLong("messages"), "usage is the caller's own");
  }

  @Test
  @DisplayName("an editor cancels the owner's running answer over REST; a viewer's cancel is 403 and an "
      + "outsider's 404, and neither stops it")
  void cancelOverRest() {
    Shared s = shared();
    fake.tokenRate(50).tokens(500);
    try (RoomEvents room = s.room()) {
      Reply started = api.post(s.path() + "/messages/" + s.question() + "/regenerate", s.owner().accessToken(),
          null);
      assertEquals(202, started.status(), started::body);
      room.next("assistant.delta", 5000);
      assertProblem(api.post(s.path() + "/cancel", s.viewer().accessToken(), null), 403);
      assertProblem(api.post(s.path() + "/cancel", s.outsider().accessToken(), null), 404);
      room.next("assistant.delta", 5000);
      room.next("assistant.delta", 5000);
      Reply cancel = api.post(s.path() + "/cancel", s.editor().accessToken(), null);
      assertEquals(202, cancel.status(), cancel::body);
      JsonObject end = room.end(10_000);
      assertEquals("assistant.done", end.getString("type"), end::encode);
      assertEquals("cancelled", end.getJsonObject("message").getString("stopReason"));
    }
    assertEquals("cancelled", new TenantSeed(server, s.owner().id()).messages(s.conversation()).get(1).stopReason());
  }

  @Test
  @DisplayName("the WebSocket cancel frame works for an editor of the project; a viewer gets forbidden and an "
      + "outsider room_not_found")
  void cancelOverWebSocket() {
    Shared s = shared();
    fake.tokenRate(50).tokens(500);
    String room = s.conversation().toString();
    try (RoomEvents events = s.room();
         WsClient editor = WsClient.connect(fake.vertx(), server.port(), s.editor().accessToken());
         WsClient viewer = WsClient.connect(fake.vertx(), server.port(), s.viewer().accessToken());
         WsClient outsider = WsClient.connect(fake.vertx(), server.port(), s.outsider().accessToken())) {
      Reply started = api.post(s.path() + "/messages/" + s.question() + "/regenerate", s.editor().accessToken(),
          null);
      assertEquals(202, started.status(), started::body);
      events.next("assistant.delta", 5000);

      JsonObject refused = viewer.answer(viewer.send("cancel", new JsonObject().put("room_id", room)));
      assertEquals("forbidden", refused.getJsonObject("data").getString("code"), refused::encode);
      JsonObject unknown = outsider.answer(outsider.send("cancel", new JsonObject().put("room_id", room)));
      assertEquals("room_not_found", unknown.getJsonObject("data").getString("code"), unknown::encode);
      events.next("assistant.delta", 5000);

      JsonObject ack = editor.answer(editor.send("cancel", new JsonObject().put("room_id", room)));
      assertEquals("ack", ack.getString("type"), ack::encode);
      JsonObject end = events.end(10_000);
      assertEquals("assistant.done", end.getString("type"), end::encode);
      assertEquals("cancelled", end.getJsonObject("message").getString("stopReason"));
    }
  }
}
