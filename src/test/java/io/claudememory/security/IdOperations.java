package io.claudememory.security;

import io.claudememory.support.ApiContract;
import io.vertx.core.json.Json;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The operations of {@code openapi.yaml} that take an object id, read from the document itself so that a new route is
 * covered as soon as it is documented: every path parameter, every query parameter and every JSON body member named
 * {@code id} or {@code ...Id} (or in {@code format: uuid}) is a <em>slot</em> that the object-level authorization test
 * fills with another user's id.
 *
 * <p>A slot is filled from a <em>fixture</em>: an object of that kind which each test user owns (see
 * {@link OwnedObjects}). Path slots are named by the segment before them ({@code /projects/{id}} holds a project,
 * {@code /members/{userId}} a member), query and body slots by their name ({@code projectId}, {@code leafId}). A slot
 * with no fixture is reported by {@link #unfilled()}, so a new kind of object makes the suite fail until it has one.
 *
 * <p>Bodies are generated from the request schema (its required members, with the first enum value, a string of the
 * minimum length, …) plus the id slots; operations whose rules the schema cannot express (one field requires another)
 * get their bodies from {@link #BODIES}, where {@code "${fixture}"} stands for one of the caller's values.
 */
final class IdOperations {
  /** The fixture a path parameter holds, by the path segment in front of it. */
  static final Map<String, String> PATH_FIXTURES = Map.ofEntries(
      Map.entry("projects", "project"), Map.entry("members", "member"), Map.entry("conversations", "conversation"),
      Map.entry("messages", "message"), Map.entry("webhooks", "webhook"), Map.entry("deliveries", "delivery"),
      Map.entry("api-keys", "apiKey"), Map.entry("database", "database"), Map.entry("jobs", "job"),
      Map.entry("download", "exportJob"), Map.entry("users", "user"));
  /** The fixture a query parameter or body member holds, by its name. */
  static final Map<String, String> FIELD_FIXTURES = Map.of("projectId", "project", "conversationId", "conversation",
      "parentId", "message", "leafId", "message", "userId", "user", "messageId", "message");
  /** The fixture a body member named plainly {@code id} holds, by the first segment of the path. */
  static final Map<String, String> BODY_ID_FIXTURES = Map.of("database", "database");
  /** Bodies the schema cannot describe well enough to be accepted, by operationId. */
  static final Map<String, List<String>> BODIES = Map.of(
      "createExport", List.of("{\"scope\":\"project\",\"projectId\":\"${project}\"}",
          "{\"scope\":\"conversation\",\"conversationId\":\"${conversation}\"}"),
      "testDatabase", List.of("{\"id\":\"${database}\"}"),
      "addProjectMember", List.of("{\"email\":\"${inviteeEmail}\",\"role\":\"viewer\"}"),
      "sendMessage", List.of("{\"content\":\"another question\",\"generate\":false,\"parentId\":\"${message}\"}"));
  private static final Pattern PARAMETER = Pattern.compile("\\{([^}/]+)}");
  private static final Pattern PLACEHOLDER = Pattern.compile("\"\\$\\{(\\w+)}\"");
  private static final List<String> METHODS = List.of("get", "put", "post", "delete", "patch");

  /** Where an id goes: {@code in} is path, query or body. {@code fixture} is null when none is known. */
  record Slot(String in, String name, String fixture) {
    @Override
    public String toString() {
      return name + " (" + in + ")";
    }
  }

  /**
   * One way to call an operation: its slots, and its body as a template where each slot's value is
   * {@code "${slot name}"} ({@code null} when it takes none). Query values other than slots are fixed.
   */
  record Call(String method, String path, String operationId, List<Slot> slots, String bodyTemplate,
      Map<String, String> query, boolean admin) {
    /** {@code GET /projects/{id}}, relative to the base path. */
    String name() {
      return method + " " + path;
    }

    /**
     * The request path with each path and query slot filled by {@code values} (slot name → value), and other
     * required query parameters by {@code own} (the caller's values: {@code ${marker}} is what they wrote).
     */
    String uri(String base, Map<String, String> values, Map<String, String> own) {
      String filled = path;
      StringBuilder query = new StringBuilder();
      for (Slot slot : slots) {
        if (slot.in().equals("path")) {
          filled = filled.replace("{" + slot.name() + "}", values.get(slot.name()));
        } else if (slot.in().equals("query")) {
          query.append(query.length() == 0 ? "?" : "&").append(slot.name()).append('=').append(values.get(slot.name()));
        }
      }
      for (Map.Entry<String, String> fixed : this.query.entrySet()) {
        String value = fixed.getValue().startsWith("${") ? own.get(fixed.getValue().substring(2,
            fixed.getValue().length() - 1)) : fixed.getValue();
        query.append(query.length() == 0 ? "?" : "&").append(fixed.getKey()).append('=').append(value);
      }
      return base + filled + query;
    }

    /** The body with each {@code "${name}"} replaced: slots from {@code values}, anything else from {@code own}. */
    String body(Map<String, String> values, Map<String, String> own) {
      if (bodyTemplate == null) {
        return null;
      }
      Matcher placeholder = PLACEHOLDER.matcher(bodyTemplate);
      StringBuilder body = new StringBuilder();
      while (placeholder.find()) {
        String name = placeholder.group(1);
        String value = values.containsKey(name) ? values.get(name) : own.get(name);
        placeholder.appendReplacement(body, Matcher.quoteReplacement(Json.encode(value)));
      }
      return placeholder.appendTail(body).toString();
    }
  }

  private final ApiContract contract = ApiContract.load();
  private final JsonObject document = contract.document();
  private final List<Call> calls = new ArrayList<>();
  private final List<String> unfilled = new ArrayList<>();

  IdOperations() {
    JsonObject paths = document.getJsonObject("paths");
    for (String path : paths.fieldNames()) {
      JsonObject item = paths.getJsonObject(path);
      for (String method : METHODS) {
        JsonObject operation = item.getJsonObject(method);
        if (operation != null) {
          read(path, method.toUpperCase(Locale.ROOT), item, operation);
        }
      }
    }
  }

  /** Every way of calling an operation that takes at least one id. */
  List<Call> calls() {
    return calls;
  }

  /** Every slot no fixture fills, as "METHOD /path: slot (in)". Empty when every id-taking route is covered. */
  List<String> unfilled() {
    return unfilled;
  }

  /**
   * Every GET without a path parameter outside {@code /health} and {@code /admin}: the lists, filters and searches a
   * user reads their own things through, for the check that they show nothing of anyone else's. A required query
   * parameter (a search's {@code q}) is filled with {@code ${marker}}.
   */
  List<Call> listings() {
    List<Call> lists = new ArrayList<>();
    JsonObject paths = document.getJsonObject("paths");
    for (String path : paths.fieldNames()) {
      JsonObject get = paths.getJsonObject(path).getJsonObject("get");
      if (get != null && !PARAMETER.matcher(path).find() && !path.startsWith("/health")
          && !path.startsWith("/admin")) {
        Map<String, String> query = new LinkedHashMap<>();
        for (JsonObject parameter : parameters(paths.getJsonObject(path), get)) {
          if (parameter.getBoolean("required", false)) {
            query.put(parameter.getString("name"), "${marker}");
          }
        }
        lists.add(new Call("GET", path, get.getString("operationId"), List.of(), null, query, false));
      }
    }
    return lists;
  }

  /** A body the contract's schema accepts for {@code method path} (required members only), or null without one. */
  JsonObject sampleBody(String method, String path) {
    JsonObject operation = document.getJsonObject("paths").getJsonObject(path)
        .getJsonObject(method.toLowerCase(Locale.ROOT));
    JsonObject schema = operation == null ? null : jsonBodySchema(operation);
    return schema == null ? null : generate(schema);
  }

  /** The members a JSON request body of {@code method path} may hold, by the contract (empty without a body). */
  Map<String, JsonObject> requestMembers(String method, String path) {
    JsonObject operation = document.getJsonObject("paths").getJsonObject(path)
        .getJsonObject(method.toLowerCase(Locale.ROOT));
    JsonObject schema = operation == null ? null : jsonBodySchema(operation);
    return schema == null ? Map.of() : properties(schema);
  }

  private void read(String path, String method, JsonObject item, JsonObject operation) {
    String operationId = operation.getString("operationId");
    String first = path.split("/")[1];
    List<Slot> slots = new ArrayList<>();
    Matcher parameter = PARAMETER.matcher(path);
    while (parameter.find()) {
      String before = path.substring(0, parameter.start() - 1);
      String segment = before.substring(before.lastIndexOf('/') + 1);
      slots.add(new Slot("path", parameter.group(1), PATH_FIXTURES.get(segment)));
    }
    Map<String, String> fixedQuery = new LinkedHashMap<>();
    for (JsonObject query : parameters(item, operation)) {
      if (!query.getString("in").equals("query")) {
        continue;
      }
      if (isId(query.getString("name"), resolve(query.getJsonObject("schema", new JsonObject())))) {
        slots.add(new Slot("query", query.getString("name"), FIELD_FIXTURES.get(query.getString("name"))));
      } else if (query.getBoolean("required", false)) {
        fixedQuery.put(query.getString("name"), "${marker}"); // a search: for words the caller wrote
      }
    }
    JsonObject schema = jsonBodySchema(operation);
    List<String> templates = BODIES.get(operationId);
    Set<String> bodyIds = new LinkedHashSet<>();
    if (schema != null) {
      properties(schema).forEach((name, property) -> {
        if (isId(name, property)) {
          bodyIds.add(name);
        }
      });
    }
    boolean admin = path.startsWith("/admin");
    if (templates != null) {
      Set<String> covered = new LinkedHashSet<>();
      for (String template : templates) {
        List<Slot> withBody = new ArrayList<>(slots);
        Matcher placeholder = PLACEHOLDER.matcher(template);
        while (placeholder.find()) {
          String fixture = placeholder.group(1);
          String member = memberHolding(template, fixture);
          if (bodyIds.contains(member)) {
            covered.add(member);
            withBody.add(new Slot("body", fixture, fixture));
          }
        }
        add(new Call(method, path, operationId, withBody, template, fixedQuery, admin));
      }
      bodyIds.stream().filter(id -> !covered.contains(id)).forEach(id -> unfilled.add(method + " " + path
          + ": body member " + id + " holds an id, but no body in IdOperations.BODIES for " + operationId
          + " sets it"));
      return;
    }
    JsonObject body = schema == null ? null : generate(schema);
    for (String id : bodyIds) {
      String fixture = id.equals("id") ? BODY_ID_FIXTURES.get(first) : FIELD_FIXTURES.get(id);
      slots.add(new Slot("body", id, fixture));
      body.put(id, "${" + id + "}");
    }
    add(new Call(method, path, operationId, slots, body == null ? null : body.encode(), fixedQuery, admin));
  }

  private void add(Call call) {
    if (call.slots().isEmpty()) {
      return;
    }
    calls.add(call);
    call.slots().stream().filter(slot -> slot.fixture() == null).forEach(slot -> unfilled.add(call.name() + ": "
        + slot + " has no id fixture; name one in IdOperations and create the object in OwnedObjects"));
  }

  private static String memberHolding(String template, String fixture) {
    JsonObject body = new JsonObject(template);
    return body.fieldNames().stream().filter(name -> ("${" + fixture + "}").equals(body.getValue(name)))
        .findFirst().orElse(null);
  }

  private static boolean isId(String name, JsonObject schema) {
    return name.equals("id") || name.endsWith("Id") || "uuid".equals(schema.getString("format"));
  }

  private List<JsonObject> parameters(JsonObject item, JsonObject operation) {
    List<JsonObject> all = new ArrayList<>();
    for (JsonArray list : new JsonArray[] {item.getJsonArray("parameters"), operation.getJsonArray("parameters")}) {
      if (list != null) {
        list.forEach(p -> all.add(resolve((JsonObject) p)));
      }
    }
    return all;
  }

  private JsonObject jsonBodySchema(JsonObject operation) {
    JsonObject body = operation.getJsonObject("requestBody");
    if (body == null) {
      return null;
    }
    JsonObject json = resolve(body).getJsonObject("content", new JsonObject()).getJsonObject("application/json");
    return json == null ? null : resolve(json.getJsonObject("schema", new JsonObject()));
  }

  /** Members of an object schema, through {@code allOf} and every branch of {@code oneOf}/{@code anyOf}. */
  private Map<String, JsonObject> properties(JsonObject schema) {
    Map<String, JsonObject> all = new LinkedHashMap<>();
    JsonObject props = schema.getJsonObject("properties");
    if (props != null) {
      props.fieldNames().forEach(name -> all.put(name, resolve(props.getJsonObject(name))));
    }
    for (String combinator : List.of("allOf", "oneOf", "anyOf")) {
      JsonArray parts = schema.getJsonArray(combinator);
      if (parts != null) {
        parts.forEach(part -> all.putAll(properties(resolve((JsonObject) part))));
      }
    }
    return all;
  }

  /** A body the schema accepts: its required members (first branch of a oneOf), each with a plain valid value. */
  private JsonObject generate(JsonObject schema) {
    JsonObject body = new JsonObject();
    List<JsonObject> parts = new ArrayList<>(List.of(schema));
    for (String combinator : List.of("allOf", "oneOf", "anyOf")) {
      JsonArray list = schema.getJsonArray(combinator);
      if (list != null) {
        (combinator.equals("allOf") ? list.stream() : list.stream().limit(1))
            .forEach(part -> parts.add(resolve((JsonObject) part)));
      }
    }
    Map<String, JsonObject> props = properties(schema);
    for (JsonObject part : parts) {
      JsonArray required = part.getJsonArray("required", new JsonArray());
      required.forEach(name -> body.put((String) name, sample(props.getOrDefault((String) name, new JsonObject()))));
    }
    return body;
  }

  private Object sample(JsonObject schema) {
    if (schema.getJsonArray("enum") != null) {
      return schema.getJsonArray("enum").getValue(0);
    }
    Object type = schema.getValue("type");
    String kind = type instanceof JsonArray types ? types.getString(0) : String.valueOf(type);
    return switch (kind) {
      case "boolean" -> false;
      case "integer", "number" -> schema.getInteger("minimum", 1);
      case "array" -> new JsonArray().add(sample(resolve(schema.getJsonObject("items", new JsonObject()))));
      case "object" -> new JsonObject();
      default -> "email".equals(schema.getString("format")) ? "someone@example.com"
          : "x".repeat(Math.max(1, schema.getInteger("minLength", 1)));
    };
  }

  /** The object a local {@code $ref} points at (followed until it is not a reference). */
  JsonObject resolve(JsonObject node) {
    JsonObject current = node;
    while (current.getString("$ref") != null) {
      String pointer = current.getString("$ref").substring(2);
      Object at = document;
      for (String token : pointer.split("/")) {
        at = ((JsonObject) at).getValue(token.replace("~1", "/").replace("~0", "~"));
      }
      current = (JsonObject) at;
    }
    return current;
  }
}
