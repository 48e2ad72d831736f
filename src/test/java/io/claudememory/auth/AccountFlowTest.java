package io.claudememory.auth;

import static io.claudememory.support.Problems.assertFieldError;
import static io.claudememory.support.Problems.assertProblem;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.claudememory.support.ApiClient;
import io.claudememory.support.ApiClient.Reply;
import io.claudememory.support.TestDatabase;
import io.claudememory.support.TestServer;
import io.claudememory.support.Users;
import io.claudememory.support.Users.TestUser;
import io.vertx.core.json.JsonObject;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.util.Arrays;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

@DisplayName("Accounts: register, login, refresh rotation, logout, profile, password")
class AccountFlowTest {
  @RegisterExtension
  static final TestServer server = TestServer.start();
  static final ApiClient api = server.client();

  @Test
  @DisplayName("registration answers the user and a token pair, and the access token opens the profile")
  void registerThenProfile() {
    String email = "Ann." + UUID.randomUUID().toString().substring(0, 6) + "@Example.com";
    Reply reply = api.post("/api/v1/auth/register", null, new JsonObject().put("email", email)
        .put("password", Users.PASSWORD).put("name", "Ann").put("username", "ann_" + email.substring(4, 10)));
    assertEquals(201, reply.status(), reply.body());
    JsonObject data = reply.data();
    assertEquals(900, data.getInteger("expiresIn"));
    JsonObject user = data.getJsonObject("user");
    assertEquals(email, user.getString("email"));
    assertEquals("user", user.getString("role"));
    assertEquals(Set.of("id", "email", "name", "username", "role", "createdAt"), user.fieldNames(),
        "the user shape exposes no hash or internal flags");

    Reply profile = api.get("/api/v1/auth/profile", data.getString("accessToken"));
    assertEquals(200, profile.status(), profile.body());
    assertEquals(user, profile.data());
  }

  @Test
  @DisplayName("the same email in another case cannot register twice")
  void duplicateEmail() {
    TestUser ann = Users.register(api);
    Reply again = api.post("/api/v1/auth/register", null,
        new JsonObject().put("email", ann.email().toUpperCase()).put("password", Users.PASSWORD));
    JsonObject problem = assertProblem(again, 409);
    assertEquals("email", problem.getJsonArray("errors").getJsonObject(0).getString("field"));
  }

  @Test
  @DisplayName("a weak or malformed registration gets every field error at once, and nothing is created")
  void registrationValidation() {
    Reply reply = api.post("/api/v1/auth/register", null, new JsonObject().put("email", "not-an-email")
        .put("password", "short").put("username", "x"));
    assertFieldError(reply, "email");
    assertFieldError(reply, "password");
    assertFieldError(reply, "username");
    assertFieldError(api.post("/api/v1/auth/register", null, new JsonObject().put("email", "c@example.com")
        .put("password", "password123")), "password");
    assertFieldError(api.post("/api/v1/auth/register", null, new JsonObject().put("email", "d@example.com")
        .put("password", "x".repeat(73))), "password");
    assertFieldError(api.post("/api/v1/auth/register", null, new JsonObject().put("email", "e@example.com")
        .put("password", Users.PASSWORD).put("role", "admin")), "role");
    assertEquals(401, api.post("/api/v1/auth/login", null, new JsonObject().put("email", "e@example.com")
        .put("password", Users.PASSWORD)).status(), "a refused registration leaves no account");
    // only what the document's format: email admits (an ASCII mailbox), so every answer naming it is valid too
    for (String email : new String[] {"ünï@exämple.com", "a@b@example.com", "\"quoted\"@example.com",
        ".dot@example.com", "x@-host.example.com", "x@localhost", "<script>@example.com"}) {
      assertFieldError(api.post("/api/v1/auth/register", null, new JsonObject().put("email", email)
          .put("password", Users.PASSWORD)), "email");
    }
  }

  @Test
  @DisplayName("an unknown email and a wrong password get the same 401")
  void loginFailuresLookAlike() {
    TestUser ann = Users.register(api);
    Reply wrongPassword = api.post("/api/v1/auth/login", null,
        new JsonObject().put("email", ann.email()).put("password", "not the password at all"));
    Reply unknownEmail = api.post("/api/v1/auth/login", null,
        new JsonObject().put("email", "nobody-" + UUID.randomUUID() + "@example.com").put("password", "whatever1"));
    JsonObject a = assertProblem(wrongPassword, 401);
    JsonObject b = assertProblem(unknownEmail, 401);
    assertEquals(a.getString("detail"), b.getString("detail"));
    assertEquals(a.getString("title"), b.getString("title"));
    // longer than bcrypt reads (72 bytes): never anyone's password, and no 500 from the bcrypt library either
    for (String longer : new String[] {"p".repeat(73), "ü".repeat(40), "q".repeat(1000)}) {
      assertEquals(a.getString("detail"), assertProblem(api.post("/api/v1/auth/login", null,
          new JsonObject().put("email", ann.email()).put("password", longer)), 401).getString("detail"));
      assertProblem(api.post("/api/v1/auth/login", null,
          new JsonObject().put("email", "nobody-" + UUID.randomUUID() + "@example.com").put("password", longer)), 401);
    }

    Reply ok = api.post("/api/v1/auth/login", null,
        new JsonObject().put("email", ann.email().toUpperCase()).put("password", Users.PASSWORD));
    assertEquals(200, ok.status(), "login ignores the email's case: " + ok.body());
    assertEquals(ann.id().toString(), ok.data().getJsonObject("user").getString("id"));
  }

  @Test
  @DisplayName("an unknown email costs a password hash too, so the 401 takes as long as a wrong password's")
  void unknownEmailTakesAsLong() {
    // the suite's cost 4 hashes in about a millisecond, lost in the request's own time; cost 10 dominates it
    try (TestServer costly = TestServer.start(Map.of("CMB_AUTH_BCRYPT_COST", "10"))) {
      ApiClient client = costly.client();
      TestUser ann = Users.register(client);
      JsonObject wrongPassword = new JsonObject().put("email", ann.email()).put("password", "not the password");
      JsonObject unknownEmail = new JsonObject().put("email", "nobody@example.com").put("password", "not the password");
      loginMillis(client, unknownEmail); // the first makes the decoy hash it verifies against
      long[] wrong = new long[5];
      long[] unknown = new long[5];
      for (int i = 0; i < wrong.length; i++) {
        wrong[i] = loginMillis(client, wrongPassword);
        unknown[i] = loginMillis(client, unknownEmail);
      }
      long wrongMedian = median(wrong);
      long unknownMedian = median(unknown);
      assertTrue(unknownMedian >= wrongMedian / 2, "an unknown email (median " + unknownMedian
          + " ms) must cost a hash like a wrong password (median " + wrongMedian + " ms)");
    }
  }

  @Test
  @DisplayName("refresh rotates the token; reusing a rotated token revokes the whole family and is audited")
  void refreshRotationAndReuse() throws Exception {
    TestUser ann = Users.register(api);
    Reply first = refresh(ann.refreshToken());
    assertEquals(200, first.status(), first.body());
    String second = first.data().getString("refreshToken");
    assertNotEquals(ann.refreshToken(), second, "every refresh issues a new token");
    assertNotNull(first.data().getString("accessToken"));

    assertProblem(refresh(ann.refreshToken()), 401);
    assertProblem(refresh(second), 401);

    try (Connection c = TestDatabase.connect(server.master());
         PreparedStatement s = c.prepareStatement(
             "SELECT count(*) FROM audit_events WHERE user_id = ? AND action = 'auth.refresh_reuse'")) {
      s.setObject(1, ann.id());
      try (ResultSet rs = s.executeQuery()) {
        rs.next();
        assertEquals(1, rs.getInt(1), "the reuse is a security audit event");
      }
    }
    Reply otherLogin = api.post("/api/v1/auth/login", null,
        new JsonObject().put("email", ann.email()).put("password", Users.PASSWORD));
    assertEquals(200, refresh(otherLogin.data().getString("refreshToken")).status(),
        "another login (another family) is untouched");
  }

  @Test
  @DisplayName("logout revokes the refresh token's family")
  void logout() {
    TestUser ann = Users.register(api);
    Reply out = api.post("/api/v1/auth/logout", null, new JsonObject().put("refreshToken", ann.refreshToken()));
    assertEquals(204, out.status(), out.body());
    assertProblem(refresh(ann.refreshToken()), 401);
    assertEquals(204, api.post("/api/v1/auth/logout", null, new JsonObject().put("refreshToken", "unknown"))
        .status(), "logging out twice is harmless");
  }

  @Test
  @DisplayName("profile updates take name and username only; a role cannot be assigned")
  void profileUpdate() {
    TestUser ann = Users.register(api);
    String handle = "h" + UUID.randomUUID().toString().substring(0, 8);
    Reply updated = api.patch("/api/v1/auth/profile", ann.accessToken(),
        new JsonObject().put("name", "Ann Example").put("username", handle));
    assertEquals(200, updated.status(), updated.body());
    assertEquals("Ann Example", updated.data().getString("name"));
    assertEquals(handle, updated.data().getString("username"));

    assertFieldError(api.patch("/api/v1/auth/profile", ann.accessToken(), new JsonObject().put("role", "admin")),
        "role");
    assertEquals("user", api.get("/api/v1/auth/profile", ann.accessToken()).data().getString("role"));

    TestUser bob = Users.register(api);
    assertProblem(api.patch("/api/v1/auth/profile", bob.accessToken(),
        new JsonObject().put("username", handle.toUpperCase())), 409);
    Reply cleared = api.patch("/api/v1/auth/profile", ann.accessToken(), new JsonObject().putNull("name"));
    assertNull(cleared.data().getString("name"), "null clears a field");
    assertEquals(handle, cleared.data().getString("username"), "absent fields are left alone");
  }

  @Test
  @DisplayName("a password change needs the current password and signs every other session out")
  void passwordChange() {
    TestUser ann = Users.register(api);
    String newPassword = "a much better passphrase";
    assertFieldError(api.post("/api/v1/auth/password", ann.accessToken(),
        new JsonObject().put("currentPassword", "wrong password!").put("newPassword", newPassword)),
        "currentPassword");
    assertFieldError(api.post("/api/v1/auth/password", ann.accessToken(),
        new JsonObject().put("currentPassword", "c".repeat(200)).put("newPassword", newPassword)), "currentPassword");
    Reply changed = api.post("/api/v1/auth/password", ann.accessToken(),
        new JsonObject().put("currentPassword", Users.PASSWORD).put("newPassword", newPassword));
    assertEquals(200, changed.status(), changed.body());

    assertProblem(api.get("/api/v1/auth/profile", ann.accessToken()), 401);
    assertProblem(refresh(ann.refreshToken()), 401);
    assertEquals(200, api.get("/api/v1/auth/profile", changed.data().getString("accessToken")).status(),
        "the pair returned by the change works");
    assertEquals(401, api.post("/api/v1/auth/login", null,
        new JsonObject().put("email", ann.email()).put("password", Users.PASSWORD)).status());
    assertEquals(200, api.post("/api/v1/auth/login", null,
        new JsonObject().put("email", ann.email()).put("password", newPassword)).status());
  }

  @Test
  @DisplayName("API keys: shown once, listed by prefix, accepted as a bearer, dead once revoked")
  void apiKeys() {
    TestUser ann = Users.register(api);
    Reply created = api.post("/api/v1/api-keys", ann.accessToken(), new JsonObject().put("name", "ci"));
    assertEquals(201, created.status(), created.body());
    String key = created.data().getString("key");
    assertTrue(key.startsWith("cmb_"));
    assertEquals(key.substring(0, 12), created.data().getString("prefix"));

    Reply list = api.get("/api/v1/api-keys", ann.accessToken());
    assertEquals(1, list.list().size());
    assertFalse(list.body().contains(key), "the key itself is never listed");
    assertTrue(list.json().containsKey("nextCursor"));

    Reply viaKey = api.get("/api/v1/auth/profile", key);
    assertEquals(200, viaKey.status(), viaKey.body());
    assertEquals(ann.id().toString(), viaKey.data().getString("id"));

    TestUser bob = Users.register(api);
    String keyId = created.data().getString("id");
    assertProblem(api.delete("/api/v1/api-keys/" + keyId, bob.accessToken()), 404);
    assertEquals(200, api.get("/api/v1/auth/profile", key).status(), "another user cannot revoke it");

    assertEquals(204, api.delete("/api/v1/api-keys/" + keyId, ann.accessToken()).status());
    assertProblem(api.get("/api/v1/auth/profile", key), 401);
    assertFieldError(api.post("/api/v1/api-keys", ann.accessToken(), new JsonObject().put("name", "")), "name");
  }

  private static Reply refresh(String token) {
    return api.post("/api/v1/auth/refresh", null, new JsonObject().put("refreshToken", token));
  }

  private static long loginMillis(ApiClient client, JsonObject credentials) {
    long started = System.nanoTime();
    assertProblem(client.post("/api/v1/auth/login", null, credentials), 401);
    return (System.nanoTime() - started) / 1_000_000;
  }

  private static long median(long[] values) {
    long[] sorted = values.clone();
    Arrays.sort(sorted);
    return sorted[sorted.length / 2];
  }
}
