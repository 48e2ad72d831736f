package io.claudememory.support;

import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.Json;
import io.vertx.core.json.JsonObject;
import io.vertx.json.schema.Draft;
import io.vertx.json.schema.JsonSchema;
import io.vertx.json.schema.JsonSchemaOptions;
import io.vertx.json.schema.OutputFormat;
import io.vertx.json.schema.OutputUnit;
import io.vertx.json.schema.SchemaRepository;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.URI;
import java.util.ArrayDeque;
import java.util.Comparator;
import java.util.Deque;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.constructor.SafeConstructor;

/**
 * The API contract ({@code src/main/resources/openapi.yaml}) as the tests hold the server to it: {@link #check} fails
 * a test when an answer has a status, content type, body or required header that the contract does not describe for
 * the operation called. {@link ApiClient} runs it on every reply.
 *
 * <p>Response bodies are checked with vertx-json-schema (draft 2020-12, OpenAPI 3.1's dialect) against the schema at
 * the operation's response in the document itself. vertx-openapi's {@code OpenAPIContract} is not used: 5.0.10 refuses
 * to load a contract whose responses use {@code application/problem+json} (it accepts only JSON, {@code vnd.*+json},
 * multipart, octet-stream and text/plain), and every failure here is a problem.
 *
 * <p>Paths the contract does not list answer a 404 problem and methods it does not list for a path a 405 problem
 * ({@code components.responses.NotFound} / {@code MethodNotAllowed}); those are checked too.
 */
public final class ApiContract {
  private static final String DOCUMENT = "app:///openapi.yaml";
  private static final Pattern TEMPLATE = Pattern.compile("\\{[^}/]+}");
  private static final List<String> METHODS = List.of("get", "put", "post", "delete", "options", "head", "patch");
  private static ApiContract loaded;

  private final JsonObject document;
  private final SchemaRepository schemas;
  private final JsonSchemaOptions options;
  private final String basePath;
  private final List<PathTemplate> paths;

  /** A path of the contract, as a pattern on the absolute request path. */
  private record PathTemplate(String name, Pattern pattern, int variables) {}

  /** An operation: its method and absolute path template, e.g. {@code GET /api/v1/api-keys/{id}}. */
  public record Operation(String method, String path) implements Comparable<Operation> {
    @Override
    public int compareTo(Operation other) {
      return toString().compareTo(other.toString());
    }

    @Override
    public String toString() {
      return method + " " + path;
    }
  }

  private ApiContract(JsonObject document) {
    this.document = document;
    this.options = new JsonSchemaOptions().setDraft(Draft.DRAFT202012).setBaseUri("app:///")
        .setOutputFormat(OutputFormat.Basic);
    // dereferencing annotates the JSON it is given, so it gets a copy and the document stays as written
    this.schemas = SchemaRepository.create(options).dereference(DOCUMENT, JsonSchema.of(document.copy()));
    this.basePath = URI.create(document.getJsonArray("servers").getJsonObject(0).getString("url")).getPath();
    this.paths = document.getJsonObject("paths").fieldNames().stream()
        .map(name -> new PathTemplate(name, compile(basePath, name),
            (int) TEMPLATE.matcher(name).results().count()))
        // a literal segment wins over a template: /conversations/search before /conversations/{id}
        .sorted(Comparator.comparingInt(PathTemplate::variables))
        .toList();
  }

  /** The contract, read once per test JVM from the classpath. */
  public static synchronized ApiContract load() {
    if (loaded == null) {
      try (InputStream in = ApiContract.class.getResourceAsStream("/openapi.yaml")) {
        if (in == null) {
          throw new IllegalStateException("openapi.yaml is not on the classpath");
        }
        Map<String, Object> yaml = new Yaml(new SafeConstructor(new LoaderOptions())).load(in);
        loaded = new ApiContract(new JsonObject(Json.encode(yaml)));
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }
    return loaded;
  }

  public JsonObject document() {
    return document;
  }

  /** The path every operation is under, from the first server URL ({@code /api/v1}). */
  public String basePath() {
    return basePath;
  }

  /** Every operation the contract describes. */
  public Set<Operation> operations() {
    Set<Operation> operations = new TreeSet<>();
    JsonObject all = document.getJsonObject("paths");
    for (String path : all.fieldNames()) {
      for (String method : all.getJsonObject(path).fieldNames()) {
        if (METHODS.contains(method)) {
          operations.add(new Operation(method.toUpperCase(Locale.ROOT), basePath + path));
        }
      }
    }
    return operations;
  }

  /** Fails with an {@link AssertionError} saying what differs when {@code reply} is not what the contract describes. */
  public void check(HttpMethod method, String uri, ApiClient.Reply reply) {
    String path = normalize(uri.contains("?") ? uri.substring(0, uri.indexOf('?')) : uri);
    if (method == HttpMethod.OPTIONS || !path.startsWith(basePath + "/") && !path.equals(basePath)
        && (path.startsWith("/api/docs") || path.equals("/api/openapi.yaml"))) {
      return; // CORS preflights and the docs page itself are not API operations (ApiDocsTest covers the page).
    }
    String call = method + " " + path + " answered " + reply.status();
    String verb = method.name().toLowerCase(Locale.ROOT);
    PathTemplate template = paths.stream().filter(t -> t.pattern().matcher(path).matches()).findFirst().orElse(null);
    JsonObject operation = template == null ? null
        : document.getJsonObject("paths").getJsonObject(template.name()).getJsonObject(verb);
    String pointer;
    if (operation != null) {
      String status = Integer.toString(reply.status());
      JsonObject responses = operation.getJsonObject("responses");
      String key = responses.containsKey(status) ? status : responses.containsKey("default") ? "default" : null;
      if (key == null) {
        throw new AssertionError(call + ", a status the contract does not document for operation '"
            + operation.getString("operationId") + "' (it documents " + responses.fieldNames() + "): "
            + reply.body());
      }
      pointer = "/paths/" + escape(template.name()) + "/" + verb + "/responses/" + key;
    } else if (template == null && reply.status() == 404) {
      pointer = "/components/responses/NotFound";
    } else if (template == null && reply.status() == 429) {
      pointer = "/components/responses/TooManyRequests"; // the per-address limit applies before routing
    } else if (template != null && reply.status() == 405) {
      pointer = "/components/responses/MethodNotAllowed";
    } else {
      throw new AssertionError(call + ", but the contract has no such operation"
          + (template == null ? " (no path matches)" : " (path " + template.name() + " has no " + method + ")")
          + ": " + reply.body());
    }
    checkResponse(call, follow(pointer), reply);
  }

  private void checkResponse(String call, String pointer, ApiClient.Reply reply) {
    JsonObject response = at(pointer);
    JsonObject headers = response.getJsonObject("headers", new JsonObject());
    for (String name : headers.fieldNames()) {
      JsonObject header = at(follow(pointer + "/headers/" + escape(name)));
      if (header.getBoolean("required", false) && reply.header(name) == null) {
        throw new AssertionError(call + " without the required header " + name);
      }
    }
    JsonObject content = response.getJsonObject("content");
    if (content == null || content.isEmpty()) {
      if (reply.raw() != null && reply.raw().length() > 0) {
        throw new AssertionError(call + " with a body, but the contract documents none: " + reply.body());
      }
      return;
    }
    String contentType = mediaType(reply.header("Content-Type"));
    String mediaKey = content.fieldNames().stream().filter(k -> mediaType(k).equals(contentType)).findFirst()
        .orElseThrow(() -> new AssertionError(call + " as " + reply.header("Content-Type")
            + ", but the contract documents only " + content.fieldNames()));
    if (!contentType.equals("application/json") && !contentType.endsWith("+json")) {
      return;
    }
    Object body;
    try {
      body = Json.decodeValue(reply.raw());
    } catch (RuntimeException e) {
      throw new AssertionError(call + " with a body that is not JSON: " + reply.body(), e);
    }
    String schema = pointer + "/content/" + escape(mediaKey) + "/schema";
    OutputUnit result = schemas.validator(JsonSchema.of(new JsonObject()
        .put("$ref", DOCUMENT + "#" + uriFragment(schema))),
        options).validate(body);
    if (!result.getValid()) {
      throw new AssertionError(call + " with a body that does not match the contract (" + schema + "):\n"
          + describe(result) + "\nbody: " + reply.body());
    }
  }

  /** The pointer itself, or where the object at it refers to with a local {@code $ref}. */
  private String follow(String pointer) {
    String ref = at(pointer).getString("$ref");
    return ref == null ? pointer : follow(ref.substring(ref.indexOf('#') + 1));
  }

  private JsonObject at(String pointer) {
    Object node = document;
    for (String token : pointer.substring(1).split("/")) {
      node = ((JsonObject) node).getValue(token.replace("~1", "/").replace("~0", "~"));
      if (node == null) {
        throw new AssertionError("the contract has nothing at " + pointer);
      }
    }
    return (JsonObject) node;
  }

  private static String describe(OutputUnit result) {
    List<OutputUnit> errors = result.getErrors() == null ? List.of() : result.getErrors();
    // parents only say that a child failed, and an additionalProperties error is repeated for any property whose
    // own schema failed; what is left says why
    List<OutputUnit> leaves = errors.stream()
        .filter(e -> !e.getError().contains("does not match schema") && !e.getError().contains("subschema"))
        .toList();
    List<OutputUnit> causes = leaves.stream().filter(e -> !isAdditional(e) || leaves.stream().noneMatch(other ->
        !isAdditional(other) && other.getInstanceLocation().startsWith(e.getInstanceLocation()))).toList();
    return (causes.isEmpty() ? errors : causes).stream()
        .map(e -> "  at " + e.getInstanceLocation() + ": " + e.getError())
        .distinct()
        .collect(Collectors.joining("\n"));
  }

  private static boolean isAdditional(OutputUnit error) {
    return error.getError().contains("additional properties");
  }

  private static String mediaType(String header) {
    if (header == null) {
      return "";
    }
    int semicolon = header.indexOf(';');
    return (semicolon < 0 ? header : header.substring(0, semicolon)).trim().toLowerCase(Locale.ROOT);
  }

  /**
   * The path as the server routes it (Vert.x normalises it per RFC 3986): percent-encoded unreserved characters
   * decoded, repeated slashes collapsed, dot segments removed, and a trailing slash dropped (routes match with or
   * without one). A path with an invalid percent-encoding is left alone (the server refuses it with a 400).
   */
  static String normalize(String raw) {
    StringBuilder decoded = new StringBuilder();
    for (int i = 0; i < raw.length(); i++) {
      char c = raw.charAt(i);
      if (c != '%') {
        decoded.append(c);
        continue;
      }
      if (i + 2 >= raw.length() || !HexFormat.isHexDigit(raw.charAt(i + 1))
          || !HexFormat.isHexDigit(raw.charAt(i + 2))) {
        return raw;
      }
      char d = (char) HexFormat.fromHexDigits(raw, i + 1, i + 3);
      boolean unreserved = d < 128 && (Character.isLetterOrDigit(d) || "-._~".indexOf(d) >= 0);
      decoded.append(unreserved ? String.valueOf(d) : raw.substring(i, i + 3));
      i += 2;
    }
    Deque<String> segments = new ArrayDeque<>();
    for (String segment : decoded.toString().split("/+")) {
      if (segment.equals("..")) {
        segments.pollLast();
      } else if (!segment.isEmpty() && !segment.equals(".")) {
        segments.addLast(segment);
      }
    }
    return "/" + String.join("/", segments);
  }

  /** A JSON pointer as a URI fragment: braces of path templates ({@code /webhooks/{id}}) are not legal there. */
  private static String uriFragment(String pointer) {
    return pointer.replace("{", "%7B").replace("}", "%7D");
  }

  private static String escape(String token) {
    return token.replace("~", "~0").replace("/", "~1");
  }

  /** {@code /api-keys/{id}} under {@code /api/v1} matches {@code /api/v1/api-keys/} and one segment. */
  private static Pattern compile(String base, String template) {
    StringBuilder regex = new StringBuilder(Pattern.quote(base));
    Matcher variable = TEMPLATE.matcher(template);
    int literalStart = 0;
    while (variable.find()) {
      regex.append(Pattern.quote(template.substring(literalStart, variable.start()))).append("[^/]+");
      literalStart = variable.end();
    }
    return Pattern.compile(regex.append(Pattern.quote(template.substring(literalStart))).toString());
  }
}
