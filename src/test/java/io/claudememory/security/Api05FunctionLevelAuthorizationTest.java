package io.claudememory.security;

import static io.claudememory.support.Problems.assertProblem;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.claudememory.support.ApiClient;
import io.claudememory.support.ApiClient.Reply;
import io.claudememory.support.ApiContract;
import io.claudememory.support.TestDatabase;
import io.claudememory.support.TestServer;
import io.claudememory.support.Users;
import io.claudememory.support.Users.TestUser;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonObject;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * OWASP API5:2023: functions reserved to a role. Admin operations are read from the contract (every path under
 * {@code /admin}); an admin made directly in the master database proves each one works for its role, so a user's 403
 * is about the role. Methods the contract does not list are tried on every path, by an admin. Inside a shared
 * project, a viewer may only read and an editor may not manage the project.
 */
@ExtendWith(SecuritySuite.class)
@DisplayName("API5:2023 Broken Function Level Authorization: admin functions, undocumented methods and project roles")
class Api05FunctionLevelAuthorizationTest {
  private static final List<HttpMethod> METHODS = List.of(HttpMethod.GET, HttpMethod.POST, HttpMethod.PUT,
      HttpMethod.PATCH, HttpMethod.DELETE);
  static TestServer server;
  static ApiClient api;
  static TestUser user;
  static TestUser admin;

  @BeforeAll
  static void start() throws Exception {
    server = SecuritySuite.shared().server();
    api = SecuritySuite.shared().client();
    user = Users.register(api);
    admin = Users.register(api);
    try (Connection c = TestDatabase.connect(server.master());
         PreparedStatement s = c.prepareStatement("UPDATE users SET role = 'admin' WHERE id = ?")) {
      s.setObject(1, admin.id());
      assertEquals(1, s.executeUpdate());
    }
  }

  @Test
  @DisplayName("every admin operation of the contract answers 403 to a user and 401 to no one, and works for an admin")
  void adminOperationsNeedTheRole() {
    JsonObject paths = ApiContract.load().document().getJsonObject("paths");
    List<String> checked = new ArrayList<>();
    for (String path : paths.fieldNames()) {
      if (!path.startsWith("/admin")) {
        continue;
      }
      for (String method : paths.getJsonObject(path).fieldNames()) {
        if (!(paths.getJsonObject(path).getValue(method) instanceof JsonObject)) {
          continue;
        }
        HttpMethod verb = HttpMethod.valueOf(method.toUpperCase(Locale.ROOT));
        String uri = "/api/v1" + path.replace("{id}", user.id().toString());
        Buffer body = verb == HttpMethod.PATCH ? new JsonObject().put("role", "admin").toBuffer() : null;
        Reply asUser = api.send(verb, uri, user.accessToken(), body);
        assertProblem(asUser, 403);
        assertTrue(!asUser.body().contains(admin.email()), uri + " shows nothing to a user");
        assertProblem(api.send(verb, uri, null, body), 401);
        Reply asAdmin = api.send(verb, uri, admin.accessToken(), verb == HttpMethod.PATCH
            ? new JsonObject().put("role", "user").toBuffer() : null);
        assertEquals(200, asAdmin.status(), verb + " " + uri + " works for an admin: " + asAdmin.body());
        checked.add(verb + " " + path);
      }
    }
    assertTrue(checked.size() >= 3, "admin operations found: " + checked);
    assertEquals("user", api.get("/api/v1/auth/profile", user.accessToken()).data().getString("role"),
        "the user's attempt to make themselves admin changed nothing");
  }

  @Test
  @DisplayName("an API key of a user is no way into admin operations either, nor is another user's trail")
  void keysCarryTheirOwnersRole() {
    String key = api.post("/api/v1/api-keys", user.accessToken(), new JsonObject().put("name", "k")).data()
        .getString("key");
    assertProblem(api.get("/api/v1/admin/users", key), 403);
    assertProblem(api.get("/api/v1/admin/stats", key), 403);
    assertProblem(api.get("/api/v1/audit?userId=" + admin.id(), key), 403);
    assertEquals(200, api.get("/api/v1/audit?userId=" + user.id(), admin.accessToken()).status(),
        "an admin may read another user's trail");
  }

  @Test
  @DisplayName("a method the contract does not list for a path is refused with 405 on every path, even for an admin")
  void undocumentedMethodsAreRefused() {
    JsonObject paths = ApiContract.load().document().getJsonObject("paths");
    List<String> served = new ArrayList<>();
    int tried = 0;
    for (String path : paths.fieldNames()) {
      JsonObject item = paths.getJsonObject(path);
      String uri = "/api/v1" + path.replaceAll("\\{[^}]+}", UUID.randomUUID().toString());
      for (HttpMethod method : METHODS) {
        if (item.containsKey(method.name().toLowerCase(Locale.ROOT))) {
          continue;
        }
        tried++;
        Reply reply;
        try {
          reply = api.send(method, uri, admin.accessToken(), method == HttpMethod.GET || method == HttpMethod.DELETE
              ? null : new JsonObject().toBuffer());
        } catch (AssertionError offContract) {
          served.add(method + " " + path + ": " + offContract.getMessage());
          continue;
        }
        if (reply.status() != 405) {
          served.add(method + " " + path + " answered " + reply.status());
        }
      }
    }
    assertTrue(tried > 100, "methods tried: " + tried);
    assertEquals(List.of(), served, () -> "undocumented methods must answer 405:\n" + String.join("\n", served));
  }

  @Test
  @DisplayName("in a shared project a viewer can only read, and an editor cannot delete it or manage its members")
  void projectRolesAreEnforced() {
    TestUser owner = Users.register(api);
    TestUser viewer = Users.register(api);
    TestUser editor = Users.register(api);
    String project = api.post("/api/v1/projects", owner.accessToken(), new JsonObject().put("name", "shared"))
        .data().getString("id");
    for (TestUser member : List.of(viewer, editor)) {
      assertEquals(201, api.post("/api/v1/projects/" + project + "/members", owner.accessToken(), new JsonObject()
          .put("email", member.email()).put("role", member == viewer ? "viewer" : "editor")).status());
    }
    String conversation = api.post("/api/v1/conversations", owner.accessToken(), new JsonObject()
        .put("title", "c").put("projectId", project)).data().getString("id");
    String projectUri = "/api/v1/projects/" + project;
    String conversationUri = "/api/v1/conversations/" + conversation;
    JsonObject message = new JsonObject().put("content", "hi").put("generate", false);
    assertEquals(200, api.get(conversationUri, viewer.accessToken()).status(), "a viewer reads");
    assertEquals(200, api.get(conversationUri + "/messages", viewer.accessToken()).status());
    for (Map.Entry<HttpMethod, Map.Entry<String, JsonObject>> write : List.of(
        Map.entry(HttpMethod.POST, Map.entry(conversationUri + "/messages", message)),
        Map.entry(HttpMethod.PATCH, Map.entry(conversationUri, new JsonObject().put("title", "mine now"))),
        Map.entry(HttpMethod.PATCH, Map.entry(projectUri, new JsonObject().put("name", "mine now"))),
        Map.entry(HttpMethod.POST, Map.entry("/api/v1/conversations", new JsonObject().put("projectId", project))))) {
      assertProblem(api.send(write.getKey(), write.getValue().getKey(), viewer.accessToken(),
          write.getValue().getValue().toBuffer()), 403);
    }
    assertProblem(api.delete(conversationUri, viewer.accessToken()), 403);
    assertEquals(201, api.post(conversationUri + "/messages", editor.accessToken(), message).status(),
        "an editor writes");
    assertProblem(api.delete(projectUri, editor.accessToken()), 403);
    assertProblem(api.patch(projectUri + "/members/" + viewer.id(), editor.accessToken(), new JsonObject()
        .put("role", "editor")), 403);
    assertProblem(api.post(projectUri + "/members", editor.accessToken(), new JsonObject()
        .put("email", user.email()).put("role", "editor")), 403);
    assertProblem(api.delete(projectUri + "/members/" + viewer.id(), editor.accessToken()), 403);
    assertEquals(2, api.get(projectUri + "/members", owner.accessToken()).list().size(), "no member was changed");
  }

  @Test
  @DisplayName("an account an admin deactivates loses every credential at once: its tokens and its API keys")
  void deactivationEndsAccess() {
    TestUser target = Users.register(api);
    String key = api.post("/api/v1/api-keys", target.accessToken(), new JsonObject().put("name", "k")).data()
        .getString("key");
    assertProblem(api.patch("/api/v1/admin/users/" + target.id(), target.accessToken(), new JsonObject()
        .put("active", false)), 403);
    assertEquals(200, api.patch("/api/v1/admin/users/" + target.id(), admin.accessToken(), new JsonObject()
        .put("active", false)).status());
    assertProblem(api.get("/api/v1/auth/profile", target.accessToken()), 401);
    assertProblem(api.get("/api/v1/auth/profile", key), 401);
    assertProblem(api.post("/api/v1/auth/refresh", null, new JsonObject().put("refreshToken",
        target.refreshToken())), 401);
  }
}
