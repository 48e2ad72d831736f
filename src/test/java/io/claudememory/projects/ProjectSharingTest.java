package io.claudememory.projects;

import static io.claudememory.support.Problems.assertFieldError;
import static io.claudememory.support.Problems.assertProblem;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.claudememory.support.ApiClient;
import io.claudememory.support.ApiClient.Reply;
import io.claudememory.support.TestServer;
import io.claudememory.support.Users;
import io.claudememory.support.Users.TestUser;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

@DisplayName("Project sharing: members by email, viewer and editor roles, removal takes effect at once")
class ProjectSharingTest {
  @RegisterExtension
  static final TestServer server = TestServer.start();
  static final ApiClient api = server.client();

  private static String project(TestUser owner) {
    Reply reply = api.post("/api/v1/projects", owner.accessToken(), new JsonObject().put("name", "shared"));
    assertEquals(201, reply.status(), reply.body());
    return reply.data().getString("id");
  }

  private static JsonObject share(TestUser owner, String projectId, TestUser member, String role) {
    Reply reply = api.post("/api/v1/projects/" + projectId + "/members", owner.accessToken(),
        new JsonObject().put("email", member.email()).put("role", role));
    assertEquals(201, reply.status(), () -> "adding a member should answer 201: " + reply.body());
    return reply.data();
  }

  private static String conversation(TestUser user, String projectId) {
    Reply reply = api.post("/api/v1/conversations", user.accessToken(), new JsonObject().put("projectId", projectId)
        .put("title", "plan"));
    assertEquals(201, reply.status(), () -> "creating a conversation should answer 201: " + reply.body());
    return reply.data().getString("id");
  }

  private static Reply post(TestUser user, String conversationId, String content) {
    return api.post("/api/v1/conversations/" + conversationId + "/messages", user.accessToken(),
        new JsonObject().put("content", content));
  }

  @Test
  @DisplayName("the owner adds, lists, re-roles and removes members; the shared project shows in their list")
  void manageMembers() {
    TestUser ann = Users.register(api);
    TestUser bob = Users.register(api);
    String projectId = project(ann);
    JsonObject member = share(ann, projectId, bob, "viewer");
    assertEquals(bob.id().toString(), member.getString("userId"));
    assertEquals("viewer", member.getString("role"));
    assertProblem(api.post("/api/v1/projects/" + projectId + "/members", ann.accessToken(),
        new JsonObject().put("email", bob.email()).put("role", "editor")), 409);

    Reply list = api.get("/api/v1/projects/" + projectId + "/members", ann.accessToken());
    assertEquals(200, list.status(), list.body());
    assertEquals(1, list.list().size(), "one member listed");

    Reply bobsProjects = api.get("/api/v1/projects", bob.accessToken());
    JsonObject shared = bobsProjects.list().stream().map(JsonObject.class::cast)
        .filter(p -> p.getString("id").equals(projectId)).findFirst().orElseThrow(
            () -> new AssertionError("the shared project should be in the member's list: " + bobsProjects.body()));
    assertEquals("viewer", shared.getString("role"));
    assertEquals(ann.id().toString(), shared.getString("ownerId"));

    Reply changed = api.patch("/api/v1/projects/" + projectId + "/members/" + bob.id(), ann.accessToken(),
        new JsonObject().put("role", "editor"));
    assertEquals(200, changed.status(), changed.body());
    assertEquals("editor", changed.data().getString("role"));
    assertEquals(204, api.delete("/api/v1/projects/" + projectId + "/members/" + bob.id(), ann.accessToken())
        .status());
    assertProblem(api.get("/api/v1/projects/" + projectId, bob.accessToken()), 404);
    assertProblem(api.delete("/api/v1/projects/" + projectId + "/members/" + bob.id(), ann.accessToken()), 404);
  }

  @Test
  @DisplayName("member requests are validated: unknown email 404, own email, bad role, unknown fields")
  void memberValidation() {
    TestUser ann = Users.register(api);
    String projectId = project(ann);
    String path = "/api/v1/projects/" + projectId + "/members";
    assertProblem(api.post(path, ann.accessToken(), new JsonObject().put("email", "nobody-" + ann.email())
        .put("role", "viewer")), 404);
    assertFieldError(api.post(path, ann.accessToken(), new JsonObject().put("email", ann.email())
        .put("role", "viewer")), "email");
    assertFieldError(api.post(path, ann.accessToken(), new JsonObject().put("email", "x@example.com")
        .put("role", "owner")), "role");
    assertFieldError(api.post(path, ann.accessToken(), new JsonObject().put("email", "x@example.com")
        .put("role", "viewer").put("projectId", projectId)), "projectId");
    assertProblem(api.patch(path + "/not-an-id", ann.accessToken(), new JsonObject().put("role", "viewer")), 404);
  }

  @Test
  @DisplayName("a viewer reads the project's conversations and messages but cannot write or manage")
  void viewerReadsOnly() {
    TestUser ann = Users.register(api);
    TestUser vic = Users.register(api);
    TestUser eve = Users.register(api);
    String projectId = project(ann);
    String conversationId = conversation(ann, projectId);
    assertEquals(201, post(ann, conversationId, "hello from ann").status());
    share(ann, projectId, vic, "viewer");

    assertEquals(200, api.get("/api/v1/projects/" + projectId, vic.accessToken()).status());
    assertEquals(200, api.get("/api/v1/conversations/" + conversationId, vic.accessToken()).status());
    Reply messages = api.get("/api/v1/conversations/" + conversationId + "/messages", vic.accessToken());
    assertEquals(200, messages.status(), messages.body());
    assertEquals("hello from ann", messages.list().getJsonObject(0).getString("content"));
    assertEquals(200, api.get("/api/v1/conversations/" + conversationId + "/tree", vic.accessToken()).status());
    Reply inProject = api.get("/api/v1/conversations?projectId=" + projectId, vic.accessToken());
    assertEquals(1, inProject.list().size(), "the viewer lists the project's conversations: " + inProject.body());
    assertEquals(200, api.get("/api/v1/projects/" + projectId + "/members", vic.accessToken()).status());

    assertProblem(post(vic, conversationId, "may I?"), 403);
    assertProblem(api.post("/api/v1/conversations", vic.accessToken(), new JsonObject().put("projectId", projectId)),
        403);
    assertProblem(api.patch("/api/v1/conversations/" + conversationId, vic.accessToken(),
        new JsonObject().put("title", "mine")), 403);
    assertProblem(api.delete("/api/v1/conversations/" + conversationId, vic.accessToken()), 403);
    assertProblem(api.patch("/api/v1/projects/" + projectId, vic.accessToken(), new JsonObject().put("name", "x")),
        403);
    assertProblem(api.delete("/api/v1/projects/" + projectId + "?cascade=true", vic.accessToken()), 403);
    assertProblem(api.post("/api/v1/projects/" + projectId + "/members", vic.accessToken(),
        new JsonObject().put("email", eve.email()).put("role", "viewer")), 403);

    assertProblem(api.get("/api/v1/conversations/" + conversationId, eve.accessToken()), 404);
    assertProblem(api.get("/api/v1/conversations/" + conversationId + "/messages", eve.accessToken()), 404);
    assertProblem(api.get("/api/v1/conversations?projectId=" + projectId, eve.accessToken()), 404);
  }

  @Test
  @DisplayName("an editor creates conversations in the project, posts and patches, but cannot delete or manage")
  void editorWrites() {
    TestUser ann = Users.register(api);
    TestUser ed = Users.register(api);
    TestUser eve = Users.register(api);
    String projectId = project(ann);
    share(ann, projectId, ed, "editor");

    String conversationId = conversation(ed, projectId);
    assertEquals(201, post(ed, conversationId, "written by the editor").status());
    Reply patched = api.patch("/api/v1/conversations/" + conversationId, ed.accessToken(),
        new JsonObject().put("title", "renamed").put("pinned", true));
    assertEquals(200, patched.status(), patched.body());
    Reply annSees = api.get("/api/v1/conversations/" + conversationId + "/messages", ann.accessToken());
    assertEquals(200, annSees.status(), "the conversation lives in the owner's tenant: " + annSees.body());
    assertEquals("written by the editor", annSees.list().getJsonObject(0).getString("content"));
    assertEquals("renamed", api.get("/api/v1/conversations/" + conversationId, ann.accessToken()).data()
        .getString("title"));

    assertProblem(api.patch("/api/v1/conversations/" + conversationId, ed.accessToken(),
        new JsonObject().putNull("projectId")), 403);
    assertProblem(api.delete("/api/v1/conversations/" + conversationId, ed.accessToken()), 403);
    assertProblem(api.delete("/api/v1/projects/" + projectId + "?cascade=true", ed.accessToken()), 403);
    assertProblem(api.post("/api/v1/projects/" + projectId + "/members", ed.accessToken(),
        new JsonObject().put("email", eve.email()).put("role", "viewer")), 403);
    assertProblem(api.patch("/api/v1/projects/" + projectId + "/members/" + ed.id(), ed.accessToken(),
        new JsonObject().put("role", "editor")), 403);
  }

  @Test
  @DisplayName("a removed member loses access with the very next request, and a member may leave")
  void removalIsImmediate() {
    TestUser ann = Users.register(api);
    TestUser ed = Users.register(api);
    String projectId = project(ann);
    String conversationId = conversation(ann, projectId);
    share(ann, projectId, ed, "editor");
    assertEquals(201, post(ed, conversationId, "before").status());

    assertEquals(204, api.delete("/api/v1/projects/" + projectId + "/members/" + ed.id(), ann.accessToken())
        .status());
    assertProblem(post(ed, conversationId, "after"), 404);
    assertProblem(api.get("/api/v1/conversations/" + conversationId, ed.accessToken()), 404);
    assertProblem(api.get("/api/v1/projects/" + projectId, ed.accessToken()), 404);
    assertFalse(api.get("/api/v1/projects", ed.accessToken()).body().contains(projectId),
        "the project leaves the former member's list");

    share(ann, projectId, ed, "viewer");
    assertEquals(204, api.delete("/api/v1/projects/" + projectId + "/members/" + ed.id(), ed.accessToken())
        .status(), "a member may leave");
    assertProblem(api.get("/api/v1/projects/" + projectId, ed.accessToken()), 404);
  }

  @Test
  @DisplayName("own and shared projects page together, newest first, each exactly once")
  void mixedPaging() {
    TestUser ann = Users.register(api);
    TestUser bob = Users.register(api);
    List<String> expected = new ArrayList<>();
    for (int i = 0; i < 3; i++) {
      expected.add(0, project(ann));
      String bobs = project(bob);
      share(bob, bobs, ann, i % 2 == 0 ? "viewer" : "editor");
      expected.add(0, bobs);
    }
    for (int limit = 1; limit <= 4; limit++) {
      List<String> seen = new ArrayList<>();
      String cursor = null;
      do {
        Reply page = api.get("/api/v1/projects?limit=" + limit + (cursor == null ? "" : "&cursor=" + cursor),
            ann.accessToken());
        assertEquals(200, page.status(), page.body());
        page.list().forEach(p -> seen.add(((JsonObject) p).getString("id")));
        cursor = page.json().getString("nextCursor");
      } while (cursor != null);
      assertEquals(expected, seen, "pages of " + limit + " list own and shared projects once, newest first");
    }
  }

  @Test
  @DisplayName("deleting a project removes its shares")
  void deleteRemovesShares() {
    TestUser ann = Users.register(api);
    TestUser bob = Users.register(api);
    String projectId = project(ann);
    share(ann, projectId, bob, "viewer");
    assertEquals(204, api.delete("/api/v1/projects/" + projectId, ann.accessToken()).status());
    List<Object> bobs = api.get("/api/v1/projects", bob.accessToken()).list().getList();
    assertTrue(bobs.isEmpty(), "the member's list is empty once the project is gone: " + bobs);
  }
}
