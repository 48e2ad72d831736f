package io.claudememory.conversations;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.claudememory.conversations.Snippets.Terms;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

@DisplayName("Search snippets: the words around the first match, escaped, matches marked as the database stems them")
class SnippetsTest {

  private static String snippet(String language, String tsquery, String text) {
    return Snippets.highlighter(language, Terms.of(tsquery)).snippet(text);
  }

  @Test
  @DisplayName("PostgreSQL's tsquery text gives the exact and the prefix lexemes, quotes undoubled")
  void terms() {
    Terms terms = Terms.of("'memori' & 'cach':* & 'o''brien'");
    assertEquals(java.util.Set.of("memori", "o'brien"), terms.exact());
    assertEquals(java.util.List.of("cach"), terms.prefixes());
    assertEquals(0, Terms.of("").exact().size() + Terms.of(null).prefixes().size(), "a stop-word query: no terms");
  }

  @Test
  @DisplayName("words are stemmed with the configuration's Snowball stemmer: 'queries' and 'Query' match 'queri'")
  void stemming() {
    assertEquals("Slow <mark>queries</mark>: explain the <mark>Query</mark>, then cache it.",
        snippet("english", "'queri'", "Slow queries: explain the Query, then cache it."));
    assertEquals("<mark>Caching</mark> and <mark>cached</mark> pages; no cash.",
        snippet("english", "'cach':*", "Caching and cached pages; no cash."), "a prefix matches stems that start with it");
    assertEquals("<mark>running</mark> runs", snippet("simple", "'running'", "running runs"),
        "simple: lower-cased words, no stemming");
    assertEquals("<mark>utf8</mark> and utf", snippet("english", "'utf8'", "utf8 and utf"), "words with digits");
  }

  @Test
  @DisplayName("the text is HTML-escaped, so only the marks are markup")
  void escaped() {
    assertEquals("&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; <mark>kubernetes</mark> &#39;ok&#39; "
            + "&lt;mark&gt;fake&lt;/mark&gt;",
        snippet("english", "'kubernet'", "<script>alert(\"x\")</script> & kubernetes 'ok' <mark>fake</mark>"));
    assertEquals("(<mark>kubernetes</mark>).", snippet("english", "'kubernet'", "(kubernetes)."), "text around words");
    assertEquals("&lt;&lt; &gt;&gt;", snippet("english", "'kubernet'", "  <<  >>  "), "a text without words");
  }

  @Test
  @DisplayName("a long text is cut to 30 words from five before the first match, with ... where it was cut")
  void window() {
    String text = IntStream.range(0, 100).mapToObj(i -> i == 50 ? "needle" : "w" + i).collect(Collectors.joining(" "));
    String expected = "... " + IntStream.range(45, 75).mapToObj(i -> i == 50 ? "<mark>needle</mark>" : "w" + i)
        .collect(Collectors.joining(" ")) + " ...";
    assertEquals(expected, snippet("english", "'needl'", text));
    assertEquals("<mark>needle</mark> at the start, whitespace and newlines made single spaces.",
        snippet("english", "'needl'", "needle at the start,   whitespace\tand\nnewlines made single spaces."));
    String noMatch = IntStream.range(0, 40).mapToObj(i -> "w" + i).collect(Collectors.joining(" "));
    assertEquals(IntStream.range(0, 30).mapToObj(i -> "w" + i).collect(Collectors.joining(" ")) + " ...",
        snippet("english", "'absent'", noMatch), "no word found: the start of the text");
    String deep = "w ".repeat(Snippets.SCANNED_WORDS) + "needle";
    assertEquals("w ".repeat(Snippets.MAX_WORDS).strip() + " ...", snippet("english", "'needl'", deep),
        "a match past the words searched: the start of the text");
  }
}
