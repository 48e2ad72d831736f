package io.claudememory.bench;

import io.claudememory.platform.crypto.SecretBox;
import io.claudememory.platform.db.DbTarget;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Base64;
import java.util.UUID;

/**
 * Bulk data written straight into one user's tenant database, logged in as the tenant's own role (its password
 * opened from the master registry with the MASTER_KEY the server was given, as TenancyTest does): conversations and
 * messages made by a single {@code INSERT ... SELECT generate_series}, far faster than the API. Each conversation is
 * one linear branch (parent = previous message, current leaf = the last), counters set, so the API serves the rows
 * as if they had been posted. The text is English sentences drawn from a topical vocabulary with a skewed (roughly
 * Zipf-like) word frequency, so common words hit many rows and rare ones few, as in real chat history.
 */
final class TenantSeed {
  private TenantSeed() {}

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
   * 40 words), all in one statement per table, then ANALYZE. Returns the number of messages inserted.
   */
  static long seed(DbTarget tenant, int conversations, int perConversation) throws SQLException {
    StringBuilder words = new StringBuilder("ARRAY[");
    for (int i = 0; i < WORDS.length; i++) {
      words.append(i == 0 ? "" : ",").append('\'').append(WORDS[i]).append('\'');
    }
    words.append("]::text[]");
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
          + "(SELECT string_agg(w.words[1 + k * 0 + floor(power(random(), 2.5) * array_length(w.words, 1))::int], "
          + "' ') || '.' FROM generate_series(1, 8 + (i * 7919) % 33) k), "
          + "now() - (" + total + " - i) * interval '1 second' "
          + "FROM generate_series(0, " + (total - 1) + ") i, (SELECT " + words + " AS words) w");
      s.execute("ANALYZE conversations");
      s.execute("ANALYZE messages");
      return inserted;
    }
  }

  static Connection connect(DbTarget target) throws SQLException {
    return DriverManager.getConnection(target.jdbcUrl(), target.user(), target.password());
  }
}
