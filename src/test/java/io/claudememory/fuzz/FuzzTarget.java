package io.claudememory.fuzz;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.net.URI;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * One operation of the OpenAPI document, read as the fuzzer needs it: its method and absolute path template, its
 * parameters by location, its request body (media type and schema, {@code $ref}s left for {@link Schemas}), whether
 * it needs credentials, and its tags.
 */
record FuzzTarget(String operationId, String method, String template, List<Param> pathParams, List<Param> queryParams,
    List<Param> headerParams, String bodyMediaType, JsonObject bodySchema, boolean bodyRequired, boolean secured,
    List<String> tags) {

  private static final Set<String> METHODS = Set.of("get", "put", "post", "delete", "patch");

  /** A parameter of the operation (path-level parameters included). */
  record Param(String name, String in, boolean required, JsonObject schema) {}

  boolean takesBody() {
    return bodyMediaType != null;
  }

  boolean multipart() {
    return "multipart/form-data".equals(bodyMediaType);
  }

  @Override
  public String toString() {
    return operationId + " (" + method + " " + template + ")";
  }

  /** Every operation of {@code document}, in document order. */
  static List<FuzzTarget> read(JsonObject document, Schemas schemas) {
    String base = URI.create(document.getJsonArray("servers").getJsonObject(0).getString("url")).getPath();
    boolean securedByDefault = !document.getJsonArray("security", new JsonArray()).isEmpty();
    List<FuzzTarget> targets = new ArrayList<>();
    JsonObject paths = document.getJsonObject("paths");
    for (String path : paths.fieldNames()) {
      JsonObject item = paths.getJsonObject(path);
      for (String verb : item.fieldNames()) {
        if (!METHODS.contains(verb)) {
          continue;
        }
        JsonObject op = item.getJsonObject(verb);
        Map<String, Param> params = new LinkedHashMap<>();
        for (JsonArray list : new JsonArray[] {item.getJsonArray("parameters"), op.getJsonArray("parameters")}) {
          if (list == null) {
            continue;
          }
          for (Object raw : list) {
            JsonObject p = schemas.resolve((JsonObject) raw);
            JsonObject schema = schemas.flatten(p.getJsonObject("schema", new JsonObject()));
            params.put(p.getString("in") + ":" + p.getString("name"), new Param(p.getString("name"),
                p.getString("in"), p.getBoolean("required", false), schema));
          }
        }
        String mediaType = null;
        JsonObject bodySchema = null;
        boolean bodyRequired = false;
        if (op.containsKey("requestBody")) {
          JsonObject body = schemas.resolve(op.getJsonObject("requestBody"));
          JsonObject content = body.getJsonObject("content");
          mediaType = content.fieldNames().iterator().next();
          bodySchema = content.getJsonObject(mediaType).getJsonObject("schema", new JsonObject());
          bodyRequired = body.getBoolean("required", false);
        }
        JsonArray security = op.getJsonArray("security");
        boolean secured = security == null ? securedByDefault : !security.isEmpty();
        targets.add(new FuzzTarget(op.getString("operationId"), verb.toUpperCase(Locale.ROOT), base + path,
            only(params, "path"), only(params, "query"), only(params, "header"), mediaType, bodySchema, bodyRequired,
            secured, op.getJsonArray("tags", new JsonArray()).stream().map(String::valueOf).toList()));
      }
    }
    return targets;
  }

  private static List<Param> only(Map<String, Param> params, String in) {
    return params.values().stream().filter(p -> p.in().equals(in)).toList();
  }
}
