package io.claudememory.conversations;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * A user's search text split into words (runs of letters and digits; everything else separates), ready for
 * {@link SearchSql}: the leading words for {@code plainto_tsquery}, the last as a {@code to_tsquery} prefix term.
 * Since a word holds only letters and digits, it cannot carry tsquery operators.
 */
record SearchQuery(String leading, String lastPrefix) {
  static final int MAX_WORDS = 32;

  /** Null when the text has no word. */
  static SearchQuery parse(String text) {
    List<String> words = new ArrayList<>();
    for (String word : text.toLowerCase(Locale.ROOT).split("[^\\p{L}\\p{N}]+")) {
      if (!word.isEmpty() && words.size() < MAX_WORDS) {
        words.add(word);
      }
    }
    if (words.isEmpty()) {
      return null;
    }
    String last = words.remove(words.size() - 1);
    return new SearchQuery(String.join(" ", words), last + ":*");
  }
}
