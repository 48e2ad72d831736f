package io.claudememory.conversations;

import static io.claudememory.support.Problems.assertFieldError;
import static io.claudememory.support.Problems.assertProblem;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.claudememory.support.ApiClient;
import io.claudememory.support.ApiClient.Reply;
import io.claudememory.support.TestServer;
import io.claudememory.support.Users;
import io.claudememory.support.Users.TestUser;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.UUID;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

@DisplayName("Conversations: create, list by last activity with filters, read, patch, delete")
class ConversationsApiTest {
  @RegisterExtension
  static final TestServer server = TestServer.start();
  static final ApiClient api = server.client();

  static JsonObject create(TestUser user, JsonObject body) {
    Reply reply = api.post("/api/v1/conversations", user.accessToken(), body);
    assertEquals(201, reply.status(), () -> "conversation creation should answer 201: " + reply.body());
    return reply.data();
  }

  static List<String> ids(Reply reply) {
    assertEquals(200, reply.status(), reply::body);
    return reply.list().stream().map(c -> ((JsonObject) c).getString("id")).toList();
  }

  @Test
  @DisplayName("a created conversation has every documented field, and GET reads it back")
  void createAndGet() {
    TestUser ann = Users.register(api);
    JsonObject conversation = create(ann, new JsonObject().put("title", "Trip").put("model", "claude-x")
        .put("systemPrompt", "Be brief.").put("tags", new JsonArray().add("travel").add("2026")));
    assertEquals(Set.of("id", "projectId", "title", "model", "systemPrompt", "tags", "pinned", "archived",
        "messageCount", "lastSeq", "currentLeafId", "lastActivityAt", "createdAt", "updatedAt"),
        conversation.fieldNames(), "the conversation shape");
    assertEquals(new JsonArray().add("travel").add("2026"), conversation.getJsonArray("tags"));
    assertEquals(0, conversation.getInteger("messageCount"));
    assertEquals(0, conversation.getInteger("lastSeq"));
    assertNull(conversation.getString("currentLeafId"));
    assertNull(conversation.getString("projectId"));
    Reply read = api.get("/api/v1/conversations/" + conversation.getString("id"), ann.accessToken());
    assertEquals(conversation, read.data(), "GET answers what POST created");
    assertEquals(201, api.post("/api/v1/conversations", ann.accessToken(), new JsonObject()).status(),
        "every field is optional");
  }

  @Test
  @DisplayName("creation validates its fields and refuses unknown ones")
  void createValidation() {
    TestUser ann = Users.register(api);
    assertFieldError(api.post("/api/v1/conversations", ann.accessToken(), new JsonObject().put("projectId", "x")),
        "projectId");
    assertFieldError(api.post("/api/v1/conversations", ann.accessToken(), new JsonObject().put("tags", "a")),
        "tags");
    assertFieldError(api.post("/api/v1/conversations", ann.accessToken(), new JsonObject().put("pinned", true)),
        "pinned");
    assertProblem(api.post("/api/v1/conversations", ann.accessToken(),
        new JsonObject().put("projectId", UUID.randomUUID().toString())), 404);
    // PostgreSQL cannot store NUL: bad input, so 400, never 500
    assertProblem(api.post("/api/v1/conversations", ann.accessToken(), new JsonObject().put("title", "a\u0000b")),
        400);
  }

  @Test
  @DisplayName("the list is ordered by last activity, pages with a stable cursor, and a new message moves one up")
  void listByActivity() {
    TestUser ann = Users.register(api);
    List<String> created = new ArrayList<>();
    for (int i = 0; i < 5; i++) {
      created.add(0, create(ann, new JsonObject().put("title", "c" + i)).getString("id"));
    }
    assertEquals(created, ids(api.get("/api/v1/conversations", ann.accessToken())), "newest activity first");

    String oldest = created.get(4);
    assertEquals(201, api.post("/api/v1/conversations/" + oldest + "/messages", ann.accessToken(),
        new JsonObject().put("content", "bump")).status());
    List<String> expected = new ArrayList<>(created);
    expected.remove(oldest);
    expected.add(0, oldest);

    List<String> paged = new ArrayList<>();
    String cursor = null;
    do {
      Reply page = api.get("/api/v1/conversations?limit=2" + (cursor == null ? "" : "&cursor=" + cursor),
          ann.accessToken());
      paged.addAll(ids(page));
      cursor = page.json().getString("nextCursor");
    } while (cursor != null);
    assertEquals(expected, paged, "pages of 2 list every conversation once, the bumped one first");
    JsonObject bumped = api.get("/api/v1/conversations/" + oldest, ann.accessToken()).data();
    assertEquals(1, bumped.getInteger("messageCount"), "messageCount counts the posted message");
    assertEquals(1, bumped.getInteger("lastSeq"));
  }

  @Test
  @DisplayName("the list filters by project, archived, pinned and tag, and validates its parameters")
  void listFilters() {
    TestUser ann = Users.register(api);
    String projectId = api.post("/api/v1/projects", ann.accessToken(), new JsonObject().put("name", "p")).data()
        .getString("id");
    String inProject = create(ann, new JsonObject().put("projectId", projectId)).getString("id");
    String tagged = create(ann, new JsonObject().put("tags", new JsonArray().add("work"))).getString("id");
    String pinned = create(ann, new JsonObject()).getString("id");
    String archived = create(ann, new JsonObject()).getString("id");
    api.patch("/api/v1/conversations/" + pinned, ann.accessToken(), new JsonObject().put("pinned", true));
    api.patch("/api/v1/conversations/" + archived, ann.accessToken(), new JsonObject().put("archived", true));

    assertEquals(List.of(inProject), ids(api.get("/api/v1/conversations?projectId=" + projectId,
        ann.accessToken())));
    assertEquals(List.of(tagged), ids(api.get("/api/v1/conversations?tag=work", ann.accessToken())));
    assertEquals(List.of(pinned), ids(api.get("/api/v1/conversations?pinned=true", ann.accessToken())));
    assertEquals(List.of(archived), ids(api.get("/api/v1/conversations?archived=true", ann.accessToken())));
    assertEquals(3, ids(api.get("/api/v1/conversations?archived=false", ann.accessToken())).size());

    assertFieldError(api.get("/api/v1/conversations?projectId=nope", ann.accessToken()), "projectId");
    assertFieldError(api.get("/api/v1/conversations?pinned=1", ann.accessToken()), "pinned");
    assertFieldError(api.get("/api/v1/conversations?limit=500", ann.accessToken()), "limit");
    assertFieldError(api.get("/api/v1/conversations?cursor=abc", ann.accessToken()), "cursor");
    assertProblem(api.get("/api/v1/conversations?tag=a%00b", ann.accessToken()), 400);
    assertProblem(api.get("/api/v1/conversations?projectId=" + UUID.randomUUID(), ann.accessToken()), 404);
  }

  @Test
  @DisplayName("PATCH changes only the fields sent, moves between projects, and validates")
  void patch() {
    TestUser ann = Users.register(api);
    String projectId = api.post("/api/v1/projects", ann.accessToken(), new JsonObject().put("name", "p")).data()
        .getString("id");
    JsonObject conversation = create(ann, new JsonObject().put("title", "t").put("model", "m"));
    String path = "/api/v1/conversations/" + conversation.getString("id");
    Reply patched = api.patch(path, ann.accessToken(), new JsonObject().put("title", "new").put("pinned", true)
        .put("tags", new JsonArray().add("x")).put("projectId", projectId).put("systemPrompt", "sp"));
    assertEquals(200, patched.status(), patched.body());
    JsonObject data = patched.data();
    assertEquals("new", data.getString("title"));
    assertTrue(data.getBoolean("pinned"));
    assertEquals(new JsonArray().add("x"), data.getJsonArray("tags"));
    assertEquals(projectId, data.getString("projectId"));
    assertEquals("sp", data.getString("systemPrompt"));
    assertEquals("m", data.getString("model"), "PATCH keeps the model it did not send");
    Reply detached = api.patch(path, ann.accessToken(), new JsonObject().putNull("projectId"));
    assertNull(detached.data().getString("projectId"), "projectId null takes it out of the project");

    assertFieldError(api.patch(path, ann.accessToken(), new JsonObject().put("messageCount", 3)), "messageCount");
    assertFieldError(api.patch(path, ann.accessToken(), new JsonObject().putNull("pinned")), "pinned");
    assertFieldError(api.patch(path, ann.accessToken(), new JsonObject().put("archived", "yes")), "archived");
    assertProblem(api.patch(path, ann.accessToken(),
        new JsonObject().put("projectId", UUID.randomUUID().toString())), 404);
  }

  @Test
  @DisplayName("DELETE removes the conversation and its messages")
  void delete() {
    TestUser ann = Users.register(api);
    String id = create(ann, new JsonObject()).getString("id");
    api.post("/api/v1/conversations/" + id + "/messages", ann.accessToken(), new JsonObject().put("content", "x"));
    assertEquals(204, api.delete("/api/v1/conversations/" + id, ann.accessToken()).status());
    assertProblem(api.get("/api/v1/conversations/" + id, ann.accessToken()), 404);
    assertProblem(api.get("/api/v1/conversations/" + id + "/messages", ann.accessToken()), 404);
    assertProblem(api.delete("/api/v1/conversations/" + id, ann.accessToken()), 404);
  }

  @Test
  @DisplayName("another user gets 404 for A's conversation on every route, and for A's project in bodies and filters")
  void isolation() {
    TestUser ann = Users.register(api);
    TestUser bob = Users.register(api);
    String projectId = api.post("/api/v1/projects", ann.accessToken(), new JsonObject().put("name", "p")).data()
        .getString("id");
    String id = create(ann, new JsonObject().put("title", "secret").put("projectId", projectId)).getString("id");
    Reply posted = api.post("/api/v1/conversations/" + id + "/messages", ann.accessToken(),
        new JsonObject().put("content", "hidden"));
    String messageId = posted.data().getJsonObject("message").getString("id");
    String path = "/api/v1/conversations/" + id;
    String bobs = create(bob, new JsonObject()).getString("id");

    assertProblem(api.get(path, bob.accessToken()), 404);
    assertProblem(api.patch(path, bob.accessToken(), new JsonObject().put("title", "x")), 404);
    assertProblem(api.delete(path, bob.accessToken()), 404);
    assertProblem(api.get(path + "/messages", bob.accessToken()), 404);
    assertProblem(api.post(path + "/messages", bob.accessToken(), new JsonObject().put("content", "x")), 404);
    assertProblem(api.get(path + "/tree", bob.accessToken()), 404);
    assertProblem(api.put(path + "/current-leaf", bob.accessToken(), new JsonObject().put("leafId", messageId)),
        404);
    assertProblem(api.post("/api/v1/conversations", bob.accessToken(), new JsonObject().put("projectId", projectId)),
        404);
    assertProblem(api.get("/api/v1/conversations?projectId=" + projectId, bob.accessToken()), 404);
    assertProblem(api.patch("/api/v1/conversations/" + bobs, bob.accessToken(),
        new JsonObject().put("projectId", projectId)), 404);
    assertFieldError(api.post("/api/v1/conversations/" + bobs + "/messages", bob.accessToken(),
        new JsonObject().put("content", "x").put("parentId", messageId)), "parentId");
    assertProblem(api.get("/api/v1/conversations/" + bobs + "/messages?leafId=" + messageId, bob.accessToken()),
        404);
    assertFalse(api.get("/api/v1/conversations", bob.accessToken()).body().contains(id), "B's list never has A's");
    assertEquals("secret", api.get(path, ann.accessToken()).data().getString("title"), "B changed nothing");
    assertProblem(api.get("/api/v1/conversations/not-a-uuid", ann.accessToken()), 404);
  }
}
