package io.claudememory.fuzz;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.List;
import java.util.Map;

/**
 * Writes JSON the way a hostile client may: every character outside printable ASCII as a backslash-u escape, so that
 * control characters and lone surrogates (which no UTF-8 encoder would write) reach the server's parser intact.
 */
final class FuzzJson {
  private FuzzJson() {}

  static String encode(Object value) {
    StringBuilder out = new StringBuilder();
    write(out, value);
    return out.toString();
  }

  private static void write(StringBuilder out, Object value) {
    if (value == null) {
      out.append("null");
    } else if (value instanceof String text) {
      string(out, text);
    } else if (value instanceof JsonObject object) {
      writeObject(out, object.getMap());
    } else if (value instanceof Map<?, ?> map) {
      writeObject(out, map);
    } else if (value instanceof JsonArray array) {
      out.append('[');
      for (int i = 0; i < array.size(); i++) {
        if (i > 0) {
          out.append(',');
        }
        write(out, array.getValue(i));
      }
      out.append(']');
    } else if (value instanceof List<?> list) {
      write(out, new JsonArray(new java.util.ArrayList<>(list)));
    } else if (value instanceof Raw raw) {
      out.append(raw.json());
    } else {
      out.append(value); // numbers and booleans
    }
  }

  private static void writeObject(StringBuilder out, Map<?, ?> map) {
    out.append('{');
    boolean first = true;
    for (Map.Entry<?, ?> e : map.entrySet()) {
      if (!first) {
        out.append(',');
      }
      first = false;
      string(out, String.valueOf(e.getKey()));
      out.append(':');
      write(out, e.getValue());
    }
    out.append('}');
  }

  private static void string(StringBuilder out, String text) {
    out.append('"');
    for (int i = 0; i < text.length(); i++) {
      char c = text.charAt(i);
      if (c == '"' || c == '\\') {
        out.append('\\').append(c);
      } else if (c >= 0x20 && c < 0x7f) {
        out.append(c);
      } else {
        out.append(String.format("\\u%04x", (int) c));
      }
    }
    out.append('"');
  }

  /** A fragment written as given: numbers JSON allows but Java cannot hold, e.g. {@code 1e400}. */
  record Raw(String json) {
    @Override
    public String toString() {
      return json;
    }
  }
}
