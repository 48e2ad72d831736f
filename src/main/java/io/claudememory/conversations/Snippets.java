package io.claudememory.conversations;

import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.tartarus.snowball.SnowballStemmer;

/**
 * Search snippets, built in the node from a hit's text: up to {@value #MAX_WORDS} words from shortly before the first
 * word that matches, HTML-escaped, each matching word in {@code <mark>...</mark>}, with {@code ...} where text was cut.
 * A client may insert a snippet into a page as HTML. With no match in the first {@value #SCANNED_WORDS} words, the
 * snippet is the start of the text.
 *
 * <p>Why not {@code ts_headline}: it parses the whole text again for every hit, in the tenant database (about 15 µs
 * for a 25-word message and growing with the text, so a page of long answers cost milliseconds of database time per
 * search), and it returned the text unescaped: a message holding markup reached clients that render the marks.
 *
 * <p>Matching mirrors the database. The query's lexemes come from PostgreSQL (its tsquery as text, stemmed with the
 * tenant's configuration); each word of the text is stemmed by the Snowball stemmer of the configuration's name, the
 * algorithm PostgreSQL's snowball dictionaries run. Words are runs of letters and digits; a word holding a digit is
 * not stemmed (PostgreSQL sends those to its simple dictionary). A configuration with no stemmer of its name
 * ({@code simple}, or a custom one) compares lower-cased words. Marks are presentation only: where PostgreSQL's parser
 * cuts text otherwise (host names, e-mail addresses) a word may go unmarked, and a stop word may be marked when it
 * starts with a prefix being typed. Which messages match is decided by the database alone.
 */
final class Snippets {
  static final int MAX_WORDS = 30;
  /** Words shown before the first match, so it is read in context. */
  static final int LEAD_WORDS = 5;
  /**
   * Words searched for the first match: a 100,000-character message has some 15,000, and a page holds 50 hits, all
   * on an event loop. Past this, the snippet is the start of the text.
   */
  static final int SCANNED_WORDS = 5_000;

  private static final Pattern TSQUERY_TERM = Pattern.compile("'((?:[^']|'')*)'(:\\*)?");
  private static final Map<String, Optional<MethodHandle>> STEMMERS = new ConcurrentHashMap<>();
  private static final int STEMS_KEPT = 10_000;
  /** Per thread, since a stemmer holds state: the event loops' few threads each keep their own. */
  private static final ThreadLocal<Map<String, Stems>> STEMS = ThreadLocal.withInitial(HashMap::new);

  private Snippets() {}

  /** A query's lexemes, read from PostgreSQL's text form of a tsquery, such as {@code 'memori' & 'cach':*}. */
  record Terms(Set<String> exact, List<String> prefixes) {
    static Terms of(String tsquery) {
      Set<String> exact = new HashSet<>();
      List<String> prefixes = new ArrayList<>();
      Matcher m = TSQUERY_TERM.matcher(tsquery == null ? "" : tsquery);
      while (m.find()) {
        String lexeme = m.group(1).replace("''", "'");
        if (m.group(2) == null) {
          exact.add(lexeme);
        } else {
          prefixes.add(lexeme);
        }
      }
      return new Terms(exact, prefixes);
    }
  }

  /** A highlighter for the hits of one search, on the thread that asks for it. */
  static Highlighter highlighter(String language, Terms terms) {
    String name = language == null ? "" : language.toLowerCase(Locale.ROOT);
    return new Highlighter(STEMS.get().computeIfAbsent(name, Stems::new), terms);
  }

  private static Optional<MethodHandle> findStemmer(String name) {
    if (!name.matches("[a-z][a-z0-9]*")) {
      return Optional.empty();
    }
    try {
      Class<?> type = Class.forName("org.tartarus.snowball.ext." + Character.toUpperCase(name.charAt(0))
          + name.substring(1) + "Stemmer");
      return Optional.of(MethodHandles.publicLookup().findConstructor(type, MethodType.methodType(void.class)));
    } catch (ReflectiveOperationException e) {
      return Optional.empty();
    }
  }

  /**
   * A text-search configuration's stems of the words seen by this thread, word as written to lexeme: the same words
   * recur from search to search, and stemming is most of a snippet's work. At most {@value #STEMS_KEPT} words.
   */
  private static final class Stems {
    private final SnowballStemmer stemmer;
    private final Map<String, String> lexemes = new HashMap<>();

    Stems(String language) {
      Optional<MethodHandle> constructor = STEMMERS.computeIfAbsent(language, Snippets::findStemmer);
      try {
        stemmer = constructor.isEmpty() ? null : (SnowballStemmer) constructor.get().invoke();
      } catch (Throwable e) {
        throw new IllegalStateException("cannot create the " + language + " stemmer", e);
      }
    }

    String lexeme(String word) {
      String lexeme = lexemes.get(word);
      if (lexeme == null) {
        if (lexemes.size() >= STEMS_KEPT) {
          lexemes.clear();
        }
        lexeme = stem(word.toLowerCase(Locale.ROOT));
        lexemes.put(word, lexeme);
      }
      return lexeme;
    }

    private String stem(String lower) {
      if (stemmer == null || lower.chars().anyMatch(Character::isDigit)) {
        return lower;
      }
      stemmer.setCurrent(lower);
      stemmer.stem();
      return stemmer.getCurrent();
    }
  }

  static final class Highlighter {
    private final Stems stems;
    private final Terms terms;

    private Highlighter(Stems stems, Terms terms) {
      this.stems = stems;
      this.terms = terms;
    }

    String snippet(String text) {
      Words words = new Words(text);
      int first = -1;
      // read on to one word past the window, to know whether text was cut after it
      while ((first < 0 ? words.count() < SCANNED_WORDS : words.count() <= Math.max(0, first - LEAD_WORDS) + MAX_WORDS)
          && words.next()) {
        if (first < 0 && matches(words.last())) {
          first = words.count() - 1;
        }
      }
      int start = first < 0 ? 0 : Math.max(0, first - LEAD_WORDS);
      int end = Math.min(words.count(), start + MAX_WORDS);
      StringBuilder out = new StringBuilder(128);
      if (start > 0) {
        out.append("... ");
      } else { // what comes before the first word; all of a text without words
        separator(out, text, 0, end == 0 ? text.length() : words.start(0));
      }
      for (int i = start; i < end; i++) {
        if (i > start) {
          separator(out, text, words.end(i - 1), words.start(i));
        }
        String word = text.substring(words.start(i), words.end(i));
        boolean marked = matches(word);
        out.append(marked ? "<mark>" : "");
        escape(out, word);
        out.append(marked ? "</mark>" : "");
      }
      if (end < words.count()) {
        out.append(" ...");
      } else if (end > 0) {
        separator(out, text, words.end(end - 1), text.length());
      }
      return out.toString().strip();
    }

    private boolean matches(String word) {
      String lexeme = stems.lexeme(word);
      if (terms.exact().contains(lexeme)) {
        return true;
      }
      for (String prefix : terms.prefixes()) {
        if (lexeme.startsWith(prefix)) {
          return true;
        }
      }
      return false;
    }
  }

  /** The text between two words: escaped, any run of white space as one space (a snippet is one line). */
  private static void separator(StringBuilder out, String text, int from, int to) {
    boolean space = false;
    for (int i = from; i < to; i++) {
      char c = text.charAt(i);
      if (Character.isWhitespace(c)) {
        space = true;
      } else {
        out.append(space ? " " : "");
        space = false;
        escape(out, c);
      }
    }
    out.append(space ? " " : "");
  }

  private static void escape(StringBuilder out, String word) {
    for (int i = 0; i < word.length(); i++) {
      escape(out, word.charAt(i));
    }
  }

  private static void escape(StringBuilder out, char c) {
    switch (c) {
      case '&' -> out.append("&amp;");
      case '<' -> out.append("&lt;");
      case '>' -> out.append("&gt;");
      case '"' -> out.append("&quot;");
      case '\'' -> out.append("&#39;");
      default -> out.append(c);
    }
  }

  /** The words of a text (runs of letters and digits), found one at a time. */
  private static final class Words {
    private final String text;
    private int[] bounds = new int[64];
    private int count;
    private int at;

    Words(String text) {
      this.text = text;
    }

    /** Finds the next word; false at the end of the text. */
    boolean next() {
      skip(false);
      if (at >= text.length()) {
        return false;
      }
      int start = at;
      skip(true);
      if (2 * count + 2 > bounds.length) {
        bounds = Arrays.copyOf(bounds, bounds.length * 2);
      }
      bounds[2 * count] = start;
      bounds[2 * count + 1] = at;
      count++;
      return true;
    }

    /** Moves past the characters that are letters or digits, or past those that are not. */
    private void skip(boolean wordCharacters) {
      while (at < text.length()) {
        int c = text.codePointAt(at);
        if (Character.isLetterOrDigit(c) != wordCharacters) {
          return;
        }
        at += Character.charCount(c);
      }
    }

    int count() {
      return count;
    }

    int start(int i) {
      return bounds[2 * i];
    }

    int end(int i) {
      return bounds[2 * i + 1];
    }

    String last() {
      return text.substring(start(count - 1), end(count - 1));
    }
  }
}
