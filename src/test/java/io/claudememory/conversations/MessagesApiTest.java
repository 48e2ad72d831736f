package io.claudememory.conversations;

import static io.claudememory.support.Problems.assertFieldError;
import static io.claudememory.support.Problems.assertProblem;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.claudememory.support.ApiClient;
import io.claudememory.support.ApiClient.Reply;
import io.claudememory.support.TestServer;
import io.claudememory.support.Users;
import io.claudememory.support.Users.TestUser;
import io.vertx.core.Future;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.stream.LongStream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

@DisplayName("Messages: posting, gap-free seq, branches, paging along a branch, choosing a branch, the tree")
class MessagesApiTest {
  static TestServer server;
  static ApiClient api;
  static TestUser ann;

  @BeforeAll
  static void start() {
    server = TestServer.start();
    api = server.client();
    ann = Users.register(api);
  }

  @AfterAll
  static void stop() {
    server.close();
  }

  static String conversation() {
    Reply reply = api.post("/api/v1/conversations", ann.accessToken(), new JsonObject().put("title", "t"));
    assertEquals(201, reply.status(), reply.body());
    return reply.data().getString("id");
  }

  static JsonObject post(String conversationId, JsonObject body) {
    Reply reply = api.post("/api/v1/conversations/" + conversationId + "/messages", ann.accessToken(), body);
    assertEquals(201, reply.status(), () -> "posting a message should answer 201: " + reply.body());
    return reply.data().getJsonObject("message");
  }

  static JsonObject post(String conversationId, String content) {
    return post(conversationId, new JsonObject().put("content", content));
  }

  /** Every message of a branch, read in pages of {@code limit}. */
  static List<String> branch(String conversationId, String leafId, int limit) {
    List<String> contents = new ArrayList<>();
    String cursor = null;
    do {
      String query = "?limit=" + limit + (leafId == null ? "" : "&leafId=" + leafId)
          + (cursor == null ? "" : "&cursor=" + cursor);
      Reply page = api.get("/api/v1/conversations/" + conversationId + "/messages" + query, ann.accessToken());
      assertEquals(200, page.status(), page::body);
      assertTrue(page.list().size() <= limit, "a page holds at most limit messages");
      page.list().forEach(m -> contents.add(((JsonObject) m).getString("content")));
      cursor = page.json().getString("nextCursor");
    } while (cursor != null);
    return contents;
  }

  @Test
  @DisplayName("a posted message has the documented shape, chains to the previous one and becomes the current leaf")
  void postShape() {
    String id = conversation();
    io.claudememory.support.Problems.assertProblem(api.post("/api/v1/conversations/" + id + "/messages",
        ann.accessToken(), new JsonObject().put("content", "answer me").put("generate", true)), 503);
    JsonObject first = post(id, new JsonObject().put("content", "  hello  ").put("generate", false));
    assertEquals(Set.of("id", "conversationId", "parentId", "seq", "role", "content", "createdAt"),
        first.fieldNames(), "the message shape (optional members absent when empty)");
    assertEquals("user", first.getString("role"));
    assertEquals("  hello  ", first.getString("content"), "content is kept exactly");
    assertEquals(1, first.getInteger("seq"));
    assertNull(first.getString("parentId"));
    JsonObject second = post(id, new JsonObject().put("content", "answer").put("role", "assistant"));
    assertEquals(first.getString("id"), second.getString("parentId"), "the default parent is the current leaf");
    assertEquals(2, second.getInteger("seq"));
    JsonObject conversation = api.get("/api/v1/conversations/" + id, ann.accessToken()).data();
    assertEquals(second.getString("id"), conversation.getString("currentLeafId"));
    assertEquals(2, conversation.getInteger("messageCount"));
    assertEquals(2, conversation.getInteger("lastSeq"));
  }

  @Test
  @DisplayName("bad messages are refused: empty, missing, unknown fields, bad role, foreign parent, oversized (413)")
  void postValidation() {
    String id = conversation();
    String path = "/api/v1/conversations/" + id + "/messages";
    assertFieldError(api.post(path, ann.accessToken(), new JsonObject()), "content");
    assertFieldError(api.post(path, ann.accessToken(), new JsonObject().put("content", "   ")), "content");
    assertFieldError(api.post(path, ann.accessToken(), new JsonObject().put("content", 3)), "content");
    assertFieldError(api.post(path, ann.accessToken(), new JsonObject().put("content", "x").put("seq", 9)), "seq");
    assertFieldError(api.post(path, ann.accessToken(), new JsonObject().put("content", "x").put("role", "root")),
        "role");
    assertFieldError(api.post(path, ann.accessToken(), new JsonObject().put("content", "x").put("parentId", "p")),
        "parentId");
    String other = conversation();
    String foreign = post(other, "elsewhere").getString("id");
    assertFieldError(api.post(path, ann.accessToken(), new JsonObject().put("content", "x")
        .put("parentId", foreign)), "parentId");
    assertProblem(api.post(path, ann.accessToken(), new JsonObject().put("content", "x".repeat(100_001))), 413);
    assertEquals(201, api.post(path, ann.accessToken(), new JsonObject().put("content", "x".repeat(100_000)))
        .status(), "exactly the limit is accepted");
    assertProblem(api.post("/api/v1/conversations/" + java.util.UUID.randomUUID() + "/messages", ann.accessToken(),
        new JsonObject().put("content", "x")), 404);
  }

  @Test
  @DisplayName("an edit in the middle starts a branch; both branches stay intact and page along their own chain")
  void branches() {
    String id = conversation();
    JsonObject m1 = post(id, "q1");
    post(id, "a1");
    JsonObject m3 = post(id, "q2");
    post(id, "a2");
    JsonObject m5 = post(id, "q3");
    JsonObject oldLeaf = post(id, "a3");
    JsonObject edit = post(id, new JsonObject().put("content", "q2 edited").put("parentId", m3.getString("parentId")));
    assertEquals(7, edit.getInteger("seq"));
    JsonObject newLeaf = post(id, "a2 edited");
    assertEquals(edit.getString("id"), newLeaf.getString("parentId"), "new messages follow the new branch");

    assertEquals(List.of("q1", "a1", "q2 edited", "a2 edited"), branch(id, null, 1),
        "the current branch, in pages of one");
    assertEquals(List.of("q1", "a1", "q2", "a2", "q3", "a3"), branch(id, oldLeaf.getString("id"), 2),
        "the old branch is intact, in pages of two");
    assertEquals(List.of("q1", "a1", "q2", "a2", "q3"), branch(id, m5.getString("id"), 50),
        "leafId may name a message in the middle: the branch up to it");
    assertEquals(List.of("q1"), branch(id, m1.getString("id"), 3));

    Reply tree = api.get("/api/v1/conversations/" + id + "/tree", ann.accessToken());
    assertEquals(200, tree.status(), tree.body());
    JsonObject data = tree.data();
    assertEquals(8, data.getJsonArray("nodes").size(), "every message is a node");
    assertEquals(Set.of("id", "parentId", "seq", "role", "createdAt"),
        data.getJsonArray("nodes").getJsonObject(0).fieldNames(), "a node's shape");
    assertEquals(Set.of(oldLeaf.getString("id"), newLeaf.getString("id")),
        Set.copyOf(data.getJsonArray("leaves").getList()), "the two leaves");
    assertEquals(newLeaf.getString("id"), data.getString("currentLeafId"));
  }

  @Test
  @DisplayName("a client can choose another branch as current; reads and new messages follow it")
  void chooseBranch() {
    String id = conversation();
    JsonObject root = post(id, "root");
    JsonObject left = post(id, "left");
    post(id, new JsonObject().put("content", "right").put("parentId", root.getString("id")));
    String path = "/api/v1/conversations/" + id + "/current-leaf";
    Reply chosen = api.put(path, ann.accessToken(), new JsonObject().put("leafId", left.getString("id")));
    assertEquals(200, chosen.status(), chosen.body());
    assertEquals(left.getString("id"), chosen.data().getString("currentLeafId"));
    assertEquals(List.of("root", "left"), branch(id, null, 10));
    JsonObject next = post(id, "after left");
    assertEquals(left.getString("id"), next.getString("parentId"), "a new message extends the chosen branch");

    assertFieldError(api.put(path, ann.accessToken(), new JsonObject()), "leafId");
    assertFieldError(api.put(path, ann.accessToken(), new JsonObject().put("leafId", "x")), "leafId");
    String foreign = post(conversation(), "elsewhere").getString("id");
    assertFieldError(api.put(path, ann.accessToken(), new JsonObject().put("leafId", foreign)), "leafId");
  }

  @Test
  @DisplayName("paging parameters are validated, an unknown leaf is 404, and an empty conversation has no messages")
  void listValidation() {
    String id = conversation();
    String path = "/api/v1/conversations/" + id + "/messages";
    Reply empty = api.get(path, ann.accessToken());
    assertEquals(200, empty.status(), empty.body());
    assertEquals(0, empty.list().size());
    assertNull(empty.json().getString("nextCursor"));
    assertFieldError(api.get(path + "?limit=0", ann.accessToken()), "limit");
    assertFieldError(api.get(path + "?leafId=nope", ann.accessToken()), "leafId");
    assertFieldError(api.get(path + "?cursor=bm9wZQ", ann.accessToken()), "cursor");
    assertProblem(api.get(path + "?leafId=" + java.util.UUID.randomUUID(), ann.accessToken()), 404);
    Reply tree = api.get("/api/v1/conversations/" + id + "/tree", ann.accessToken());
    assertEquals(new JsonObject().put("nodes", new JsonArray()).put("leaves", new JsonArray())
        .putNull("currentLeafId"), tree.data(), "the tree of an empty conversation");
  }

  @Test
  @DisplayName("40 concurrent posts get seq 1..40 with no gap and no duplicate, and the counters match")
  void concurrentPosts() throws Exception {
    String id = conversation();
    List<Future<HttpResponse<Buffer>>> posts = new ArrayList<>();
    for (int i = 0; i < 40; i++) {
      posts.add(api.web().post("/api/v1/conversations/" + id + "/messages")
          .bearerTokenAuthentication(ann.accessToken())
          .sendJsonObject(new JsonObject().put("content", "message " + i)));
    }
    Future.all(posts).await(60, TimeUnit.SECONDS);
    List<Long> seqs = new ArrayList<>();
    for (Future<HttpResponse<Buffer>> post : posts) {
      HttpResponse<Buffer> response = post.result();
      assertEquals(201, response.statusCode(), () -> "every concurrent post succeeds: " + response.bodyAsString());
      seqs.add(response.bodyAsJsonObject().getJsonObject("data").getJsonObject("message").getLong("seq"));
    }
    seqs.sort(Long::compare);
    assertEquals(LongStream.rangeClosed(1, 40).boxed().toList(), seqs, "seq is 1..40, gap-free and unique");
    JsonObject conversation = api.get("/api/v1/conversations/" + id, ann.accessToken()).data();
    assertEquals(40, conversation.getInteger("messageCount"));
    assertEquals(40, conversation.getInteger("lastSeq"));
    assertEquals(40, branch(id, null, 200).size(), "each post extended the current leaf: one chain of 40");
  }

  @Test
  @DisplayName("a conversation without branches pages in seq order up to any leaf; siblings posted at once branch it,"
      + " and each branch then pages on its own")
  void linearThenBranched() throws Exception {
    String id = conversation();
    List<JsonObject> chain = new ArrayList<>();
    for (int i = 0; i < 7; i++) {
      chain.add(post(id, "m" + i));
    }
    assertEquals(List.of("m0", "m1", "m2", "m3", "m4", "m5", "m6"), branch(id, null, 3), "the chain in pages of 3");
    assertEquals(List.of("m0", "m1", "m2", "m3"), branch(id, chain.get(3).getString("id"), 2), "up to a middle leaf");

    // Twenty answers to m3 at once: the database orders them, and every one but the first is a sibling.
    String fork = chain.get(3).getString("id");
    List<Future<HttpResponse<Buffer>>> posts = new ArrayList<>();
    for (int i = 0; i < 20; i++) {
      posts.add(api.web().post("/api/v1/conversations/" + id + "/messages").bearerTokenAuthentication(ann.accessToken())
          .sendJsonObject(new JsonObject().put("content", "fork " + i).put("parentId", fork)));
    }
    Future.all(posts).await(60, TimeUnit.SECONDS);
    for (Future<HttpResponse<Buffer>> post : posts) {
      JsonObject message = post.result().bodyAsJsonObject().getJsonObject("data").getJsonObject("message");
      assertEquals(List.of("m0", "m1", "m2", "m3", message.getString("content")),
          branch(id, message.getString("id"), 2), "a sibling's branch holds none of the others");
    }
    assertEquals(List.of("m0", "m1", "m2", "m3", "m4", "m5", "m6"), branch(id, chain.get(6).getString("id"), 4),
        "the first branch is intact");
  }
}
