package io.claudememory.fuzz;

import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.function.BiFunction;

/**
 * Mutations of everything but the body: the valid request itself, credentials, each path parameter, each query
 * parameter (by its schema: integers, booleans, dates, ids, enums, cursors, text), and headers.
 */
final class RequestMutations {
  private final Fixtures fx;
  private final Random rng;
  private final String issuer;
  private final String audience;

  RequestMutations(Fixtures fx, Random rng, String issuer, String audience) {
    this.fx = fx;
    this.rng = rng;
    this.issuer = issuer;
    this.audience = audience;
  }

  List<Mutation> of(FuzzTarget t, Fixtures.Actor actor, BiFunction<FuzzTarget, FuzzTarget.Param, String> foreign) {
    List<Mutation> out = new ArrayList<>();
    out.add(new Mutation(Mutation.VALID, "valid request", d -> { }));
    auth(t, actor, out);
    for (FuzzTarget.Param p : t.pathParams()) {
      path(t, p, foreign.apply(t, p), out);
    }
    for (FuzzTarget.Param p : t.queryParams()) {
      query(p, out);
    }
    out.add(new Mutation("query", "unknown parameter", d -> d.query.add(new String[] {"fuzz", "1", "encoded"})));
    out.add(new Mutation("query", "garbage query string", d -> d.query.add(new String[] {"&&=", "=%zz&;&", "raw"})));
    headers(t, out);
    return out;
  }

  private void auth(FuzzTarget t, Fixtures.Actor actor, List<Mutation> out) {
    if (!t.secured()) {
      out.add(header("auth", "garbage bearer on a public route", "Authorization", "Bearer not.a.jwt"));
      return;
    }
    for (Hostile.Value v : Credentials.variants(actor, fx.apiKey, fx.stranger, issuer, audience)) {
      out.add(header("auth", v.name(), "Authorization", (String) v.value()));
    }
  }

  private static void path(FuzzTarget t, FuzzTarget.Param p, String foreign, List<Mutation> out) {
    String name = p.name();
    for (Hostile.Value v : Hostile.PATH_SEGMENTS) {
      out.add(new Mutation("path", name + ": " + v.name(), d -> d.pathValue(name, (String) v.value(), false)));
    }
    for (Hostile.Value v : Hostile.RAW_PATH_SEGMENTS) {
      out.add(new Mutation("path", name + ": " + v.name(), d -> d.pathValue(name, (String) v.value(), true)));
    }
    out.add(new Mutation("path", name + ": another account's or unknown id", d -> d.pathValue(name, foreign, false)));
    out.add(new Mutation("path", name + ": id in upper case", d -> {
      String valid = d.path.get(name).get();
      d.pathValue(name, valid.toUpperCase(), false);
    }));
  }

  private void query(FuzzTarget.Param p, List<Mutation> out) {
    String name = p.name();
    JsonObject s = p.schema();
    List<Hostile.Value> values = new ArrayList<>();
    String type = String.valueOf(s.getValue("type"));
    if (name.equals("cursor")) {
      values.addAll(Hostile.cursors());
    } else if (type.contains("integer")) {
      values.addAll(Hostile.INTEGER_TEXT);
      values.add(new Hostile.Value("valid smallest", "1"));
      values.add(new Hostile.Value("valid largest", String.valueOf(s.getInteger("maximum", 200))));
    } else if (type.contains("boolean")) {
      values.addAll(Hostile.BOOLEAN_TEXT);
      values.add(new Hostile.Value("valid true", "true"));
      values.add(new Hostile.Value("valid false", "false"));
    } else if ("date-time".equals(s.getString("format")) || name.equals("from") || name.equals("to")) {
      values.addAll(Hostile.DATES);
      values.add(new Hostile.Value("valid instant", "2026-01-31T10:00:00Z"));
    } else if ("uuid".equals(s.getString("format")) || name.endsWith("Id")) {
      values.addAll(Hostile.PATH_SEGMENTS);
      values.add(new Hostile.Value("valid project id", fx.projectId));
      values.add(new Hostile.Value("another account's id", fx.stranger.id.toString()));
      values.add(new Hostile.Value("valid message id", fx.assistantMessageId));
    }
    if (s.containsKey("enum")) {
      values.add(new Hostile.Value("unknown enum value", "not-a-member"));
      values.add(new Hostile.Value("enum in upper case", String.valueOf(s.getJsonArray("enum").getValue(0))
          .toUpperCase()));
    }
    if (type.contains("string")) {
      Hostile.STRINGS.forEach(v -> values.add(new Hostile.Value("text " + v.name(), v.value())));
      Hostile.BOUNDARY_STRINGS.forEach(v -> values.add(new Hostile.Value("text " + v.name(), v.value())));
      if (s.containsKey("maxLength")) {
        values.add(new Hostile.Value("one past maxLength", "q".repeat(s.getInteger("maxLength") + 1)));
      }
      values.add(new Hostile.Value("2000 characters", "w".repeat(2000)));
    }
    for (Hostile.Value v : values) {
      out.add(new Mutation("query", name + "=" + v.name(), d -> d.setQuery(name, (String) v.value())));
    }
    out.add(new Mutation("query", name + " repeated", d -> {
      d.query.add(new String[] {name, "1", "encoded"});
      d.query.add(new String[] {name, "' OR 1=1--", "encoded"});
    }));
    out.add(new Mutation("query", name + " without value", d -> d.query.add(new String[] {name, "", "raw"})));
    out.add(new Mutation("query", name + " raw %00", d -> d.query.add(new String[] {name, "%00", "raw"})));
    out.add(new Mutation("query", name + " raw bad percent", d -> d.query.add(new String[] {name, "%zz%", "raw"})));
    if (p.required()) {
      out.add(new Mutation("query", "missing " + name, d -> d.setQuery(name, null)));
    }
  }

  private void headers(FuzzTarget t, List<Mutation> out) {
    if (t.takesBody() && !t.multipart()) {
      for (String type : new String[] {null, "text/plain", "application/xml", "application/json; charset=utf-16",
          "multipart/form-data", "application/x-www-form-urlencoded", "application/json;;;===", "*/*"}) {
        out.add(header("header", "Content-Type " + type, "Content-Type", type));
      }
    }
    boolean idempotent = t.headerParams().stream().anyMatch(p -> p.name().equals("Idempotency-Key"));
    if (idempotent) {
      for (String key : new String[] {"", " ", "k".repeat(256), "ünïcødé", "key with spaces", "' OR 1=1--",
          "../../etc/passwd"}) {
        out.add(header("header", "Idempotency-Key '" + FuzzCase.abbreviate(key, 20) + "'", "Idempotency-Key", key));
      }
      String key = "fuzz-key-" + Integer.toHexString(rng.nextInt());
      out.add(header("header", "Idempotency-Key first use", "Idempotency-Key", key));
      out.add(new Mutation("header", "Idempotency-Key reused with another body", d -> {
        d.headers.set("Idempotency-Key", key);
        if (d.json != null) {
          d.json.put("fuzzUnknown", 1);
        }
      }));
      out.add(new Mutation("header", "Idempotency-Key twice", d -> {
        d.headers.add("Idempotency-Key", "a-key");
        d.headers.add("Idempotency-Key", "b-key");
      }));
    }
    for (String accept : new String[] {"text/event-stream", "application/xml", "*/*;q=0", "text/html, */*"}) {
      out.add(header("header", "Accept " + accept, "Accept", accept));
    }
    for (String id : new String[] {"../../etc", "x".repeat(500), "<script>", "' OR 1=1--", ""}) {
      out.add(header("header", "X-Request-Id '" + FuzzCase.abbreviate(id, 20) + "'", "X-Request-Id", id));
    }
    // refused before any route: kept out of combinations, which would learn nothing past them
    out.add(header("transport", "foreign Origin", "Origin", "http://evil.example"));
    out.add(header("transport", "null Origin", "Origin", "null"));
    out.add(header("transport", "9 KiB header", "X-Fuzz", "h".repeat(9 * 1024)));
    out.add(header("header", "method override", "X-HTTP-Method-Override", "DELETE"));
    out.add(header("header", "forwarded for", "X-Forwarded-For", "1.2.3.4, ' OR 1=1--, 127.0.0.1"));
  }

  /** Sets (or, for null, removes) one header. */
  private static Mutation header(String category, String label, String name, String value) {
    return new Mutation(category, label, d -> {
      if (value == null) {
        d.headers.remove(name);
      } else {
        d.headers.set(name, value);
      }
    });
  }
}
