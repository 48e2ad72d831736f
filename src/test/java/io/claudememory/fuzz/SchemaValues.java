package io.claudememory.fuzz;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.UUID;
import java.util.function.Function;

/**
 * Values derived from a JSON schema: one the schema accepts (preferring what {@code hints} knows for a field name, so
 * ids name real objects) and many it does not, or that it accepts but that are hostile.
 */
final class SchemaValues {
  /** A field left out of the body. */
  static final Object ABSENT = new Object() {
    @Override
    public String toString() {
      return "(absent)";
    }
  };
  private final Schemas schemas;
  private final Random rng;

  SchemaValues(Schemas schemas, Random rng) {
    this.schemas = schemas;
    this.rng = rng;
  }

  /** An object the schema accepts: its required fields, and its optional ones too when {@code optional}. */
  Map<String, Object> validObject(JsonObject schema, boolean optional, Function<String, Object> hints) {
    JsonObject flat = schemas.flatten(schema);
    List<JsonObject> branches = schemas.oneOf(flat);
    JsonObject chosen = branches.isEmpty() ? flat : branches.get(rng.nextInt(branches.size()));
    Set<Object> required = new java.util.LinkedHashSet<>(flat.getJsonArray("required", new JsonArray()).getList());
    required.addAll(chosen.getJsonArray("required", new JsonArray()).getList());
    Map<String, Object> out = new LinkedHashMap<>();
    JsonObject props = chosen.getJsonObject("properties", new JsonObject());
    int atLeast = Math.max(flat.getInteger("minProperties", 0), chosen.getInteger("minProperties", 0));
    for (String name : props.fieldNames()) {
      if (required.contains(name) || optional || out.size() < atLeast) {
        out.put(name, valid(props.getJsonObject(name), name, hints));
      }
    }
    return out;
  }

  /** Every property any branch of the body schema names, with its schema; the required ones in {@code required}. */
  Map<String, JsonObject> properties(JsonObject schema, Set<String> required) {
    JsonObject flat = schemas.flatten(schema);
    Map<String, JsonObject> out = new LinkedHashMap<>();
    List<JsonObject> parts = new ArrayList<>(List.of(flat));
    parts.addAll(schemas.oneOf(flat));
    for (JsonObject part : parts) {
      part.getJsonArray("required", new JsonArray()).forEach(r -> required.add(String.valueOf(r)));
      part.getJsonObject("properties", new JsonObject()).forEach(e -> out.putIfAbsent(e.getKey(),
          (JsonObject) e.getValue()));
    }
    return out;
  }

  /** A value the schema accepts; {@code hints} first (null from it means no hint). */
  Object valid(JsonObject schema, String field, Function<String, Object> hints) {
    Object hinted = field == null ? null : hints.apply(field);
    if (hinted != null) {
      return hinted;
    }
    JsonObject s = schemas.flatten(schema);
    if (s.containsKey("const")) {
      return s.getValue("const");
    }
    if (s.containsKey("enum")) {
      List<Object> values = s.getJsonArray("enum").stream().filter(v -> v != null).toList();
      return values.get(rng.nextInt(values.size()));
    }
    Set<String> types = schemas.types(s);
    if (types.contains("string")) {
      return validString(s);
    } else if (types.contains("integer") || types.contains("number")) {
      long min = s.getLong("minimum", 1L);
      long max = s.getLong("maximum", Math.max(min, 100L));
      return Math.min(max, Math.max(min, 10L));
    } else if (types.contains("boolean")) {
      return rng.nextBoolean();
    } else if (types.contains("array")) {
      List<Object> items = new ArrayList<>();
      for (int i = 0; i < Math.max(1, s.getInteger("minItems", 1)); i++) {
        items.add(valid(s.getJsonObject("items", new JsonObject()), null, hints));
      }
      return items;
    } else if (types.contains("object")) {
      return validObject(s, false, hints);
    }
    return null;
  }

  private String validString(JsonObject s) {
    String format = s.getString("format", "");
    switch (format) {
      case "uuid":
        return UUID.randomUUID().toString();
      case "email":
        return "fuzz-" + Integer.toHexString(rng.nextInt()) + "@example.com";
      case "date-time":
        return Instant.now().toString();
      default:
        break;
    }
    if (s.containsKey("pattern")) {
      return s.getString("pattern").contains("A-Za-z0-9_.-") ? "fuzz_" + Integer.toHexString(rng.nextInt(4096))
          : "fuzz";
    }
    int min = s.getInteger("minLength", 1);
    int max = s.getInteger("maxLength", 40);
    return "fuzz value ".repeat(4).substring(0, Math.max(min, Math.min(max, 10)));
  }

  /**
   * Values a property of this schema must refuse or must survive: null, every type it does not take, its bounds
   * crossed, malformed formats and enums, and (where it takes text) hostile strings.
   */
  List<Hostile.Value> mutants(JsonObject schema) {
    JsonObject s = schemas.flatten(schema);
    Set<String> types = schemas.types(s);
    List<Hostile.Value> out = new ArrayList<>();
    out.add(new Hostile.Value("null", null));
    for (Hostile.Value v : Hostile.ofEveryType()) {
      if (!types.contains(Schemas.typeOf(v.value()))
          && !(types.contains("number") && Schemas.typeOf(v.value()).equals("integer"))) {
        out.add(new Hostile.Value("wrong type " + v.name(), v.value()));
      }
    }
    if (types.contains("string")) {
      strings(s, out);
    }
    if (types.contains("integer") || types.contains("number")) {
      Hostile.NUMBERS.forEach(v -> out.add(new Hostile.Value("number " + v.name(), v.value())));
      if (s.containsKey("minimum")) {
        out.add(new Hostile.Value("below minimum", s.getLong("minimum") - 1));
      }
      if (s.containsKey("maximum")) {
        out.add(new Hostile.Value("above maximum", s.getLong("maximum") + 1));
      }
    }
    if (types.contains("array")) {
      arrays(s, out);
    }
    if (types.contains("object")) {
      out.add(new Hostile.Value("object with unknown field", new JsonObject().put("fuzzUnknown", 1)));
      out.add(new Hostile.Value("deeply nested object", nested(200)));
    }
    return out;
  }

  private void strings(JsonObject s, List<Hostile.Value> out) {
    Hostile.STRINGS.forEach(v -> out.add(new Hostile.Value("string " + v.name(), v.value())));
    Hostile.LONG_STRINGS.forEach(v -> out.add(new Hostile.Value("string " + v.name(), v.value())));
    Hostile.BOUNDARY_STRINGS.forEach(v -> out.add(new Hostile.Value("string " + v.name(), v.value())));
    if (s.containsKey("maxLength")) {
      out.add(new Hostile.Value("one past maxLength", "m".repeat(s.getInteger("maxLength") + 1)));
    }
    if (s.getInteger("minLength", 0) > 1) {
      out.add(new Hostile.Value("one below minLength", "m".repeat(s.getInteger("minLength") - 1)));
    }
    if (s.containsKey("enum")) {
      out.add(new Hostile.Value("unknown enum value", "not-a-member"));
      Object first = s.getJsonArray("enum").getValue(0);
      if (first instanceof String text) {
        out.add(new Hostile.Value("enum value in upper case", text.toUpperCase()));
        out.add(new Hostile.Value("enum value padded", " " + text + " "));
      }
    }
    switch (s.getString("format", "")) {
      case "uuid" -> Hostile.PATH_SEGMENTS.stream().limit(6)
          .forEach(v -> out.add(new Hostile.Value("uuid " + v.name(), v.value())));
      case "date-time" -> Hostile.DATES.forEach(v -> out.add(new Hostile.Value("date " + v.name(), v.value())));
      case "email" -> {
        out.add(new Hostile.Value("email without at", "fuzz.example.com"));
        out.add(new Hostile.Value("email with two ats", "a@b@example.com"));
        out.add(new Hostile.Value("email with sql", "x'--@example.com"));
        out.add(new Hostile.Value("email unicode", "ünï@exämple.com"));
        out.add(new Hostile.Value("email long local part", "l".repeat(300) + "@example.com"));
      }
      default -> { }
    }
  }

  private void arrays(JsonObject s, List<Hostile.Value> out) {
    JsonObject items = s.getJsonObject("items", new JsonObject());
    int maxItems = s.getInteger("maxItems", 1000);
    out.add(new Hostile.Value("array past maxItems", Collections.nCopies(maxItems + 1, "x")));
    out.add(new Hostile.Value("array of 20000", Collections.nCopies(20_000, "y")));
    out.add(new Hostile.Value("array of nulls", Collections.nCopies(3, null)));
    out.add(new Hostile.Value("array of arrays", List.of(List.of(List.of()))));
    out.add(new Hostile.Value("array of objects", List.of(new JsonObject().put("a", 1))));
    out.add(new Hostile.Value("array of numbers", List.of(1, 2.5, -3)));
    out.add(new Hostile.Value("array of duplicates", List.of("a", "a", "a")));
    for (Hostile.Value item : mutants(items)) {
      if (rng.nextInt(4) == 0) {
        out.add(new Hostile.Value("array item " + item.name(), Collections.singletonList(item.value())));
      }
    }
  }

  /** {@code {"a":{"a":...}}} {@code depth} levels deep. */
  static FuzzJson.Raw nested(int depth) {
    return new FuzzJson.Raw("{\"a\":".repeat(depth) + "1" + "}".repeat(depth));
  }
}
