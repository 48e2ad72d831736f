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
import io.vertx.core.json.JsonObject;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

@DisplayName("Search: ranked full text over messages and titles, snippets, prefixes, filters, pages, isolation")
class SearchApiTest {
  static TestServer server;
  static ApiClient api;
  static TestUser ann;
  static TestUser bob;
  static String projectId;
  static String kube;
  static String strong;
  static String weak;
  static String cooking;
  static String oldBranch;

  @BeforeAll
  static void start() {
    server = TestServer.start();
    api = server.client();
    ann = Users.register(api);
    bob = Users.register(api);
    projectId = api.post("/api/v1/projects", ann.accessToken(), new JsonObject().put("name", "infra")).data()
        .getString("id");
    kube = conversation(ann, new JsonObject().put("title", "Cluster plans").put("projectId", projectId));
    weak = message(ann, kube, new JsonObject().put("content", "We should move the Kubernetes cluster next month."));
    strong = message(ann, kube, new JsonObject().put("role", "assistant").put("content",
        "Kubernetes upgrades: drain each Kubernetes node, upgrade Kubernetes, then uncordon."));
    cooking = conversation(ann, new JsonObject().put("title", "Sourdough baking"));
    String root = message(ann, cooking, new JsonObject().put("content", "How do I feed my starter?"));
    oldBranch = message(ann, cooking, new JsonObject().put("content", "Use rye flour and lukewarm water daily."));
    message(ann, cooking, new JsonObject().put("content", "Actually, what about spelt?").put("parentId", root));
    String bobs = conversation(bob, new JsonObject().put("title", "Bob's notes"));
    message(bob, bobs, new JsonObject().put("content", "Kubernetes password is hunter2 for bob only."));
  }

  @AfterAll
  static void stop() {
    server.close();
  }

  static String conversation(TestUser user, JsonObject body) {
    Reply reply = api.post("/api/v1/conversations", user.accessToken(), body);
    assertEquals(201, reply.status(), reply::body);
    return reply.data().getString("id");
  }

  static String message(TestUser user, String conversationId, JsonObject body) {
    Reply reply = api.post("/api/v1/conversations/" + conversationId + "/messages", user.accessToken(), body);
    assertEquals(201, reply.status(), reply::body);
    return reply.data().getJsonObject("message").getString("id");
  }

  static Reply search(TestUser user, String query) {
    return api.get("/api/v1/conversations/search?q=" + URLEncoder.encode(query, StandardCharsets.UTF_8),
        user.accessToken());
  }

  static List<JsonObject> hits(Reply reply) {
    assertEquals(200, reply.status(), reply::body);
    return reply.list().stream().map(JsonObject.class::cast).toList();
  }

  static List<String> messageIds(Reply reply) {
    return hits(reply).stream().map(h -> h.getString("messageId")).toList();
  }

  @Test
  @DisplayName("hits are ranked, the message saying it most comes first, with a highlighted snippet and the title")
  void rankedWithSnippets() {
    List<JsonObject> hits = hits(search(ann, "kubernetes"));
    assertEquals(List.of(strong, weak), hits.stream().map(h -> h.getString("messageId")).toList(),
        "both messages, the one with three mentions first");
    JsonObject top = hits.get(0);
    assertEquals(Set.of("conversationId", "messageId", "seq", "title", "snippet", "rank", "createdAt"),
        top.fieldNames(), "the hit shape");
    assertEquals(kube, top.getString("conversationId"));
    assertEquals(2, top.getInteger("seq"));
    assertEquals("Cluster plans", top.getString("title"));
    assertTrue(top.getString("snippet").contains("<mark>Kubernetes</mark>"),
        () -> "the snippet highlights the match: " + top.getString("snippet"));
    assertTrue(top.getDouble("rank") >= hits.get(1).getDouble("rank"), "ranks do not increase down the list");
  }

  @Test
  @DisplayName("a snippet is escaped HTML: markup in a message arrives as text, only the marks are tags")
  void snippetsAreEscaped() {
    TestUser cat = Users.register(api);
    String id = conversation(cat, new JsonObject().put("title", "Desserts"));
    message(cat, id, new JsonObject().put("content", "<b onclick=x>Tiramisu</b> needs mascarpone & eggs"));
    List<JsonObject> hits = hits(search(cat, "tiramisu"));
    assertEquals(1, hits.size(), hits::toString);
    assertEquals("&lt;b onclick=x&gt;<mark>Tiramisu</mark>&lt;/b&gt; needs mascarpone &amp; eggs",
        hits.get(0).getString("snippet"));
  }

  @Test
  @DisplayName("conversation titles are searched too; a title hit has no message id")
  void titles() {
    List<JsonObject> hits = hits(search(ann, "sourdough"));
    assertEquals(1, hits.size(), () -> "only the title mentions sourdough: " + hits);
    assertEquals(cooking, hits.get(0).getString("conversationId"));
    assertNull(hits.get(0).getString("messageId"));
    assertTrue(hits.get(0).getString("snippet").contains("<mark>Sourdough</mark>"), hits.get(0)::encode);
  }

  @Test
  @DisplayName("the last word matches as a prefix, the others as whole (stemmed) words")
  void prefixes() {
    assertEquals(List.of(strong, weak), messageIds(search(ann, "kubern")), "a prefix of the only word");
    assertEquals(List.of(weak), messageIds(search(ann, "cluster mon")), "whole first word, prefix last");
    assertEquals(List.of(), messageIds(search(ann, "mon cluster")), "only the last word is a prefix");
    assertEquals(List.of(strong), messageIds(search(ann, "upgrading nod")), "stemming: upgrading finds upgrades");
  }

  @Test
  @DisplayName("every branch is searched, not just the current one")
  void allBranches() {
    assertEquals(List.of(oldBranch), messageIds(search(ann, "rye flour")), "a message on the abandoned branch");
    assertEquals(1, hits(search(ann, "spelt")).size(), "and one on the current branch");
  }

  @Test
  @DisplayName("filters narrow by project, role and time")
  void filters() {
    String base = "/api/v1/conversations/search?q=kubernetes";
    assertEquals(List.of(strong, weak), messageIds(api.get(base + "&projectId=" + projectId, ann.accessToken())));
    assertEquals(List.of(strong), messageIds(api.get(base + "&role=assistant", ann.accessToken())));
    assertEquals(List.of(weak), messageIds(api.get(base + "&role=user", ann.accessToken())));
    assertEquals(List.of(), messageIds(api.get(base + "&from=2999-01-01T00:00:00Z", ann.accessToken())));
    assertEquals(List.of(), messageIds(api.get(base + "&to=2000-01-01T00:00:00Z", ann.accessToken())));
    assertEquals(2, hits(api.get(base + "&from=2000-01-01T00:00:00Z&to=2999-01-01T00:00:00Z",
        ann.accessToken())).size());
    String otherProject = api.post("/api/v1/projects", ann.accessToken(), new JsonObject().put("name", "empty"))
        .data().getString("id");
    assertEquals(List.of(), messageIds(api.get(base + "&projectId=" + otherProject, ann.accessToken())));
  }

  @Test
  @DisplayName("pages of one walk every hit exactly once, in rank order")
  void paging() {
    List<String> walked = new ArrayList<>();
    Set<String> seen = new HashSet<>();
    String cursor = null;
    String base = "/api/v1/conversations/search?q=k&limit=1";
    List<String> expected = new ArrayList<>();
    hits(api.get("/api/v1/conversations/search?q=k", ann.accessToken()))
        .forEach(h -> expected.add(h.getString("messageId") + "/" + h.getString("conversationId")));
    assertTrue(expected.size() >= 2, () -> "the prefix k should match several hits: " + expected);
    do {
      Reply page = api.get(base + (cursor == null ? "" : "&cursor=" + cursor), ann.accessToken());
      List<JsonObject> hits = hits(page);
      assertTrue(hits.size() <= 1, "a page holds at most limit hits");
      hits.forEach(h -> {
        String key = h.getString("messageId") + "/" + h.getString("conversationId");
        assertTrue(seen.add(key), () -> "no hit twice: " + key);
        walked.add(key);
      });
      cursor = page.json().getString("nextCursor");
    } while (cursor != null);
    assertEquals(expected, walked, "the pages together are the one-page answer");
  }

  @Test
  @DisplayName("search covers only the caller's own data, and project filters of others are 404")
  void isolation() {
    List<JsonObject> bobs = hits(search(bob, "kubernetes"));
    assertEquals(1, bobs.size(), () -> "bob finds only his own message: " + bobs);
    assertTrue(bobs.get(0).getString("snippet").contains("hunter2"));
    assertFalse(search(ann, "hunter2").body().contains("hunter2"), "ann never sees bob's text");
    assertFalse(search(bob, "drain").body().contains("uncordon"), "bob never sees ann's text");
    assertEquals(List.of(), hits(search(bob, "rye flour")));
    assertProblem(api.get("/api/v1/conversations/search?q=kubernetes&projectId=" + projectId, bob.accessToken()),
        404);
  }

  @Test
  @DisplayName("bad search parameters are 400 field errors; tsquery syntax in q is just text")
  void validation() {
    assertFieldError(api.get("/api/v1/conversations/search", ann.accessToken()), "q");
    assertFieldError(search(ann, "!!! ... ???"), "q");
    String base = "/api/v1/conversations/search?q=kubernetes";
    assertFieldError(api.get(base + "&role=robot", ann.accessToken()), "role");
    assertFieldError(api.get(base + "&from=yesterday", ann.accessToken()), "from");
    assertFieldError(api.get(base + "&limit=0", ann.accessToken()), "limit");
    assertFieldError(api.get(base + "&projectId=xyz", ann.accessToken()), "projectId");
    assertFieldError(api.get(base + "&cursor=WzFd", ann.accessToken()), "cursor");
    assertEquals(List.of(strong, weak), messageIds(search(ann, "kubernetes & | ! :* ( ) <-> '")),
        "operators are separators, never query syntax");
    assertEquals(List.of(), hits(search(ann, "the")), "a stop word alone answers, with no hits");
    assertEquals(200, search(ann, "' OR 1=1; --").status());
    assertProblem(api.get("/api/v1/conversations/search?q=x", null), 401);
  }
}
