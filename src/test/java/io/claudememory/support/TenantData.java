package io.claudememory.support;

import io.claudememory.platform.db.DbTarget;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.UUID;

/**
 * A user's tenant data written and read over JDBC (the data-plane routes live elsewhere): a realistic account to
 * seed (projects, conversations with branches, usage, summaries) and a dump of every row to compare two accounts.
 */
public final class TenantData {
  private TenantData() {}

  /** The user's managed tenant database, as the test superuser sees it. */
  public static DbTarget of(TestServer server, UUID userId) {
    return ExternalDatabases.managed(server, userId);
  }

  /**
   * Two projects (one archived), three conversations: one with a regenerated answer (two branches) whose current
   * leaf is on the first branch, a summary and tags; one archived and pinned outside any project; one in the second
   * project. Returns the id of the branched conversation.
   */
  public static UUID seedAccount(DbTarget db) {
    UUID p1 = UUID.randomUUID();
    UUID p2 = UUID.randomUUID();
    UUID c1 = UUID.randomUUID();
    UUID c2 = UUID.randomUUID();
    UUID c3 = UUID.randomUUID();
    UUID m1 = UUID.randomUUID();
    UUID m2 = UUID.randomUUID();
    UUID m2b = UUID.randomUUID();
    UUID m3 = UUID.randomUUID();
    String sql = """
        INSERT INTO projects (id, name, description, instructions, archived, created_at, updated_at) VALUES
          ('%1$s', 'Travel', 'Trips "and" plans', 'Answer briefly.', false, '2025-01-02T03:04:05.123456Z', now()),
          ('%2$s', 'Old, archived', NULL, NULL, true, '2024-05-06T07:08:09Z', '2024-06-01T00:00:00Z');
        INSERT INTO conversations (id, project_id, title, model, system_prompt, tags, pinned, archived, summary,
          summary_through_seq, current_leaf_id, message_count, last_seq, last_activity_at, created_at, updated_at)
        VALUES
          ('%3$s', '%1$s', 'Lisbon, 3 days', 'claude-sonnet-4-5', 'Be concise', '{travel,"with space"}', false,
           false, 'They plan Lisbon.', 2, '%6$s', 4, 4, '2025-03-01T09:10:00Z', '2025-03-01T09:00:00.000001Z',
           '2025-03-01T09:10:00Z'),
          ('%4$s', NULL, NULL, NULL, NULL, '{}', true, true, NULL, NULL, NULL, 0, 0, now(), now(), now()),
          ('%5$s', '%2$s', 'Ünïcödé ✓ title', 'claude-opus-4-1', NULL, '{}', false, false, NULL, NULL, NULL, 1, 1,
           now(), now(), now());
        INSERT INTO messages (id, conversation_id, parent_id, seq, role, content, blocks, model, stop_reason, usage,
          created_at) VALUES
          ('%7$s', '%3$s', NULL, 1, 'user', 'Plan 3 days in Lisbon', NULL, NULL, NULL, NULL,
           '2025-03-01T09:00:00.5Z'),
          ('%8$s', '%3$s', '%7$s', 2, 'assistant', 'Day 1: Alfama, "quoted", and a comma', '[{"type": "text",
           "text": "Day 1"}]', 'claude-sonnet-4-5', 'end_turn', '{"input_tokens": 12, "output_tokens": 345}',
           '2025-03-01T09:00:20Z'),
          ('%9$s', '%3$s', '%7$s', 3, 'assistant', 'A regenerated answer
        over two lines', NULL, 'claude-sonnet-4-5', 'max_tokens', '{"input_tokens": 12, "output_tokens": 1}',
           '2025-03-01T09:01:00Z'),
          ('%6$s', '%3$s', '%8$s', 4, 'user', 'Thanks! And day 2?', NULL, NULL, NULL, NULL, '2025-03-01T09:10:00Z'),
          ('%10$s', '%5$s', NULL, 1, 'user', 'Hello ✓', NULL, NULL, NULL, NULL, now());
        """.formatted(p1, p2, c1, c2, c3, m3, m1, m2, m2b, UUID.randomUUID());
    try (Connection c = TestDatabase.connect(db); Statement s = c.createStatement()) {
      s.execute(sql);
    } catch (SQLException e) {
      throw new IllegalStateException("could not seed: " + e.getMessage(), e);
    }
    return c1;
  }

  /** Every row of projects, conversations and messages (generated columns left out), in id order. */
  public static JsonObject dump(DbTarget db) {
    JsonObject all = new JsonObject();
    for (String table : new String[] {"projects", "conversations", "messages"}) {
      all.put(table, query(db, "SELECT (to_jsonb(t) - 'search')::text FROM " + table + " t ORDER BY id"));
    }
    return all;
  }

  public static JsonArray query(DbTarget db, String sql) {
    JsonArray rows = new JsonArray();
    try (Connection c = TestDatabase.connect(db); Statement s = c.createStatement();
         ResultSet rs = s.executeQuery(sql)) {
      while (rs.next()) {
        String text = rs.getString(1);
        rows.add(text != null && text.startsWith("{") ? new JsonObject(text) : text);
      }
    } catch (SQLException e) {
      throw new IllegalStateException("query failed: " + e.getMessage(), e);
    }
    return rows;
  }

  public static long count(DbTarget db, String table) {
    return ExternalDatabases.count(db, table);
  }
}
