package io.claudememory.conversations;

import static org.junit.jupiter.api.Assertions.assertEquals;
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
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Search ranks the most recent matches together, {@code search.candidates} at a time (3 here, so that a handful of
 * messages exceeds the bound). The fixture, oldest first: a conversation titled "Kubernetes", then seven messages
 * mentioning kubernetes 5, 1, 2, 3, 1, 3 and 2 times. Windows, newest first: {m7, m6, m5}, {m4, m3, m2},
 * {m1, title}; within each, most mentions first.
 */
@DisplayName("Search beyond its bound: windows of the most recent matches, each ranked, paged without loss")
class SearchWindowsTest {
  // One connection per tenant pool, so that plannedPerCall() sees the session every statement ran in.
  @RegisterExtension
  static final TestServer server = TestServer.start(Map.of("CMB_SEARCH_CANDIDATES", "3",
      "CMB_DATABASE_TENANT_POOL_SIZE", "1"));
  static final ApiClient api = server.client();
  static TestUser ann;
  static String conversation;
  static final List<String> messages = new ArrayList<>();

  @BeforeAll
  static void seed() {
    ann = Users.register(api);
    conversation = post("/api/v1/conversations", new JsonObject().put("title", "Kubernetes")).getString("id");
    for (int mentions : new int[] {5, 1, 2, 3, 1, 3, 2}) {
      messages.add(message(conversation, "kubernetes ".repeat(mentions) + "and nothing else to say"));
    }
  }

  static JsonObject post(String path, JsonObject body) {
    Reply reply = api.post(path, ann.accessToken(), body);
    assertEquals(201, reply.status(), reply::body);
    return reply.data();
  }

  static String message(String conversationId, String content) {
    return post("/api/v1/conversations/" + conversationId + "/messages", new JsonObject().put("content", content)
        .put("generate", false)).getJsonObject("message").getString("id");
  }

  /** m1..m7 by number; the title hit by its conversation id. */
  static List<String> expected() {
    return List.of(m(6), m(7), m(5), m(4), m(3), m(2), m(1), conversation);
  }

  static String m(int n) {
    return messages.get(n - 1);
  }

  static String key(JsonObject hit) {
    return hit.getString("messageId") == null ? hit.getString("conversationId") : hit.getString("messageId");
  }

  static List<String> walk(String query, int limit, Runnable betweenFirstPages) {
    List<String> walked = new ArrayList<>();
    String cursor = null;
    int pages = 0;
    do {
      Reply page = api.get("/api/v1/conversations/search?q=" + query + "&limit=" + limit
          + (cursor == null ? "" : "&cursor=" + cursor), ann.accessToken());
      assertEquals(200, page.status(), page::body);
      List<JsonObject> hits = page.list().stream().map(JsonObject.class::cast).toList();
      cursor = page.json().getString("nextCursor");
      if (cursor != null) {
        assertEquals(limit, hits.size(), () -> "a page before the last is full: " + page.body());
      }
      hits.forEach(hit -> walked.add(key(hit)));
      if (++pages == 1) {
        betweenFirstPages.run();
      }
    } while (cursor != null && pages < 50);
    return walked;
  }

  @Test
  @DisplayName("one page holds the newest window first, best rank first inside each window, then the older windows")
  void windowsInOnePage() {
    Reply reply = api.get("/api/v1/conversations/search?q=kubernetes", ann.accessToken());
    assertEquals(200, reply.status(), reply::body);
    List<JsonObject> hits = reply.list().stream().map(JsonObject.class::cast).toList();
    assertEquals(expected(), hits.stream().map(SearchWindowsTest::key).toList(),
        "m1 says it most but is older than the first two windows; the title hit is the oldest");
    assertNull(reply.json().getString("nextCursor"));
    for (int i = 1; i < hits.size(); i++) {
      if (i % 3 != 0) {
        assertTrue(hits.get(i - 1).getDouble("rank") >= hits.get(i).getDouble("rank"),
            "ranks do not increase inside a window");
      }
    }
  }

  @Test
  @DisplayName("pages smaller than a window, and pages that span two windows, walk every hit exactly once in order")
  void pagesAcrossWindows() {
    for (int limit : new int[] {1, 2, 4, 7}) {
      assertEquals(expected(), walk("kubern", limit, () -> { }), "limit " + limit);
    }
  }

  @Test
  @DisplayName("a match written between two pages neither shifts the windows nor shows up twice")
  void cursorsStayPut() {
    String plans = post("/api/v1/conversations", new JsonObject().put("title", "Plans")).getString("id");
    List<String> t = new ArrayList<>();
    for (int mentions : new int[] {1, 2, 3, 1, 2}) {
      t.add(message(plans, "terraform ".repeat(mentions) + "and nothing else to say"));
    }
    List<String> before = List.of(t.get(2), t.get(4), t.get(3), t.get(1), t.get(0));
    List<String> added = new ArrayList<>();
    assertEquals(before, walk("terraform", 2,
        () -> added.add(message(plans, "terraform ".repeat(4) + "again"))),
        "the walk that had begun sees the windows it began with");
    assertEquals(List.of(added.get(0), t.get(4), t.get(3), t.get(2), t.get(1), t.get(0)),
        walk("terraform", 50, () -> { }), "a new search has the new message in its newest window, which moved");
  }

  @Test
  @DisplayName("a project filter applies before the bound: the windows hold only that project's matches")
  void projectWindows() {
    String project = post("/api/v1/projects", new JsonObject().put("name", "infra")).getString("id");
    String inside = post("/api/v1/conversations", new JsonObject().put("title", "Inside").put("projectId", project))
        .getString("id");
    String outside = post("/api/v1/conversations", new JsonObject().put("title", "Outside")).getString("id");
    List<String> in = new ArrayList<>();
    for (int mentions : new int[] {4, 1, 3, 2}) {
      in.add(message(inside, "helm ".repeat(mentions) + "and nothing else to say"));
      message(outside, "helm ".repeat(5) + "and nothing else to say");
    }
    assertEquals(List.of(in.get(2), in.get(3), in.get(1), in.get(0)), walk("helm&projectId=" + project, 2, () -> { }),
        "windows {in4, in3, in2} and {in1}, with no message of the other conversation");
  }

  @Test
  @DisplayName("the search is planned for its words every time: never kept as a prepared statement, whose generic plan"
      + " would read every match")
  void plannedPerCall() throws Exception {
    for (int i = 0; i < 8; i++) {
      assertEquals(200, api.get("/api/v1/conversations/search?q=kubernetes&limit=2", ann.accessToken()).status());
      assertEquals(200, api.get("/api/v1/conversations", ann.accessToken()).status());
    }
    JsonObject kept = server.app().tenantPools().withPool(ann.id(), pool -> pool.query("""
        SELECT count(*) FILTER (WHERE statement LIKE '%ts_rank(%')::int AS search, count(*)::int AS all
        FROM pg_prepared_statements""").execute())
        .map(rows -> rows.iterator().next().toJson()).await(10, TimeUnit.SECONDS);
    assertTrue(kept.getInteger("all") > 0, () -> "other statements are kept prepared: " + kept);
    assertEquals(0, kept.getInteger("search"), () -> "but not the search: " + kept);
  }
}
