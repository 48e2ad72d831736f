package io.claudememory.security;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.claudememory.support.ClassOrder;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/**
 * The last class of the run ({@link ClassOrder.Last}): every line logged while any class of the security suite ran is
 * checked against every secret the suite used, including secrets first seen in a later class than the line (which
 * the per-class check of {@link SecuritySuite} cannot know yet).
 */
@ClassOrder.Last
@DisplayName("Secrets: no password, token, key, webhook secret or server secret appears in any log line of the suite")
class SecretsInLogsTest {

  @Test
  @DisplayName("the suite's whole log is free of every secret it used and of anything shaped like a credential")
  void noSecretInAnyLine() {
    List<LogCapture.Line> lines = LogCapture.lines();
    Assumptions.assumeFalse(lines.isEmpty(), "no class of the security suite ran before this one");
    Set<String> classes = lines.stream().map(LogCapture.Line::testClass).collect(Collectors.toCollection(TreeSet::new));
    assertTrue(SuiteSecrets.count() > 10, "the suite used secrets (passwords, tokens, keys), and they were collected: "
        + SuiteSecrets.count());
    assertTrue(lines.stream().anyMatch(line -> line.text().contains(" access ")),
        "the capture holds the servers' access log, so it saw what they logged");
    List<SuiteSecrets.Leak> leaks = SuiteSecrets.leaks(lines);
    assertTrue(leaks.isEmpty(), () -> leaks.size() + " of the " + lines.size() + " lines logged by " + classes
        + " give a secret away:\n" + leaks.stream().map(Object::toString).collect(Collectors.joining("\n")));
  }

  @Test
  @DisplayName("no request the suite made, hostile as many were, was answered with a server error")
  void noServerErrors() {
    List<LogCapture.Line> lines = LogCapture.lines();
    Assumptions.assumeFalse(lines.isEmpty(), "no class of the security suite ran before this one");
    java.util.regex.Pattern access = java.util.regex.Pattern.compile(" access .* - [A-Z]+ \\S+ (5\\d\\d) \\d+ms");
    List<String> errors = lines.stream().filter(line -> access.matcher(line.text()).find())
        .map(line -> line.testClass() + ": " + SuiteSecrets.mask(line.text())).distinct().toList();
    assertTrue(errors.isEmpty(), () -> "requests answered 5xx:\n" + String.join("\n", errors));
  }

  @Test
  @DisplayName("the check finds a secret however a log line spells it, and a credential it was never told about")
  void checkFindsLeaks() {
    String secret = "pass word/with+odd&chars-" + System.nanoTime();
    SuiteSecrets.add("a planted password", secret);
    for (String spelled : List.of(secret, java.net.URLEncoder.encode(secret, java.nio.charset.StandardCharsets.UTF_8),
        io.vertx.core.json.Json.encode(secret))) {
      List<SuiteSecrets.Leak> leaks = SuiteSecrets.leaks(List.of(new LogCapture.Line("Planted", "login " + spelled)));
      assertEquals(1, leaks.size(), "found as " + spelled);
      assertFalse(leaks.get(0).toString().contains(secret), "the report masks what it found");
    }
    String unknownJwt = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJub2JvZHkifQ.c2lnbmF0dXJl";
    assertEquals(1, SuiteSecrets.leaks(List.of(new LogCapture.Line("Planted", "Bearer " + unknownJwt))).size());
    assertTrue(SuiteSecrets.leaks(List.of(new LogCapture.Line("Planted", "GET /ws?token=*** 101"))).isEmpty(),
        "a masked token is not a leak");
  }
}
