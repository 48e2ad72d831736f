package io.claudememory.projects;

import static io.claudememory.support.Problems.assertFieldError;
import static io.claudememory.support.Problems.assertProblem;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.claudememory.support.ApiClient;
import io.claudememory.support.ApiClient.Reply;
import io.claudememory.support.TestServer;
import io.claudememory.support.Users;
import io.claudememory.support.Users.TestUser;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.UUID;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

@DisplayName("Projects: create, list in pages, read, replace, patch, archive, delete")
class ProjectsApiTest {
  @RegisterExtension
  static final TestServer server = TestServer.start();
  static final ApiClient api = server.client();

  static JsonObject createProject(String token, String name) {
    Reply reply = api.post("/api/v1/projects", token, new JsonObject().put("name", name));
    assertEquals(201, reply.status(), () -> "project creation should answer 201: " + reply.body());
    return reply.data();
  }

  @Test
  @DisplayName("a created project has every documented field and reads back the same")
  void createAndGet() {
    TestUser ann = Users.register(api);
    Reply created = api.post("/api/v1/projects", ann.accessToken(), new JsonObject().put("name", "  Garden  ")
        .put("description", "Plants").put("instructions", "Answer briefly."));
    assertEquals(201, created.status(), created.body());
    JsonObject project = created.data();
    assertEquals(Set.of("id", "name", "description", "instructions", "archived", "conversationCount", "createdAt",
        "updatedAt", "ownerId", "role"), project.fieldNames(), "the project shape");
    assertEquals("Garden", project.getString("name"), "the name is trimmed");
    assertEquals(false, project.getBoolean("archived"));
    assertEquals(0, project.getInteger("conversationCount"));
    assertEquals("owner", project.getString("role"));
    assertEquals(ann.id().toString(), project.getString("ownerId"));
    Reply read = api.get("/api/v1/projects/" + project.getString("id"), ann.accessToken());
    assertEquals(200, read.status(), read.body());
    assertEquals(project, read.data(), "GET answers what POST created");
  }

  @Test
  @DisplayName("creation refuses a missing name, unknown fields and wrong types with field errors")
  void createValidation() {
    TestUser ann = Users.register(api);
    assertFieldError(api.post("/api/v1/projects", ann.accessToken(), new JsonObject()), "name");
    assertFieldError(api.post("/api/v1/projects", ann.accessToken(), new JsonObject().put("name", "x")
        .put("archived", true)), "archived");
    assertFieldError(api.post("/api/v1/projects", ann.accessToken(), new JsonObject().put("name", 5)), "name");
    assertProblem(api.post("/api/v1/projects", null, new JsonObject().put("name", "x")), 401);
  }

  @Test
  @DisplayName("the list pages newest first with an opaque cursor, and filters by archived")
  void listPages() {
    TestUser ann = Users.register(api);
    List<String> ids = new ArrayList<>();
    for (int i = 0; i < 5; i++) {
      ids.add(0, createProject(ann.accessToken(), "p" + i).getString("id"));
    }
    List<String> seen = new ArrayList<>();
    String cursor = null;
    int pages = 0;
    do {
      Reply page = api.get("/api/v1/projects?limit=2" + (cursor == null ? "" : "&cursor=" + cursor),
          ann.accessToken());
      assertEquals(200, page.status(), page.body());
      assertTrue(page.list().size() <= 2, "a page holds at most limit items");
      page.list().forEach(p -> seen.add(((JsonObject) p).getString("id")));
      cursor = page.json().getString("nextCursor");
      pages++;
    } while (cursor != null);
    assertEquals(ids, seen, "every project exactly once, newest first");
    assertEquals(3, pages, "5 projects in pages of 2 make 3 pages");

    Reply archived = api.patch("/api/v1/projects/" + ids.get(1), ann.accessToken(),
        new JsonObject().put("archived", true));
    assertEquals(200, archived.status(), archived.body());
    assertTrue(archived.data().getBoolean("archived"));
    Reply onlyArchived = api.get("/api/v1/projects?archived=true", ann.accessToken());
    assertEquals(List.of(ids.get(1)), onlyArchived.list().stream().map(p -> ((JsonObject) p).getString("id"))
        .toList(), "archived=true lists only the archived project");
    assertEquals(4, api.get("/api/v1/projects?archived=false", ann.accessToken()).list().size());
  }

  @Test
  @DisplayName("bad list parameters are 400 field errors")
  void listValidation() {
    TestUser ann = Users.register(api);
    assertFieldError(api.get("/api/v1/projects?limit=0", ann.accessToken()), "limit");
    assertFieldError(api.get("/api/v1/projects?limit=201", ann.accessToken()), "limit");
    assertFieldError(api.get("/api/v1/projects?limit=abc", ann.accessToken()), "limit");
    assertFieldError(api.get("/api/v1/projects?archived=yes", ann.accessToken()), "archived");
    assertFieldError(api.get("/api/v1/projects?cursor=garbage", ann.accessToken()), "cursor");
  }

  @Test
  @DisplayName("PUT replaces every writable field, PATCH changes only those sent")
  void putAndPatch() {
    TestUser ann = Users.register(api);
    Reply created = api.post("/api/v1/projects", ann.accessToken(), new JsonObject().put("name", "A")
        .put("description", "d").put("instructions", "i"));
    String id = created.data().getString("id");
    Reply patched = api.patch("/api/v1/projects/" + id, ann.accessToken(), new JsonObject().put("name", "B"));
    assertEquals(200, patched.status(), patched.body());
    assertEquals("B", patched.data().getString("name"));
    assertEquals("d", patched.data().getString("description"), "PATCH keeps fields it did not send");
    assertEquals("i", patched.data().getString("instructions"));

    Reply put = api.put("/api/v1/projects/" + id, ann.accessToken(), new JsonObject().put("name", "C"));
    assertEquals(200, put.status(), put.body());
    assertEquals("C", put.data().getString("name"));
    assertNull(put.data().getString("description"), "PUT clears fields it did not send");
    assertNull(put.data().getString("instructions"));
    assertFieldError(api.put("/api/v1/projects/" + id, ann.accessToken(), new JsonObject().put("description", "x")),
        "name");
    assertFieldError(api.patch("/api/v1/projects/" + id, ann.accessToken(), new JsonObject().putNull("name")),
        "name");
    assertFieldError(api.patch("/api/v1/projects/" + id, ann.accessToken(), new JsonObject().put("archived", "no")),
        "archived");
  }

  @Test
  @DisplayName("a project with conversations is deleted only with cascade=true, taking them along")
  void deleteWithConversations() {
    TestUser ann = Users.register(api);
    String empty = createProject(ann.accessToken(), "empty").getString("id");
    Reply deleted = api.delete("/api/v1/projects/" + empty, ann.accessToken());
    assertEquals(204, deleted.status(), deleted.body());
    assertProblem(api.get("/api/v1/projects/" + empty, ann.accessToken()), 404);

    String full = createProject(ann.accessToken(), "full").getString("id");
    Reply conversation = api.post("/api/v1/conversations", ann.accessToken(),
        new JsonObject().put("projectId", full));
    assertEquals(201, conversation.status(), conversation.body());
    assertEquals(1, api.get("/api/v1/projects/" + full, ann.accessToken()).data().getInteger("conversationCount"),
        "conversationCount counts the project's conversations");
    assertProblem(api.delete("/api/v1/projects/" + full, ann.accessToken()), 409);
    assertFieldError(api.delete("/api/v1/projects/" + full + "?cascade=maybe", ann.accessToken()), "cascade");
    assertEquals(204, api.delete("/api/v1/projects/" + full + "?cascade=true", ann.accessToken()).status());
    assertProblem(api.get("/api/v1/conversations/" + conversation.data().getString("id"), ann.accessToken()), 404);
  }

  @Test
  @DisplayName("another user gets 404 on every project route, and malformed ids are 404 too")
  void isolation() {
    TestUser ann = Users.register(api);
    TestUser bob = Users.register(api);
    String id = createProject(ann.accessToken(), "secret").getString("id");
    String path = "/api/v1/projects/" + id;
    assertProblem(api.get(path, bob.accessToken()), 404);
    assertProblem(api.put(path, bob.accessToken(), new JsonObject().put("name", "x")), 404);
    assertProblem(api.patch(path, bob.accessToken(), new JsonObject().put("name", "x")), 404);
    assertProblem(api.delete(path, bob.accessToken()), 404);
    assertProblem(api.get(path + "/members", bob.accessToken()), 404);
    assertProblem(api.post(path + "/members", bob.accessToken(), new JsonObject().put("email", bob.email())
        .put("role", "editor")), 404);
    assertProblem(api.patch(path + "/members/" + bob.id(), bob.accessToken(), new JsonObject().put("role", "editor")),
        404);
    assertProblem(api.delete(path + "/members/" + bob.id(), bob.accessToken()), 404);
    assertFalse(api.get("/api/v1/projects", bob.accessToken()).body().contains(id), "B's list never holds A's");
    assertProblem(api.get("/api/v1/projects/not-a-uuid", ann.accessToken()), 404);
    assertProblem(api.get("/api/v1/projects/" + UUID.randomUUID(), ann.accessToken()), 404);
    assertNotNull(api.get(path, ann.accessToken()).data(), "A still reads it");
    assertEquals("secret", api.get(path, ann.accessToken()).data().getString("name"), "B changed nothing");
  }
}
