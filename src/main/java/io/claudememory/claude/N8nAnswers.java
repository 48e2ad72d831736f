package io.claudememory.claude;

import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.List;

/**
 * Reads what a "Respond to Webhook" node sends back (protocols.md §4): an item or a list of items (All Incoming
 * Items; the first is used), an item wrapped as {@code {json: ...}} or put in a field ({@code data}), the raw
 * Messages API response of an HTTP Request/Anthropic node ({@code content[]} of text blocks, {@code usage},
 * {@code stop_reason}), the {@code text} of a Basic LLM Chain, the {@code output} of an AI Agent, or plain text.
 */
final class N8nAnswers {
  private static final List<String> TEXT_FIELDS =
      List.of("output", "text", "response", "answer", "reply", "completion", "message", "content", "result");

  private N8nAnswers() {}

  record Parsed(String text, String stopReason, JsonObject usage, String model) {}

  static Parsed parse(Buffer body, String contentType) {
    String raw = body.toString().trim();
    if (raw.isEmpty()) {
      throw new IllegalArgumentException("The n8n workflow answered with an empty body.");
    }
    if (!raw.startsWith("{") && !raw.startsWith("[")) {
      return new Parsed(raw, "end_turn", new JsonObject(), null);
    }
    Object json = raw.startsWith("[") ? new JsonArray(raw) : new JsonObject(raw);
    JsonObject item = item(json);
    String text = text(item, 0);
    if (text == null) {
      throw new IllegalArgumentException("The n8n workflow's answer has no text field (one of " + TEXT_FIELDS
          + ", or content blocks).");
    }
    JsonObject usage = item.getValue("usage") instanceof JsonObject u ? u : new JsonObject();
    return new Parsed(text, item.getString("stop_reason", "end_turn"), usage, item.getString("model"));
  }

  private static JsonObject item(Object json) {
    Object current = json;
    for (int depth = 0; depth < 4; depth++) {
      if (current instanceof JsonArray array) {
        current = array.isEmpty() ? new JsonObject() : array.getValue(0);
      } else if (current instanceof JsonObject object && object.size() == 1 && object.getValue("json") != null) {
        current = object.getValue("json");
      } else if (current instanceof JsonObject object && object.size() == 1
          && object.getValue("data") instanceof JsonObject data) {
        current = data;
      } else {
        break;
      }
    }
    if (!(current instanceof JsonObject object)) {
      throw new IllegalArgumentException("The n8n workflow's answer is not a JSON object.");
    }
    return object;
  }

  private static String text(JsonObject item, int depth) {
    if (item.getValue("content") instanceof JsonArray blocks) {
      return AnthropicProvider.textOf(blocks);
    }
    for (String field : TEXT_FIELDS) {
      Object value = item.getValue(field);
      if (value instanceof String s) {
        return s;
      }
      if (value instanceof JsonObject nested && depth < 2) {
        String text = text(nested, depth + 1);
        if (text != null) {
          return text;
        }
      }
    }
    return null;
  }
}
