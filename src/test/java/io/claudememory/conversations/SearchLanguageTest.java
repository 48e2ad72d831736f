package io.claudememory.conversations;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.claudememory.support.ApiClient;
import io.claudememory.support.TestServer;
import io.claudememory.support.Users;
import io.claudememory.support.Users.TestUser;
import io.vertx.core.json.JsonObject;
import java.util.Map;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

@DisplayName("Search stems words with the language a tenant database was created with")
class SearchLanguageTest {

  @Test
  @DisplayName("english stems 'runs' to match 'running'; the simple configuration does not")
  void languageDecidesStemming() {
    try (TestServer english = TestServer.start()) {
      assertEquals(1, hits(english.client(), "runs fast"), "english: runs ~ running");
    }
    try (TestServer simple = TestServer.start(Map.of("CMB_SEARCH_LANGUAGE", "simple"))) {
      assertEquals(0, hits(simple.client(), "runs fast"), "simple: no stemming");
      assertEquals(1, hits(simple.client(), "running fast"), "simple still finds the exact words");
    }
  }

  private static int hits(ApiClient api, String query) {
    TestUser ann = Users.register(api);
    String conversation = api.post("/api/v1/conversations", ann.accessToken(), new JsonObject().put("title", "Dogs"))
        .data().getString("id");
    assertEquals(201, api.post("/api/v1/conversations/" + conversation + "/messages", ann.accessToken(),
        new JsonObject().put("content", "the dog was running fast across the field")).status());
    ApiClient.Reply reply = api.get("/api/v1/conversations/search?q=" + query.replace(" ", "+"), ann.accessToken());
    assertEquals(200, reply.status(), reply.body());
    return reply.list().size();
  }
}
