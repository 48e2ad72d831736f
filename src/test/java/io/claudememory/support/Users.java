package io.claudememory.support;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.vertx.core.json.JsonObject;
import java.util.UUID;

/** Registers accounts through the API, as a client would. */
public final class Users {
  public static final String PASSWORD = "correct horse battery staple";

  private Users() {}

  /** An account as its client holds it. */
  public record TestUser(UUID id, String email, String accessToken, String refreshToken) {}

  public static TestUser register(ApiClient client) {
    return register(client, "user-" + UUID.randomUUID().toString().substring(0, 8) + "@example.com");
  }

  public static TestUser register(ApiClient client, String email) {
    ApiClient.Reply reply = client.post("/api/v1/auth/register", null,
        new JsonObject().put("email", email).put("password", PASSWORD));
    assertEquals(201, reply.status(), () -> "registration failed: " + reply.body());
    JsonObject data = reply.data();
    return new TestUser(UUID.fromString(data.getJsonObject("user").getString("id")), email,
        data.getString("accessToken"), data.getString("refreshToken"));
  }
}
