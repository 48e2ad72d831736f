package io.claudememory.fuzz;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * Reads the JSON schemas of the document: follows local {@code $ref}s (keeping sibling keywords, as OpenAPI 3.1
 * allows) and flattens {@code allOf} into one schema, so the generators see plain {@code type}, {@code properties},
 * {@code required} and {@code oneOf}.
 */
final class Schemas {
  static final Set<String> ALL_TYPES = Set.of("string", "integer", "number", "boolean", "array", "object", "null");
  private final JsonObject document;

  Schemas(JsonObject document) {
    this.document = document;
  }

  /** {@code node} with its {@code $ref} (if any) replaced by what it points at, its own keywords winning. */
  JsonObject resolve(JsonObject node) {
    JsonObject current = node;
    for (int depth = 0; current.containsKey("$ref"); depth++) {
      if (depth > 20) {
        throw new IllegalStateException("$ref cycle at " + node);
      }
      JsonObject merged = pointer(current.getString("$ref")).copy();
      for (String key : current.fieldNames()) {
        if (!key.equals("$ref")) {
          merged.put(key, current.getValue(key));
        }
      }
      current = merged;
    }
    return current;
  }

  /** The schema resolved, with {@code allOf} members merged into it (properties, required, oneOf, type). */
  JsonObject flatten(JsonObject schema) {
    JsonObject flat = resolve(schema).copy();
    JsonArray allOf = (JsonArray) flat.remove("allOf");
    if (allOf == null) {
      return flat;
    }
    for (Object member : allOf) {
      JsonObject part = flatten((JsonObject) member);
      for (String key : part.fieldNames()) {
        Object value = part.getValue(key);
        switch (key) {
          case "properties" -> {
            JsonObject props = flat.getJsonObject("properties", new JsonObject());
            ((JsonObject) value).forEach(e -> props.put(e.getKey(),
                props.containsKey(e.getKey()) ? merge(props.getJsonObject(e.getKey()), (JsonObject) e.getValue())
                    : e.getValue()));
            flat.put("properties", props);
          }
          case "required" -> {
            Set<Object> required = new LinkedHashSet<>(flat.getJsonArray("required", new JsonArray()).getList());
            required.addAll(((JsonArray) value).getList());
            flat.put("required", new JsonArray(new ArrayList<>(required)));
          }
          default -> flat.put(key, value);
        }
      }
    }
    return flat;
  }

  private JsonObject merge(JsonObject a, JsonObject b) {
    JsonObject merged = resolve(a).copy();
    resolve(b).forEach(e -> merged.put(e.getKey(), e.getValue()));
    return merged;
  }

  /** The JSON types the schema admits ({@code const} and {@code enum} values count); every type when it says none. */
  Set<String> types(JsonObject schema) {
    JsonObject s = resolve(schema);
    Set<String> types = new LinkedHashSet<>();
    Object type = s.getValue("type");
    if (type instanceof String name) {
      types.add(name);
    } else if (type instanceof JsonArray names) {
      names.forEach(n -> types.add(String.valueOf(n)));
    } else if (s.containsKey("const")) {
      types.add(typeOf(s.getValue("const")));
    } else if (s.containsKey("enum")) {
      s.getJsonArray("enum").forEach(v -> types.add(typeOf(v)));
    } else if (s.containsKey("oneOf")) {
      s.getJsonArray("oneOf").forEach(o -> types.addAll(types((JsonObject) o)));
    } else {
      return ALL_TYPES;
    }
    return types;
  }

  /** The branches of a {@code oneOf}, flattened; empty when there is none. */
  List<JsonObject> oneOf(JsonObject flat) {
    JsonArray branches = flat.getJsonArray("oneOf");
    List<JsonObject> out = new ArrayList<>();
    if (branches != null) {
      branches.forEach(b -> out.add(flatten((JsonObject) b)));
    }
    return out;
  }

  static String typeOf(Object value) {
    if (value == null) {
      return "null";
    } else if (value instanceof String) {
      return "string";
    } else if (value instanceof Boolean) {
      return "boolean";
    } else if (value instanceof Integer || value instanceof Long) {
      return "integer";
    } else if (value instanceof Number) {
      return "number";
    } else if (value instanceof JsonArray || value instanceof List<?>) {
      return "array";
    }
    return "object";
  }

  private JsonObject pointer(String ref) {
    if (!ref.startsWith("#/")) {
      throw new IllegalStateException("only local $refs are supported: " + ref);
    }
    Object node = document;
    for (String token : ref.substring(2).split("/")) {
      node = ((JsonObject) node).getValue(token.replace("~1", "/").replace("~0", "~"));
    }
    return (JsonObject) node;
  }
}
