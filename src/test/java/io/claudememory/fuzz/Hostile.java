package io.claudememory.fuzz;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The values a hostile or careless client sends, by kind. Each is named, so a failure says which one it was. Strings
 * are Java strings: control characters and lone surrogates are written as JSON escapes by {@link FuzzJson} and
 * percent-encoded in URLs.
 */
final class Hostile {
  private Hostile() {}

  /** A value with the name a failure report uses for it. */
  record Value(String name, Object value) {}

  /** Injection-shaped and otherwise awkward strings, short enough to pass most length limits. */
  static final List<Value> STRINGS = List.of(
      new Value("sql tautology", "' OR 1=1--"),
      new Value("sql stacked", "'; DROP TABLE users;--"),
      new Value("sql sleep", "1'; SELECT pg_sleep(30);--"),
      new Value("sql quote", "\"'\\"),
      new Value("sql placeholder", "$1 #{id} ?"),
      new Value("tsquery operators", "!:*&|()"),
      new Value("tsquery prefix", ":*"),
      new Value("tsquery phrase", "a <-> b <2> c"),
      new Value("tsquery unbalanced", "((( a & | ! b"),
      new Value("tsquery weights", "a:ABCD & 'b'"),
      new Value("tsquery only operators", "& | ! ( ) : *"),
      new Value("html script", "<script>alert(1)</script>"),
      new Value("html attribute", "\"><img src=x onerror=alert(1)>"),
      new Value("javascript url", "javascript:alert(document.cookie)"),
      new Value("json in string", "{\"role\":\"admin\",\"id\":1}"),
      new Value("json array in string", "[1,2,{\"a\":null}]"),
      new Value("nul", "\u0000"),
      new Value("nul inside", "a\u0000b"),
      new Value("control characters", "\u0001\u0002\u0008\u001b[31m\u001f\u007f"),
      new Value("crlf header injection", "x\r\nX-Injected: 1\r\n\r\n<html>"),
      new Value("lone high surrogate", "\ud800"),
      new Value("lone low surrogate", "a\udfffb"),
      new Value("reversed surrogates", "\udc00\ud800"),
      new Value("unicode", "ünïcødé 日本語 🙂 Ω≈ç√"),
      new Value("right-to-left override", "abc\u202edef"),
      new Value("zero width and bom", "\u200b\ufeff\u2060"),
      new Value("combining marks", "e\u0301\u0301\u0301\u0301"),
      new Value("path traversal", "../../../../etc/passwd"),
      new Value("windows traversal", "..\\..\\windows\\win.ini"),
      new Value("encoded traversal", "%2e%2e%2f%2e%2e%2f"),
      new Value("percent nul", "%00"),
      new Value("metadata url", "http://169.254.169.254/latest/meta-data/"),
      new Value("file url", "file:///etc/passwd"),
      new Value("jndi", "${jndi:ldap://127.0.0.1/a}"),
      new Value("template", "{{7*7}}${7*7}<%= 7*7 %>"),
      new Value("format string", "%s%s%s%n%x"),
      new Value("empty", ""),
      new Value("blank", " \t\n "),
      new Value("number text", "1e309"),
      new Value("nan text", "NaN"),
      new Value("null text", "null"));

  /** Strings past every documented limit (the largest documented is 100000 characters). */
  static final List<Value> LONG_STRINGS = List.of(
      new Value("10k characters", "a".repeat(10_000)),
      new Value("100001 characters", "b".repeat(100_001)),
      new Value("50k emoji", "🙂".repeat(50_000)));

  /** Strings just past the lengths limits are usually set at (bcrypt's 72 bytes, 255, 1024, a 2 KiB index word). */
  static final List<Value> BOUNDARY_STRINGS = List.of(
      new Value("65 characters", "s".repeat(65)),
      new Value("73 bytes", "b".repeat(73)),
      new Value("73 bytes of two-byte characters", "ü".repeat(37)),
      new Value("101 characters", "c".repeat(101)),
      new Value("256 characters", "d".repeat(256)),
      new Value("1025 characters", "e".repeat(1025)),
      new Value("2049-character word", "w".repeat(2049)));

  /** Numbers of every awkward kind, including ones no Java type holds. */
  static final List<Value> NUMBERS = List.of(
      new Value("zero", 0),
      new Value("minus one", -1),
      new Value("fraction", 1.5),
      new Value("negative zero", new FuzzJson.Raw("-0.0")),
      new Value("int overflow", 2_147_483_648L),
      new Value("long max", Long.MAX_VALUE),
      new Value("past long", new FuzzJson.Raw("9223372036854775808")),
      new Value("huge integer", new FuzzJson.Raw("1" + "0".repeat(400))),
      new Value("huge exponent", new FuzzJson.Raw("1e400")),
      new Value("tiny exponent", new FuzzJson.Raw("1e-400")),
      new Value("negative huge", new FuzzJson.Raw("-1.7976931348623157e308")));

  /** One value of each JSON type, for type confusion. */
  static List<Value> ofEveryType() {
    Map<String, Object> nested = new LinkedHashMap<>();
    nested.put("$ne", null);
    return List.of(
        new Value("string", "fuzz"),
        new Value("integer", 42),
        new Value("negative", -7),
        new Value("float", 3.25),
        new Value("boolean", true),
        new Value("empty array", new JsonArray()),
        new Value("array", new JsonArray().add("a").add(1)),
        new Value("empty object", new JsonObject()),
        new Value("operator object", new JsonObject(nested)));
  }

  /** Path segments: malformed, traversal, injection, encodings. Percent-encoded by the case factory unless raw. */
  static final List<Value> PATH_SEGMENTS = List.of(
      new Value("not a uuid", "not-a-uuid"),
      new Value("nil uuid", "00000000-0000-0000-0000-000000000000"),
      new Value("uuid without dashes", "0190f1f2c3d47a8b9c0d1e2f3a4b5c6d"),
      new Value("uuid in braces", "{0190f1f2-c3d4-7a8b-9c0d-1e2f3a4b5c6d}"),
      new Value("uuid too long", "0190f1f2-c3d4-7a8b-9c0d-1e2f3a4b5c6d0"),
      new Value("uuid wrong version chars", "zzzzzzzz-zzzz-zzzz-zzzz-zzzzzzzzzzzz"),
      new Value("number", "1"),
      new Value("negative number", "-1"),
      new Value("huge number", "9".repeat(400)),
      new Value("huge segment", "x".repeat(3000)),
      new Value("segment past the URI limit", "y".repeat(5000)),
      new Value("sql", "' OR 1=1--"),
      new Value("sql uuid", "00000000-0000-0000-0000-000000000000' OR '1'='1"),
      new Value("traversal", "../"),
      new Value("double traversal", "../../admin/stats"),
      new Value("dot dot", ".."),
      new Value("unicode", "ünï日本🙂"),
      new Value("nul", "\u0000"),
      new Value("space", " "),
      new Value("null word", "null"),
      new Value("html", "<script>alert(1)</script>"),
      new Value("json", "{\"a\":1}"));

  /** Path segments sent exactly as written: broken percent-encodings, raw traversal, empty. */
  static final List<Value> RAW_PATH_SEGMENTS = List.of(
      new Value("raw %00", "%00"),
      new Value("raw lone percent", "%"),
      new Value("raw bad percent", "%zz"),
      new Value("raw encoded slash", "..%2F..%2F"),
      new Value("raw overlong utf-8", "%c0%af"),
      new Value("raw invalid utf-8", "%ff%fe"),
      new Value("empty", ""));

  /** Timestamps that are not ISO-8601 with an offset, or are out of any database's range. */
  static final List<Value> DATES = List.of(
      new Value("words", "yesterday"),
      new Value("month 13", "2026-13-01T00:00:00Z"),
      new Value("february 30", "2026-02-30T00:00:00Z"),
      new Value("no offset", "2026-01-31T10:00:00"),
      new Value("date only", "2026-01-31"),
      new Value("year zero", "0000-01-01T00:00:00Z"),
      new Value("far past", "-999999999-01-01T00:00:00Z"),
      new Value("far future", "+999999999-12-31T23:59:59Z"),
      new Value("offset too big", "2026-01-31T10:00:00+25:00"),
      new Value("nanoseconds", "2026-01-31T10:00:00.123456789Z"),
      new Value("epoch seconds", "1700000000"),
      new Value("sql", "2026-01-01T00:00:00Z' OR '1'='1"));

  /** Query values for integers (limit and the like). */
  static final List<Value> INTEGER_TEXT = List.of(
      new Value("word", "abc"),
      new Value("fraction", "1.5"),
      new Value("zero", "0"),
      new Value("negative", "-1"),
      new Value("past max", "201"),
      new Value("int overflow", "2147483648"),
      new Value("huge", "9".repeat(40)),
      new Value("exponent", "1e3"),
      new Value("padded", " 5 "),
      new Value("hex", "0x10"),
      new Value("empty", ""),
      new Value("sql", "1 OR 1=1"));

  /** Query values for booleans. */
  static final List<Value> BOOLEAN_TEXT = List.of(
      new Value("yes", "yes"),
      new Value("one", "1"),
      new Value("capitalised", "True"),
      new Value("empty", ""),
      new Value("sql", "true' OR '1'='1"));

  /** Cursors that no list gave out: broken base64 and well-formed base64 of JSON of every wrong shape. */
  static List<Value> cursors() {
    List<Value> out = new ArrayList<>(List.of(
        new Value("garbage", "!!!not-base64!!!"),
        new Value("base64 of text", b64("not json at all")),
        new Value("base64 with padding", Base64.getUrlEncoder().encodeToString("[1]".getBytes(StandardCharsets.UTF_8))),
        new Value("standard base64 alphabet", "+/+/"),
        new Value("huge", "A".repeat(3000))));
    String[] shapes = {"[]", "[1]", "[\"x\"]", "[null]", "[\"x\",\"y\"]", "[null,null]", "[1e308,-1]",
        "[\"2026-01-01T00:00:00Z\",\"not-a-uuid\"]", "[\"not-a-date\",\"00000000-0000-0000-0000-000000000000\"]",
        "[\"+999999999-12-31T23:59:59Z\",\"00000000-0000-0000-0000-000000000000\"]",
        "[{\"a\":1},[2]]", "[true,false]", "[\"x\",\"y\",\"z\"]", "[9223372036854775808,\"x\",1]", "{\"a\":1}",
        "[\"2026-01-01T00:00:00Z\",\"00000000-0000-0000-0000-000000000000\",\"x\"]",
        "[1.5,\"00000000-0000-0000-0000-000000000000\"]", "[\"\\u0000\",\"\\u0000\"]",
        "[\"2026-01-01T00:00:00Z\",1]", "[-1,\"00000000-0000-0000-0000-000000000000\"]"};
    for (String shape : shapes) {
      out.add(new Value("base64 of " + shape, b64(shape)));
    }
    return out;
  }

  static String b64(String text) {
    return Base64.getUrlEncoder().withoutPadding().encodeToString(text.getBytes(StandardCharsets.UTF_8));
  }
}
