package io.claudememory.conversations;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

@DisplayName("Search text becomes words only: no user character reaches tsquery syntax")
class SearchQueryTest {

  @Test
  @DisplayName("the last word becomes a prefix term, the others stay plain words")
  void splitsWords() {
    assertEquals(new SearchQuery("drain kubernetes", "nod:*"), SearchQuery.parse("Drain Kubernetes nod"));
    assertEquals(new SearchQuery("", "kube:*"), SearchQuery.parse("  kube  "));
  }

  @Test
  @DisplayName("operators, quotes and punctuation separate words and vanish")
  void dropsSyntax() {
    assertEquals(new SearchQuery("a b c", "d:*"), SearchQuery.parse("a & b | !c <-> 'd':*"));
    assertEquals(new SearchQuery("", "élan:*"), SearchQuery.parse("(ÉLAN)"));
    assertNull(SearchQuery.parse("&|!:*()' "), "no word at all");
  }

  @Test
  @DisplayName("at most 32 words are kept")
  void boundsWords() {
    SearchQuery query = SearchQuery.parse("w ".repeat(100));
    assertEquals(31, query.leading().split(" ").length, "31 leading words and one prefix");
  }
}
