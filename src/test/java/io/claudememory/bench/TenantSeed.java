package io.claudememory.bench;

import io.claudememory.platform.crypto.SecretBox;
import io.claudememory.platform.db.DbTarget;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Locale;
import java.util.UUID;
import java.util.stream.Collectors;

/**
 * Bulk data written straight into one user's tenant database, logged in as the tenant's own role (its password
 * opened from the master registry with the MASTER_KEY the server was given, as TenancyTest does): conversations and
 * messages made by a single {@code INSERT ... SELECT generate_series}, far faster than the API. Each conversation is
 * one linear branch (parent = previous message, current leaf = the last), counters set, so the API serves the rows
 * as if they had been posted. The text is words drawn from a topical vocabulary, common words first, in one of two
 * {@link Corpus corpora}.
 */
final class TenantSeed {
  private TenantSeed() {}

  /** How the words of a message are drawn. */
  enum Corpus {
    /**
     * From the {@link #WORDS} alone, index {@code floor(n * u^2.5)} for uniform {@code u}: a small vocabulary in
     * which every word is frequent (the rarest is in about 3.5% of 100,000 messages), the hardest case for a search
     * that ranks the newest matches, since every query word has thousands.
     */
    DENSE,
    /**
     * Zipf's law as natural text has it: {@value #ZIPF_VOCABULARY} words, the {@link #WORDS} first, then made-up
     * ones; rank {@code floor(n^u)}, so a word's frequency falls as one over its rank. The words of the search mix
     * are then in about 1% to 4% of 100,000 messages: too many for the GIN index to fetch cheaply, too few for a
     * walk of the newest messages to find a window of them soon.
     */
    ZIPF;

    static Corpus of(String name) {
      try {
        return valueOf(name.toUpperCase(Locale.ROOT));
      } catch (IllegalArgumentException e) {
        throw new IllegalArgumentException("--search-corpus is dense or zipf, not " + name, e);
      }
    }
  }

  private static final int ZIPF_VOCABULARY = 30_000;

  /** Common words first: the draw below favours low indexes. Technical chat vocabulary, stop words included. */
  private static final String[] WORDS = ("the a to and of is in that it for you this with on be can are as if "
      + "your we not or but have do will use so what how at by from an one when then there which would should "
      + "need want make like just also about more some function code data file error database query server "
      + "request response user test value type list string table index network memory time issue change update "
      + "config build project version install run process thread cache key log message system model search result "
      + "page api service client session token password account email backup deploy release branch merge commit "
      + "review design document schema migration column row transaction lock timeout retry queue worker job "
      + "event stream socket handler router route parameter header cookie browser mobile android kotlin java "
      + "python rust javascript typescript react component state hook render style layout font color image video "
      + "audio upload download export import format json yaml csv markdown report chart metric dashboard alert "
      + "monitor trace latency throughput benchmark profile optimize performance scale cluster node replica "
      + "shard partition vacuum analyze explain planner statistics histogram percentile average median budget "
      + "invoice customer order product inventory shipping payment refund subscription pricing discount coupon "
      + "recipe garden weather travel flight hotel museum history philosophy poetry novel chapter character "
      + "mountain river ocean forest desert island village castle bridge harbour lighthouse orchard vineyard "
      + "telescope galaxy nebula comet asteroid quantum entropy photon neutrino algorithm theorem lemma proof "
      + "integral matrix vector tensor gradient regression classifier embedding transformer attention tokenizer "
      + "kubernetes terraform ansible nginx postgres redis kafka rabbitmq elasticsearch grafana prometheus "
      + "zeppelin xylophone quixotic serendipity ephemeral labyrinth").split(" ");

  /** The user's active tenant database, logged in as its own role. */
  static DbTarget tenantTarget(DbTarget master, String masterKeyBase64, String userId) throws SQLException {
    try (Connection c = connect(master);
         PreparedStatement s = c.prepareStatement(
             "SELECT id, database, username, password_sealed FROM tenant_databases WHERE user_id = ? AND active")) {
      s.setObject(1, UUID.fromString(userId));
      try (ResultSet rs = s.executeQuery()) {
        if (!rs.next()) {
          throw new IllegalStateException("no active tenant database for user " + userId);
        }
        String password = new SecretBox(Base64.getDecoder().decode(masterKeyBase64))
            .open(rs.getString("password_sealed"), rs.getString("id"));
        return master.withDatabase(rs.getString("database")).withLogin(rs.getString("username"), password);
      }
    }
  }

  /**
   * {@code conversations} conversations of {@code perConversation} messages each (alternating user/assistant, 8 to
   * 40 words), all in one statement per table, then VACUUM ANALYZE, as a database in use would have had (and so that
   * autovacuum, woken by the inserts, does not run during the measurements). Returns the number of messages inserted.
   */
  static long seed(DbTarget tenant, int conversations, int perConversation, Corpus corpus) throws SQLException {
    String words = array(List.of(WORDS));
    String vocabulary = corpus == Corpus.DENSE ? words : array(zipfVocabulary());
    String draw = corpus == Corpus.DENSE ? "floor(power(random(), 2.5) * array_length(w.words, 1))::int + 1"
        : "floor(power(array_length(w.words, 1), random()))::int";
    int total = conversations * perConversation;
    try (Connection c = connect(tenant); Statement s = c.createStatement()) {
      s.execute("INSERT INTO conversations (id, title, message_count, last_seq, current_leaf_id, last_activity_at) "
          + "SELECT md5('bench-c' || n)::uuid, 'Seeded ' || (" + words + ")[1 + (n * 37) % " + WORDS.length
          + "] || ' notes ' || n, " + perConversation + ", " + perConversation + ", md5('bench-m' || (n * "
          + perConversation + " + " + (perConversation - 1) + "))::uuid, now() - n * interval '1 minute' "
          + "FROM generate_series(0, " + (conversations - 1) + ") n");
      long inserted = s.executeLargeUpdate(
          "INSERT INTO messages (id, conversation_id, parent_id, seq, role, content, created_at) "
          + "SELECT md5('bench-m' || i)::uuid, md5('bench-c' || (i / " + perConversation + "))::uuid, "
          + "CASE WHEN i % " + perConversation + " = 0 THEN NULL ELSE md5('bench-m' || (i - 1))::uuid END, "
          + "i % " + perConversation + " + 1, CASE WHEN i % 2 = 0 THEN 'user' ELSE 'assistant' END, "
          + "(SELECT string_agg(w.words[k * 0 + " + draw + "], ' ') || '.' "
          + "FROM generate_series(1, 8 + (i * 7919) % 33) k), now() - (" + total + " - i) * interval '1 second' "
          + "FROM generate_series(0, " + (total - 1) + ") i, (SELECT " + vocabulary + " AS words) w");
      s.execute("VACUUM ANALYZE conversations");
      s.execute("VACUUM ANALYZE messages");
      return inserted;
    }
  }

  /** The {@link #WORDS}, then made-up words of two-letter syllables ("lox", "kalox"...) up to the vocabulary. */
  private static List<String> zipfVocabulary() {
    String[] syllables = {"ka", "lo", "mi", "ne", "ru", "ta", "vo", "zi", "pe", "sa", "do", "fu", "gi", "ha", "ju",
        "be"};
    List<String> words = new ArrayList<>(List.of(WORDS));
    for (int n = 1; words.size() < ZIPF_VOCABULARY; n++) {
      StringBuilder word = new StringBuilder();
      for (int rest = n; rest > 0; rest /= syllables.length) {
        word.append(syllables[rest % syllables.length]);
      }
      words.add(word.append('x').toString());
    }
    return words;
  }

  private static String array(List<String> words) {
    return words.stream().map(w -> "'" + w + "'").collect(Collectors.joining(",", "ARRAY[", "]::text[]"));
  }

  static Connection connect(DbTarget target) throws SQLException {
    return DriverManager.getConnection(target.jdbcUrl(), target.user(), target.password());
  }
}
