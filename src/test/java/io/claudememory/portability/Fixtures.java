package io.claudememory.portability;

import io.claudememory.support.Archives;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.Map;

/** Export files of other services, written from protocols.md §2 and §3, and hostile files. */
final class Fixtures {
  static final String ROOT = "00000000-0000-4000-8000-000000000000";

  private Fixtures() {}

  /** A claude.ai message in the newer shape (typed blocks, parent link). */
  static JsonObject claudeMessage(String uuid, String sender, String text, String parent, String time) {
    return new JsonObject().put("uuid", uuid).put("sender", sender).put("text", text)
        .put("content", new JsonArray().add(new JsonObject().put("type", "text").put("text", text)
            .put("citations", new JsonArray())))
        .put("created_at", time).put("updated_at", time).put("attachments", new JsonArray())
        .put("files", new JsonArray()).put("parent_message_uuid", parent);
  }

  /**
   * Two conversations: "Trip planning" (newer generation) with a regenerated answer, thinking, an artifact, an
   * attachment and a file; and an older-generation one with {@code name: null}, no parent links and its answer
   * only in the legacy {@code text}.
   */
  static JsonArray claudeConversations() {
    JsonObject m2 = claudeMessage("m2", "assistant", "Day 1: Alfama", "m1", "2025-03-01T09:00:20.000000Z");
    m2.getJsonArray("content").add(0, new JsonObject().put("type", "thinking").put("thinking", "Let me think"))
        .add(new JsonObject().put("type", "tool_use").put("name", "artifacts").put("input", new JsonObject()
            .put("id", "itinerary").put("type", "text/markdown").put("title", "Itinerary").put("command", "create")
            .put("language", "markdown").put("content", "| Day | Plan |\n| 1 | Alfama |")));
    JsonObject m3 = claudeMessage("m3", "human", "Thanks, and with kids?", "m2b", "2025-03-01T09:05:00.000000Z");
    m3.getJsonArray("attachments").add(new JsonObject().put("file_name", "kids.txt").put("file_size", 20)
        .put("file_type", "text/plain").put("extracted_content", "Two kids, 5 and 8"));
    m3.getJsonArray("files").add(new JsonObject().put("file_uuid", "f1").put("file_name", "photo.jpg"));
    JsonObject trip = new JsonObject().put("uuid", "conv-trip").put("name", "Trip planning").put("summary", "")
        .put("created_at", "2025-03-01T09:00:00.000000Z").put("updated_at", "2025-03-01T09:05:10.000000Z")
        .put("account", new JsonObject().put("uuid", "acc"))
        .put("chat_messages", new JsonArray()
            .add(claudeMessage("m1", "human", "Plan 3 days in Lisbon", ROOT, "2025-03-01T09:00:00.000000Z"))
            .add(m2)
            .add(claudeMessage("m2b", "assistant", "Day 1: Belém", "m1", "2025-03-01T09:01:00.000000Z"))
            .add(m3));
    JsonObject legacyAnswer = new JsonObject().put("uuid", "o2").put("sender", "assistant")
        .put("text", "Paris.").put("content", new JsonArray()).put("created_at", "2024-05-01T10:00:05Z");
    JsonObject old = new JsonObject().put("uuid", "conv-old").putNull("name")
        .put("created_at", "2024-05-01T10:00:00Z").put("updated_at", "2024-05-01T10:00:05Z")
        .put("account", "acc")
        .put("chat_messages", new JsonArray()
            .add(new JsonObject().put("uuid", "o1").put("sender", "human")
                .put("text", "What is the capital of France?\nAnd why?").put("created_at", "2024-05-01T10:00:00Z"))
            .add(legacyAnswer));
    return new JsonArray().add(trip).add(old);
  }

  static JsonArray claudeProjects() {
    return new JsonArray().add(new JsonObject().put("uuid", "proj-1").put("name", "Research")
        .put("description", "Reading list").put("is_private", true).put("prompt_template", "Be rigorous.")
        .put("created_at", "2025-01-01T00:00:00Z").put("updated_at", "2025-01-02T00:00:00Z")
        .put("docs", new JsonArray().add(new JsonObject().put("uuid", "d1").put("filename", "notes.md")
            .put("content", "Read Knuth."))));
  }

  /** The older archive layout: a wrapper folder, projects.json, users.json, and macOS litter. */
  static Buffer claudeZip() {
    String dir = "data-2025-03-02-10-00-00-batch-0000/";
    return Archives.zip(Map.of(dir + "conversations.json", claudeConversations().encode(),
        dir + "projects.json", claudeProjects().encode(),
        dir + "users.json", "[{\"uuid\":\"acc\",\"full_name\":\"Ann\",\"email_address\":\"ann@example.com\"}]",
        "__MACOSX/" + dir + "._conversations.json", "not json at all"));
  }

  private static JsonObject node(String id, String parent, JsonArray children, JsonObject message) {
    return new JsonObject().put("id", id).put("parent", parent).put("children", children).put("message", message);
  }

  private static JsonObject chatMessage(String id, String role, String text, double time, JsonObject metadata) {
    return new JsonObject().put("id", id).put("author", new JsonObject().put("role", role).putNull("name"))
        .put("create_time", time).put("content", new JsonObject().put("content_type", "text")
            .put("parts", new JsonArray().add(text)))
        .put("status", "finished_successfully").put("metadata", metadata == null ? new JsonObject() : metadata);
  }

  /**
   * One archived conversation: an empty root, a custom-instructions system node, a user prompt with a regenerated
   * answer (two branches), a visually hidden node, and a follow-up that is the current node.
   */
  static JsonArray chatGptConversations() {
    JsonObject mapping = new JsonObject()
        .put("root", node("root", null, new JsonArray().add("sys"), null))
        .put("sys", node("sys", "root", new JsonArray().add("n1"), chatMessage("sys", "system", "Be brief",
            1712345678.0, new JsonObject().put("is_user_system_message", true))))
        .put("n1", node("n1", "sys", new JsonArray().add("n2a").add("n2"), chatMessage("n1", "user",
            "Plan 3 days", 1712345679.25, null)))
        .put("n2a", node("n2a", "n1", new JsonArray(), chatMessage("n2a", "assistant", "Abandoned answer",
            1712345680.5, new JsonObject().put("model_slug", "gpt-4"))))
        .put("n2", node("n2", "n1", new JsonArray().add("hidden"), chatMessage("n2", "assistant", "Day 1 ...",
            1712345690.0, new JsonObject().put("model_slug", "gpt-4o"))))
        .put("hidden", node("hidden", "n2", new JsonArray().add("n3"), chatMessage("hidden", "assistant",
            "internal", 1712345691.0, new JsonObject().put("is_visually_hidden_from_conversation", true))))
        .put("n3", node("n3", "hidden", new JsonArray(), chatMessage("n3", "user", "And day 2?",
            1712345700.0, null)));
    return new JsonArray().add(new JsonObject().put("id", "chat-1").put("conversation_id", "chat-1")
        .put("title", "Lisbon").put("create_time", 1712345678.5).put("update_time", 1712345700.1)
        .put("current_node", "n3").put("is_archived", true).put("mapping", mapping));
  }
}
