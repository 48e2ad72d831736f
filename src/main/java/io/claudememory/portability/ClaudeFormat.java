package io.claudememory.portability;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;

/**
 * Reads claude.ai export conversations (protocols.md §2.3): every branch through {@code parent_message_uuid} (the
 * newest leaf is current unless {@code current_leaf_message_uuid} says otherwise; older exports without parents are
 * one chain in array order); message text from the {@code text} blocks, else the legacy {@code text}; attachments'
 * {@code extracted_content} and artifacts ({@code tool_use} named {@code artifacts}) appended as text, so nothing
 * readable is lost; the original blocks kept in {@code blocks}.
 */
final class ClaudeFormat {
  static final String SOURCE = "claude.ai";

  private ClaudeFormat() {}

  static Imported conversation(JsonObject c) {
    String uuid = text(c, "uuid");
    if (uuid == null) {
      throw new IllegalArgumentException("the conversation has no uuid");
    }
    Instant created = time(c.getValue("created_at"), Instant.EPOCH);
    Instant updated = time(c.getValue("updated_at"), created);
    Object rawMessages = c.getValue("chat_messages");
    if (rawMessages != null && !(rawMessages instanceof JsonArray)) {
      throw new IllegalArgumentException("chat_messages is not a list");
    }
    JsonArray list = rawMessages == null ? new JsonArray() : (JsonArray) rawMessages;
    boolean linked = list.stream().anyMatch(m -> m instanceof JsonObject o && o.containsKey("parent_message_uuid"));
    List<Imported.Draft> drafts = new ArrayList<>();
    String previous = null;
    for (int i = 0; i < list.size(); i++) {
      if (!(list.getValue(i) instanceof JsonObject m)) {
        throw new IllegalArgumentException("a message is not an object");
      }
      String id = text(m, "uuid") == null ? uuid + ":" + i : text(m, "uuid");
      String sender = text(m, "sender");
      String role = "human".equals(sender) ? "user" : "assistant".equals(sender) ? "assistant" : null;
      if (role == null) {
        throw new IllegalArgumentException("a message has an unknown sender");
      }
      String parent = linked ? text(m, "parent_message_uuid") : previous;
      drafts.add(new Imported.Draft(id, parent, role, content(m), m.getValue("content"), null,
          text(m, "stop_reason"), time(m.getValue("created_at"), created), i));
      previous = id;
    }
    Map<String, UUID> ids = new HashMap<>();
    List<Imported.Message> messages = Imported.order(drafts, ids);
    String chosen = text(c, "current_leaf_message_uuid");
    UUID leaf = chosen != null && ids.containsKey(chosen) ? ids.get(chosen) : Imported.newestLeaf(messages);
    String name = text(c, "name");
    String summary = text(c, "summary");
    Object project = c.getValue("project");
    String projectUuid = text(c, "project_uuid") != null ? text(c, "project_uuid")
        : project instanceof JsonObject p ? text(p, "uuid") : null;
    return new Imported(SOURCE, uuid, name == null || name.isBlank() ? Imported.titleFrom(messages) : name,
        summary == null || summary.isBlank() ? null : summary, false, null, created, updated, leaf, messages,
        projectUuid);
  }

  /** Text blocks, else the legacy text; then artifacts, attachments and file names. */
  static String content(JsonObject m) {
    StringBuilder text = new StringBuilder();
    StringBuilder extra = new StringBuilder();
    if (m.getValue("content") instanceof JsonArray blocks) {
      for (Object item : blocks) {
        if (!(item instanceof JsonObject block)) {
          continue;
        }
        String type = text(block, "type");
        if ("text".equals(type) && text(block, "text") != null) {
          text.append(text.length() > 0 ? "\n\n" : "").append(text(block, "text"));
        } else if ("tool_use".equals(type) && "artifacts".equals(text(block, "name"))
            && block.getValue("input") instanceof JsonObject input && text(input, "content") != null) {
          extra.append("\n\n[Artifact: ").append(orElse(text(input, "title"), orElse(text(input, "id"), "untitled")))
              .append("]\n```").append(orElse(text(input, "language"), "")).append('\n')
              .append(text(input, "content")).append("\n```");
        }
      }
    }
    if (text.length() == 0 && text(m, "text") != null) {
      text.append(text(m, "text"));
    }
    if (m.getValue("attachments") instanceof JsonArray attachments) {
      for (Object item : attachments) {
        if (item instanceof JsonObject a && text(a, "extracted_content") != null
            && !text(a, "extracted_content").isEmpty()) {
          extra.append("\n\n[Attachment: ").append(orElse(text(a, "file_name"), "pasted text")).append("]\n")
              .append(text(a, "extracted_content"));
        }
      }
    }
    if (m.getValue("files") instanceof JsonArray files) {
      for (Object item : files) {
        if (item instanceof JsonObject f && text(f, "file_name") != null) {
          extra.append("\n\n[File: ").append(text(f, "file_name")).append(" (not included in the export)]");
        }
      }
    }
    return text.append(extra).toString();
  }

  /** A project of {@code projects.json} or {@code projects/<uuid>.json}: name, description, instructions, docs. */
  static JsonObject project(JsonObject p) {
    String uuid = text(p, "uuid");
    String name = text(p, "name");
    if (uuid == null || name == null) {
      throw new IllegalArgumentException("the project has no uuid or name");
    }
    StringBuilder instructions = new StringBuilder(orElse(text(p, "prompt_template"), ""));
    if (p.getValue("docs") instanceof JsonArray docs) {
      for (Object item : docs) {
        if (item instanceof JsonObject d && text(d, "content") != null) {
          instructions.append(instructions.length() > 0 ? "\n\n" : "").append("--- Document: ")
              .append(orElse(text(d, "filename"), "untitled")).append(" ---\n").append(text(d, "content"));
        }
      }
    }
    Instant created = time(p.getValue("created_at"), Instant.now());
    return new JsonObject().put("sourceId", uuid).put("name", name).put("description", text(p, "description"))
        .put("instructions", instructions.length() == 0 ? null : instructions.toString())
        .put("createdAt", created).put("updatedAt", time(p.getValue("updated_at"), created));
  }

  static String text(JsonObject o, String field) {
    Object value = o.getValue(field);
    return value instanceof String s ? s : null;
  }

  static String orElse(String value, String fallback) {
    return value == null || value.isBlank() ? fallback : value;
  }

  static Instant time(Object value, Instant fallback) {
    if (value instanceof String s) {
      try {
        return Instant.parse(s);
      } catch (DateTimeParseException e) {
        try {
          return java.time.OffsetDateTime.parse(s).toInstant();
        } catch (DateTimeParseException e2) {
          return fallback;
        }
      }
    }
    if (value instanceof Number n) {
      double seconds = n.doubleValue();
      return Instant.ofEpochSecond((long) Math.floor(seconds), (long) ((seconds - Math.floor(seconds)) * 1e9));
    }
    return fallback;
  }
}
