package io.claudememory.fuzz;

import io.vertx.core.MultiMap;
import io.vertx.core.buffer.Buffer;
import io.vertx.ext.web.multipart.MultipartForm;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;

/**
 * One request the fuzzer sends: what it targets, which kind of case it is and what was done to it ({@code label}),
 * and the request itself. Built from a {@link Draft}, the valid request a mutation changes.
 */
record FuzzCase(FuzzTarget target, String category, String label, String method, String uri, MultiMap headers,
    Buffer body, MultipartForm form) {

  @Override
  public String toString() {
    return target.operationId() + " [" + category + ": " + label + "] " + method + " " + abbreviate(uri, 200);
  }

  static String abbreviate(String text, int max) {
    return text.length() <= max ? text : text.substring(0, max) + "...(" + text.length() + " chars)";
  }

  /**
   * A request under construction: path values (supplied late, so throwaway objects are only made for cases that use
   * them), query parameters in order (repeats allowed), headers, and a body that is a JSON object (field values may
   * be suppliers too), raw bytes or a multipart form.
   */
  static final class Draft {
    final FuzzTarget target;
    String method;
    final Map<String, Supplier<String>> path = new LinkedHashMap<>();
    final Map<String, Boolean> rawPath = new LinkedHashMap<>();
    final List<String[]> query = new ArrayList<>();
    final MultiMap headers = MultiMap.caseInsensitiveMultiMap();
    Map<String, Object> json;
    Buffer raw;
    MultipartForm form;

    Draft(FuzzTarget target) {
      this.target = target;
      this.method = target.method();
    }

    void pathValue(String name, String value, boolean raw) {
      path.put(name, () -> value);
      rawPath.put(name, raw);
    }

    void setQuery(String name, String value) {
      query.removeIf(q -> q[0].equals(name));
      if (value != null) {
        query.add(new String[] {name, value, "encoded"});
      }
    }

    void rawBody(Buffer bytes) {
      json = null;
      form = null;
      raw = bytes;
    }

    FuzzCase build(String category, String label) {
      String uri = target.template();
      for (Map.Entry<String, Supplier<String>> p : path.entrySet()) {
        String value = p.getValue().get();
        uri = uri.replace("{" + p.getKey() + "}", rawPath.getOrDefault(p.getKey(), false) ? value : segment(value));
      }
      StringBuilder q = new StringBuilder();
      for (String[] param : query) {
        q.append(q.length() == 0 ? '?' : '&').append(encode(param[0])).append('=')
            .append(param[2].equals("raw") ? param[1] : encode(param[1]));
      }
      Buffer body = raw;
      if (json != null) {
        Map<String, Object> resolved = new LinkedHashMap<>();
        json.forEach((k, v) -> {
          Object value = v instanceof Supplier<?> s ? s.get() : v;
          if (value != SchemaValues.ABSENT) {
            resolved.put(k, value);
          }
        });
        body = Buffer.buffer(FuzzJson.encode(resolved));
      }
      return new FuzzCase(target, category, label, method, uri + q, MultiMap.caseInsensitiveMultiMap()
          .addAll(headers), body, form);
    }

    private static String encode(String text) {
      return URLEncoder.encode(text, StandardCharsets.UTF_8).replace("+", "%20");
    }

    /** A path segment: everything but unreserved characters percent-encoded (a dot segment stays one). */
    private static String segment(String text) {
      return encode(text).replace("*", "%2A");
    }
  }
}
