package io.claudememory.portability;

import static io.claudememory.portability.ClaudeFormat.text;
import static io.claudememory.portability.ClaudeFormat.time;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;

/**
 * Reads ChatGPT export conversations (protocols.md §3): the {@code mapping} tree with every branch kept and
 * {@code current_node} as the current leaf. Nodes without a message, system messages (custom instructions included),
 * tool output, visually hidden nodes and empty messages are skipped; their children hang from the nearest kept
 * ancestor. Archived conversations are kept, archived.
 */
final class ChatGptFormat {
  static final String SOURCE = "chatgpt";

  private ChatGptFormat() {}

  static Imported conversation(JsonObject c) {
    String id = text(c, "id") != null ? text(c, "id") : text(c, "conversation_id");
    if (id == null) {
      throw new IllegalArgumentException("the conversation has no id");
    }
    if (!(c.getValue("mapping") instanceof JsonObject mapping)) {
      throw new IllegalArgumentException("the conversation has no mapping");
    }
    Instant created = time(c.getValue("create_time"), Instant.EPOCH);
    Instant updated = time(c.getValue("update_time"), created);
    Map<String, String> parentOf = new HashMap<>();
    Set<String> kept = new HashSet<>();
    List<JsonObject> nodes = new ArrayList<>();
    for (String key : mapping.fieldNames()) {
      if (!(mapping.getValue(key) instanceof JsonObject node)) {
        throw new IllegalArgumentException("a mapping node is not an object");
      }
      String nodeId = text(node, "id") == null ? key : text(node, "id");
      parentOf.put(nodeId, text(node, "parent"));
      if (visible(node)) {
        kept.add(nodeId);
        nodes.add(node.put("id", nodeId));
      }
    }
    List<Imported.Draft> drafts = new ArrayList<>();
    String lastModel = null;
    for (int i = 0; i < nodes.size(); i++) {
      JsonObject node = nodes.get(i);
      JsonObject message = node.getJsonObject("message");
      String role = message.getJsonObject("author").getString("role");
      JsonObject metadata = message.getValue("metadata") instanceof JsonObject m ? m : new JsonObject();
      String model = "assistant".equals(role) ? text(metadata, "model_slug") : null;
      lastModel = model == null ? lastModel : model;
      drafts.add(new Imported.Draft(node.getString("id"), keptAncestor(parentOf.get(node.getString("id")), parentOf,
          kept), role, content(message.getJsonObject("content")), message.getValue("content"), model,
          metadata.getValue("finish_details") instanceof JsonObject f ? text(f, "type") : null,
          time(message.getValue("create_time"), created), i));
    }
    Map<String, UUID> ids = new HashMap<>();
    List<Imported.Message> messages = Imported.order(drafts, ids);
    String current = keptAncestor(text(c, "current_node"), parentOf, kept);
    UUID leaf = current != null && ids.containsKey(current) ? ids.get(current) : Imported.newestLeaf(messages);
    String title = text(c, "title");
    return new Imported(SOURCE, id, title == null || title.isBlank() ? Imported.titleFrom(messages) : title, null,
        Boolean.TRUE.equals(c.getValue("is_archived")), lastModel, created, updated, leaf, messages, null);
  }

  /** A user or assistant message with content, not hidden. */
  private static boolean visible(JsonObject node) {
    if (!(node.getValue("message") instanceof JsonObject message)
        || !(message.getValue("author") instanceof JsonObject author)) {
      return false;
    }
    String role = text(author, "role");
    if (!"user".equals(role) && !"assistant".equals(role)) {
      return false;
    }
    if (message.getValue("metadata") instanceof JsonObject metadata
        && (Boolean.TRUE.equals(metadata.getValue("is_visually_hidden_from_conversation"))
            || Boolean.TRUE.equals(metadata.getValue("is_user_system_message")))) {
      return false;
    }
    return message.getValue("content") instanceof JsonObject content && !content(content).isBlank();
  }

  /** The node itself when kept, else its nearest kept ancestor (cycles and missing ids end the walk). */
  private static String keptAncestor(String nodeId, Map<String, String> parentOf, Set<String> kept) {
    Set<String> seen = new HashSet<>();
    String id = nodeId;
    while (id != null && !kept.contains(id) && seen.add(id)) {
      id = parentOf.get(id);
    }
    return id != null && kept.contains(id) ? id : null;
  }

  static String content(JsonObject content) {
    if (content.getValue("parts") instanceof JsonArray parts) {
      StringBuilder text = new StringBuilder();
      for (Object part : parts) {
        String piece = part instanceof String s ? s : part instanceof JsonObject o
            ? "image_asset_pointer".equals(text(o, "content_type")) ? "[image]" : text(o, "text") : null;
        if (piece != null && !piece.isEmpty()) {
          text.append(text.length() > 0 ? "\n" : "").append(piece);
        }
      }
      return text.toString();
    }
    String text = text(content, "text");
    return text != null ? text : text(content, "result") != null ? text(content, "result") : "";
  }
}
