package io.claudememory.fuzz;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.claudememory.support.ApiClient;
import io.claudememory.support.ApiClient.Reply;
import io.claudememory.support.Awaits;
import io.claudememory.support.Jobs;
import io.claudememory.support.TestDatabase;
import io.claudememory.support.TestServer;
import io.claudememory.support.Users;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.util.UUID;

/**
 * The real accounts and objects the fuzzer aims at, made through the API (answers contract-checked): an owner with a
 * project shared with a member, conversations with messages, an API key, a webhook with a delivery, an added database
 * and a finished export; an admin; a victim for the admin to change; a stranger whose ids must stay out of reach.
 * {@link #fresh} makes throwaway objects for the operations that delete.
 */
final class Fixtures {
  static final String REGISTER_EMAIL = "fuzz-register@example.com";
  static final String ABSENT_DATABASE = "cmb_fuzz_absent";
  static final String HOOK_URL = "http://127.0.0.1:9/fuzz-hook";

  private final TestServer server;
  private final ApiClient api;
  final Actor owner;
  final Actor member;
  final Actor invitee;
  final Actor stranger;
  final Actor admin;
  final Actor victim;
  private Actor passwordChanger;
  final String apiKey;
  final String apiKeyId;
  final String projectId;
  final String conversationId;
  final String looseConversationId;
  final String strangerConversationId;
  final String userMessageId;
  final String assistantMessageId;
  final String webhookId;
  final String deliveryId;
  final String databaseId;
  final String exportJobId;
  /** The fixture export's file, a valid upload for the import. */
  final io.vertx.core.buffer.Buffer exportFile;
  private int counter;

  /** An account as the fuzzer holds it; the tokens change when its password does. */
  static final class Actor {
    final UUID id;
    final String email;
    String password = Users.PASSWORD;
    String accessToken;
    String refreshToken;

    Actor(Users.TestUser user) {
      this.id = user.id();
      this.email = user.email();
      this.accessToken = user.accessToken();
      this.refreshToken = user.refreshToken();
    }
  }

  Fixtures(TestServer server) {
    this.server = server;
    this.api = server.client();
    owner = new Actor(Users.register(api));
    member = new Actor(Users.register(api));
    invitee = new Actor(Users.register(api));
    stranger = new Actor(Users.register(api));
    victim = new Actor(Users.register(api));
    admin = new Actor(Users.register(api));
    makeAdmin(admin);

    JsonObject key = created(api.post("/api/v1/api-keys", owner.accessToken, new JsonObject().put("name", "fuzz")));
    apiKey = key.getString("key");
    apiKeyId = key.getString("id");
    projectId = newProject();
    created(api.post("/api/v1/projects/" + projectId + "/members", owner.accessToken,
        new JsonObject().put("email", member.email).put("role", "editor")));
    conversationId = created(api.post("/api/v1/conversations", owner.accessToken,
        new JsonObject().put("title", "fuzz target").put("projectId", projectId))).getString("id");
    looseConversationId = newConversation();
    strangerConversationId = created(api.post("/api/v1/conversations", stranger.accessToken,
        new JsonObject().put("title", "not yours"))).getString("id");
    userMessageId = message(conversationId, "user", "what did we say about postgres search?", null);
    assistantMessageId = message(conversationId, "assistant", "that it ranks with ts_rank", userMessageId);
    webhookId = newWebhook();
    deliveryId = accepted(api.post("/api/v1/webhooks/" + webhookId + "/test", owner.accessToken, null))
        .getString("id");
    databaseId = newDatabase();
    exportJobId = finishedExport();
    Reply download = api.get("/api/v1/export/download/" + exportJobId, owner.accessToken);
    assertEquals(200, download.status(), download::body);
    exportFile = download.raw();
  }

  /** A fresh object of the kind a path names, for operations that delete it; null for kinds not made fresh. */
  String fresh(String resource) {
    return switch (resource) {
      case "api-keys" -> newApiKey();
      case "projects" -> newProject();
      case "conversations" -> newConversation();
      case "webhooks" -> newWebhook();
      case "database" -> newDatabase();
      case "members" -> {
        Reply added = api.post("/api/v1/projects/" + projectId + "/members", owner.accessToken,
            new JsonObject().put("email", member.email).put("role", "editor"));
        if (added.status() != 201 && added.status() != 409) {
          throw new AssertionError("could not share the project again: " + added.body());
        }
        yield member.id.toString();
      }
      default -> null;
    };
  }

  /**
   * The account that changes its password (made on first use, so that nothing else depends on its tokens). Its
   * password is its own: cases that authenticate as someone else (the owner's API key, another account's token) send
   * this current password too, and must not change theirs.
   */
  Actor passwordChanger() {
    if (passwordChanger == null) {
      String email = "fuzz-password-" + UUID.randomUUID().toString().substring(0, 8) + "@example.com";
      String password = "a password of its very own " + UUID.randomUUID();
      JsonObject pair = created(api.post("/api/v1/auth/register", null,
          new JsonObject().put("email", email).put("password", password)));
      passwordChanger = new Actor(new Users.TestUser(UUID.fromString(pair.getJsonObject("user").getString("id")),
          email, pair.getString("accessToken"), pair.getString("refreshToken")));
      passwordChanger.password = password;
    }
    return passwordChanger;
  }

  /** A refresh token of a new sign-in of the owner, so trading or revoking it touches no other session. */
  String freshRefreshToken() {
    Reply login = api.post("/api/v1/auth/login", null,
        new JsonObject().put("email", owner.email).put("password", owner.password));
    assertEquals(200, login.status(), login::body);
    return login.data().getString("refreshToken");
  }

  int next() {
    return ++counter;
  }

  /** A throwaway key; when the account has as many as it may (valid fuzz cases made them), all others go first. */
  private String newApiKey() {
    JsonObject body = new JsonObject().put("name", "fuzz throwaway");
    Reply reply = api.post("/api/v1/api-keys", owner.accessToken, body);
    if (reply.status() == 409) {
      for (Object key : api.get("/api/v1/api-keys", owner.accessToken).list()) {
        String id = ((JsonObject) key).getString("id");
        if (!id.equals(apiKeyId)) {
          assertEquals(204, api.delete("/api/v1/api-keys/" + id, owner.accessToken).status());
        }
      }
      reply = api.post("/api/v1/api-keys", owner.accessToken, body);
    }
    return created(reply).getString("id");
  }

  private String newProject() {
    return created(api.post("/api/v1/projects", owner.accessToken,
        new JsonObject().put("name", "fuzz project " + next()).put("description", "aimed at"))).getString("id");
  }

  private String newConversation() {
    return created(api.post("/api/v1/conversations", owner.accessToken,
        new JsonObject().put("title", "fuzz loose " + next()).put("tags", new JsonArray().add("fuzz"))))
        .getString("id");
  }

  private String newWebhook() {
    return created(api.post("/api/v1/webhooks", owner.accessToken, new JsonObject().put("url", HOOK_URL)
        .put("events", new JsonArray().add("message.created")))).getString("id");
  }

  private String newDatabase() {
    return created(api.post("/api/v1/database", owner.accessToken, new JsonObject()
        .put("name", "fuzz db " + next()).put("host", "127.0.0.1").put("port", 5432)
        .put("database", ABSENT_DATABASE).put("user", "postgres"))).getString("id");
  }

  private String message(String conversation, String role, String content, String parentId) {
    JsonObject body = new JsonObject().put("content", content).put("role", role).put("generate", false);
    if (parentId != null) {
      body.put("parentId", parentId);
    }
    return created(api.post("/api/v1/conversations/" + conversation + "/messages", owner.accessToken, body))
        .getJsonObject("message").getString("id");
  }

  private String finishedExport() {
    String id = accepted(api.post("/api/v1/export/create", owner.accessToken, new JsonObject())).getString("id");
    JsonObject job = Jobs.awaitFinishedAt(api, owner.accessToken, "/api/v1/export/jobs/" + id, 60);
    assertEquals("succeeded", job.getString("status"), () -> "the fixture export failed: " + job);
    return id;
  }

  private void makeAdmin(Actor actor) {
    try (Connection c = TestDatabase.connect(server.master());
         PreparedStatement s = c.prepareStatement("UPDATE users SET role = 'admin' WHERE id = ?")) {
      s.setObject(1, actor.id);
      assertEquals(1, s.executeUpdate());
    } catch (java.sql.SQLException e) {
      throw new IllegalStateException(e);
    }
    // the node caches a user's role for a few seconds (auth.stateCacheSeconds)
    Awaits.until(() -> "admin".equals(api.get("/api/v1/auth/profile", actor.accessToken).data().getString("role")),
        30_000, "the admin role takes effect");
  }

  private static JsonObject created(Reply reply) {
    assertEquals(201, reply.status(), reply::body);
    return reply.data();
  }

  private static JsonObject accepted(Reply reply) {
    assertEquals(202, reply.status(), reply::body);
    return reply.data();
  }
}
