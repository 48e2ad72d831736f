package io.claudememory.fuzz;

import io.vertx.core.buffer.Buffer;
import io.vertx.ext.web.multipart.MultipartForm;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.function.Function;

/**
 * Mutations of request bodies: the shape of the whole body (not JSON, not an object, too deep, too large, badly
 * encoded), each field of the schema (missing, null, every wrong type, past its bounds, hostile text), multipart
 * uploads, and bodies sent where none is expected.
 */
final class BodyMutations {
  private static final int OVERSIZED = 2 * 1024 * 1024;
  private final SchemaValues values;
  private final Random rng;
  private final Buffer importFile;

  BodyMutations(SchemaValues values, Random rng, Buffer importFile) {
    this.values = values;
    this.rng = rng;
    this.importFile = importFile;
  }

  List<Mutation> of(FuzzTarget t, Function<String, Object> hints) {
    if (t.multipart()) {
      return multipart();
    }
    if (!t.takesBody()) {
      return unexpected();
    }
    List<Mutation> out = new ArrayList<>(shapes(hints));
    Set<String> required = new LinkedHashSet<>();
    Map<String, io.vertx.core.json.JsonObject> props = values.properties(t.bodySchema(), required);
    for (Map.Entry<String, io.vertx.core.json.JsonObject> p : props.entrySet()) {
      String name = p.getKey();
      if (required.contains(name)) {
        out.add(field("missing " + name, d -> d.json.remove(name)));
      }
      for (Hostile.Value v : values.mutants(p.getValue())) {
        out.add(field(name + ": " + v.name(), d -> d.json.put(name, v.value())));
      }
    }
    return out;
  }

  private static Mutation field(String label, java.util.function.Consumer<FuzzCase.Draft> apply) {
    return new Mutation("field", label, apply);
  }

  private static Mutation body(String label, String text) {
    return body(label, Buffer.buffer(text));
  }

  private static Mutation body(String label, Buffer bytes) {
    return new Mutation("body", label, d -> d.rawBody(bytes));
  }

  /** The valid body, as JSON text, for mutations that edit the text. */
  private static String text(FuzzCase.Draft d) {
    Map<String, Object> copy = new LinkedHashMap<>(d.json);
    copy.replaceAll((k, v) -> v instanceof java.util.function.Supplier<?> s ? s.get() : v);
    return FuzzJson.encode(copy);
  }

  private List<Mutation> shapes(Function<String, Object> hints) {
    List<Mutation> out = new ArrayList<>(List.of(
        body("empty body", ""),
        new Mutation("body", "no body at all", d -> {
          d.rawBody(null);
          d.headers.remove("Content-Type");
        }),
        body("whitespace", " \n\t "),
        body("single quotes", "{'name': 'x'}"),
        body("NaN", "{\"x\": NaN}"),
        body("comment", "/* hi */ {}"),
        body("unquoted key", "{name: 1}"),
        body("json array", "[{\"name\":\"x\"}]"),
        body("json string", "\"just text\""),
        body("json number", "42"),
        body("json null", "null"),
        body("json true", "true"),
        body("deeply nested object", "{\"a\":".repeat(100_000) + "1" + "}".repeat(100_000)),
        body("deeply nested array", "[".repeat(200_000) + "]".repeat(200_000)),
        body("unterminated string", "{\"name\": \"abc"),
        body("invalid escape", "{\"name\": \"\\x41\"}"),
        body("prototype keys", "{\"__proto__\":{\"role\":\"admin\"},\"constructor\":{\"prototype\":{}}}"),
        body("10000 unknown fields", manyFields(10_000)),
        body("oversized", "{\"name\":\"" + "z".repeat(OVERSIZED) + "\"}"),
        body("invalid utf-8", Buffer.buffer(new byte[] {'{', '"', 'n', '"', ':', '"', (byte) 0xff, (byte) 0xfe,
            (byte) 0xc0, (byte) 0xaf, '"', '}'})),
        new Mutation("body", "truncated", d -> d.rawBody(Buffer.buffer(chop(text(d))))),
        new Mutation("body", "trailing garbage", d -> d.rawBody(Buffer.buffer(text(d) + "}{xyz"))),
        new Mutation("body", "two objects", d -> d.rawBody(Buffer.buffer(text(d) + text(d)))),
        new Mutation("body", "utf-8 byte order mark", d -> d.rawBody(Buffer.buffer("\ufeff" + text(d)))),
        new Mutation("body", "utf-16", d -> d.rawBody(Buffer.buffer(text(d).getBytes(StandardCharsets.UTF_16LE)))),
        new Mutation("body", "duplicate keys", d -> {
          String valid = text(d);
          String first = d.json.keySet().stream().findFirst().orElse("x");
          d.rawBody(Buffer.buffer(valid.equals("{}") ? "{\"x\":1,\"x\":2}"
              : valid.substring(0, valid.length() - 1) + ",\"" + first + "\":[1,{}]}"));
        }),
        new Mutation("body", "unknown field", d -> d.json.put("fuzzUnknown", "x")),
        new Mutation("body", "mass assignment", d -> {
          d.json.put("id", "00000000-0000-0000-0000-000000000000");
          d.json.put("role", "admin");
          d.json.put("ownerId", "00000000-0000-0000-0000-000000000000");
        }),
        new Mutation("body", "every optional field", d -> d.json.putAll(
            values.validObject(d.target.bodySchema(), true, hints)))));
    return out;
  }

  private List<Mutation> unexpected() {
    return List.of(
        new Mutation("body", "unexpected json body", d -> {
          d.headers.set("Content-Type", "application/json");
          d.rawBody(Buffer.buffer("{\"fuzz\":true,\"id\":\"' OR 1=1--\"}"));
        }),
        new Mutation("body", "unexpected garbage body", d -> {
          d.headers.set("Content-Type", "application/octet-stream");
          d.rawBody(Buffer.buffer(random(512)));
        }),
        new Mutation("body", "unexpected invalid json", d -> {
          d.headers.set("Content-Type", "application/json");
          d.rawBody(Buffer.buffer("{{{"));
        }),
        new Mutation("body", "unexpected oversized body", d -> {
          d.headers.set("Content-Type", "application/json");
          d.rawBody(Buffer.buffer("[\"" + "o".repeat(OVERSIZED) + "\"]"));
        }));
  }

  /** Valid: the fixture export, as a multipart upload in the part {@code file}. */
  MultipartForm validForm() {
    return MultipartForm.create().binaryFileUpload("file", "export.zip", importFile, "application/zip");
  }

  private List<Mutation> multipart() {
    List<Mutation> out = new ArrayList<>(List.of(
        form("empty file", MultipartForm.create().binaryFileUpload("file", "empty.json", Buffer.buffer(),
            "application/json")),
        form("garbage file", MultipartForm.create().binaryFileUpload("file", "x.zip", Buffer.buffer(random(4096)),
            "application/zip")),
        form("empty conversations.json", MultipartForm.create().binaryFileUpload("file", "conversations.json",
            Buffer.buffer("[]"), "application/json")),
        form("hostile conversations.json", MultipartForm.create().binaryFileUpload("file", "conversations.json",
            Buffer.buffer(hostileExport()), "application/json")),
        form("file in another part", MultipartForm.create().binaryFileUpload("upload", "export.zip", importFile,
            "application/zip")),
        form("two files", validForm().binaryFileUpload("file", "again.zip", importFile, "application/zip")),
        form("only a passphrase", MultipartForm.create().attribute("passphrase", "correct horse")),
        form("traversal file name", MultipartForm.create().binaryFileUpload("file", "../../../../tmp/evil.zip",
            importFile, "application/zip")),
        form("passphrase empty", validForm().attribute("passphrase", "")),
        form("passphrase too long", validForm().attribute("passphrase", "p".repeat(2000))),
        new Mutation("multipart", "json instead of multipart", d -> {
          d.form = null;
          d.headers.set("Content-Type", "application/json");
          d.rawBody(Buffer.buffer("{\"file\":\"x\"}"));
        }),
        new Mutation("multipart", "multipart without boundary", d -> {
          d.form = null;
          d.headers.set("Content-Type", "multipart/form-data");
          d.rawBody(Buffer.buffer("--x\r\nContent-Disposition: form-data; name=\"file\"\r\n\r\nabc\r\n--x--\r\n"));
        }),
        new Mutation("multipart", "truncated multipart", d -> {
          d.form = null;
          d.headers.set("Content-Type", "multipart/form-data; boundary=fuzzb");
          d.rawBody(Buffer.buffer("--fuzzb\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.zip\"\r\n"
              + "Content-Type: application/zip\r\n\r\nPK\u0003\u0004trunc"));
        }),
        new Mutation("multipart", "no body", d -> {
          d.form = null;
          d.rawBody(null);
        })));
    for (Hostile.Value v : Hostile.STRINGS) {
      if (v.value() instanceof String s && rng.nextInt(3) == 0) {
        out.add(form("passphrase " + v.name(), validForm().attribute("passphrase", s)));
      }
    }
    return out;
  }

  private static Mutation form(String label, MultipartForm form) {
    return new Mutation("multipart", label, d -> {
      d.raw = null;
      d.form = form;
    });
  }

  private static String hostileExport() {
    return "[{\"uuid\":\"' OR 1=1--\",\"name\":\"<script>alert(1)</script>\",\"created_at\":\"yesterday\","
        + "\"chat_messages\":[{\"uuid\":null,\"sender\":{\"$ne\":1},\"text\":\"\\u0000\\ud800\","
        + "\"created_at\":1e400}]},{\"uuid\":[],\"chat_messages\":\"not a list\"},null,42]";
  }

  private static String manyFields(int count) {
    StringBuilder out = new StringBuilder("{");
    for (int i = 0; i < count; i++) {
      out.append(i == 0 ? "" : ",").append("\"f").append(i).append("\":").append(i);
    }
    return out.append('}').toString();
  }

  private static String chop(String text) {
    return text.length() <= 1 ? "{" : text.substring(0, text.length() - 1);
  }

  private byte[] random(int size) {
    byte[] bytes = new byte[size];
    rng.nextBytes(bytes);
    return bytes;
  }
}
