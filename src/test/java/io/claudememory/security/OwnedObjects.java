package io.claudememory.security;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.claudememory.support.ApiClient;
import io.claudememory.support.ApiClient.Reply;
import io.claudememory.support.Awaits;
import io.claudememory.support.ExternalDatabases;
import io.claudememory.support.Jobs;
import io.claudememory.support.TestServer;
import io.claudememory.support.Users;
import io.claudememory.support.Users.TestUser;
import io.claudememory.support.WebhookReceiver;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.UUID;

/**
 * One account and an object of every kind it can own, created through the API as a client would: a project shared
 * with a member, a conversation in it with a message, a webhook with a delivered ping, an API key, a finished export,
 * a database of its own. {@link #ids()} names each by its fixture (see {@link IdOperations}); every name and text the
 * account wrote carries its {@link #marker()}, so a reply that shows any of it to someone else is caught.
 */
final class OwnedObjects {
  private final TestUser user;
  private final String marker;
  private final Map<String, String> ids = new LinkedHashMap<>();

  private OwnedObjects(TestUser user, String marker) {
    this.user = user;
    this.marker = marker;
  }

  /** Registers an account and creates its objects; {@code member} is added to its project, {@code invitee} is not. */
  static OwnedObjects create(TestServer server, ApiClient api, WebhookReceiver receiver, TestUser member,
      TestUser invitee) {
    OwnedObjects own = new OwnedObjects(Users.register(api), "marker" + UUID.randomUUID().toString()
        .replace("-", ""));
    own.build(server, api, receiver, member, invitee);
    return own;
  }

  private void build(TestServer server, ApiClient api, WebhookReceiver receiver, TestUser member, TestUser invitee) {
    String token = user.accessToken();
    ids.put("user", user.id().toString());
    ids.put("marker", marker);
    ids.put("inviteeEmail", invitee.email());
    String project = created(api.post("/api/v1/projects", token, new JsonObject().put("name", marker + " project")
        .put("description", marker).put("instructions", marker)));
    ids.put("project", project);
    Reply share = api.post("/api/v1/projects/" + project + "/members", token, new JsonObject()
        .put("email", member.email()).put("role", "editor"));
    assertEquals(201, share.status(), share.body());
    ids.put("member", member.id().toString());
    String conversation = created(api.post("/api/v1/conversations", token, new JsonObject()
        .put("title", marker + " conversation").put("projectId", project).put("systemPrompt", marker)
        .put("tags", new JsonArray().add(marker))));
    ids.put("conversation", conversation);
    Reply sent = api.post("/api/v1/conversations/" + conversation + "/messages", token, new JsonObject()
        .put("content", marker + " question").put("generate", false));
    assertEquals(201, sent.status(), sent.body());
    ids.put("message", sent.data().getJsonObject("message").getString("id"));
    ids.put("apiKey", created(api.post("/api/v1/api-keys", token, new JsonObject().put("name", marker + " key"))));
    webhook(api, receiver, token);
    ids.put("database", created(api.post("/api/v1/database", token,
        ExternalDatabases.create(server.scope()).body(marker.substring(0, 20) + " db"))));
    Reply export = api.post("/api/v1/export/create", token, new JsonObject().put("scope", "all"));
    assertEquals(202, export.status(), export.body());
    String job = export.data().getString("id");
    Jobs.awaitFinishedAt(api, token, "/api/v1/export/jobs/" + job, 60);
    ids.put("exportJob", job);
    ids.put("job", job);
  }

  /** A webhook and one delivery of its ping that has finished (a pending one cannot be redelivered). */
  private void webhook(ApiClient api, WebhookReceiver receiver, String token) {
    Reply hook = api.post("/api/v1/webhooks", token, new JsonObject().put("url", receiver.url())
        .put("events", new JsonArray().add("import.completed")).put("description", marker));
    assertEquals(201, hook.status(), hook.body());
    String webhook = hook.data().getString("id");
    receiver.secret(hook.data().getString("secret"));
    ids.put("webhook", webhook);
    Reply ping = api.post("/api/v1/webhooks/" + webhook + "/test", token, null);
    assertEquals(202, ping.status(), ping.body());
    String delivery = ping.data().getString("id");
    Awaits.until(() -> "succeeded".equals(api.get("/api/v1/webhooks/" + webhook + "/deliveries", token).list()
        .getJsonObject(0).getString("status")), 20_000, "the ping of " + marker + "'s webhook is delivered");
    ids.put("delivery", delivery);
  }

  private static String created(Reply reply) {
    assertEquals(201, reply.status(), reply.body());
    return reply.data().getString("id");
  }

  TestUser user() {
    return user;
  }

  String token() {
    return user.accessToken();
  }

  String marker() {
    return marker;
  }

  /** Fixture name → this account's value (ids, and the few other values bodies need). */
  Map<String, String> ids() {
    return ids;
  }
}
