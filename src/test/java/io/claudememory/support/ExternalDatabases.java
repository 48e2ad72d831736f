package io.claudememory.support;

import io.claudememory.platform.db.DbTarget;
import io.claudememory.platform.db.TenantPools;
import io.vertx.core.json.JsonObject;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.UUID;
import java.util.concurrent.TimeUnit;

/**
 * "Bring-your-own" databases for tests: a login role and a database of its own on the test PostgreSQL server, named
 * under the scope's tenant prefix so that {@link TestDatabase.Scope#drop()} removes them. Also seeds and counts
 * tenant rows directly over JDBC (the data-plane routes live elsewhere).
 */
public final class ExternalDatabases {
  private ExternalDatabases() {}

  /** A database a user could bring: where it is and how to log in. */
  public record External(DbTarget target) {
    public String password() {
      return target.password();
    }

    /** The body of {@code POST /database} for it, with {@code name}. */
    public JsonObject body(String name) {
      return new JsonObject().put("name", name).put("host", target.host()).put("port", target.port())
          .put("database", target.database()).put("user", target.user()).put("password", target.password())
          .put("ssl", false);
    }
  }

  public static External create(TestDatabase.Scope scope) {
    String name = scope.tenantPrefix() + "byo" + UUID.randomUUID().toString().replace("-", "").substring(0, 8);
    String password = "pw-" + UUID.randomUUID();
    try (Connection c = TestDatabase.connect(TestDatabase.server()); Statement s = c.createStatement()) {
      s.execute("CREATE ROLE \"" + name + "\" LOGIN PASSWORD '" + password + "'");
      s.execute("GRANT \"" + name + "\" TO CURRENT_USER");
      s.execute("CREATE DATABASE \"" + name + "\" OWNER \"" + name + "\"");
    } catch (SQLException e) {
      throw new IllegalStateException("could not create an external test database: " + e.getMessage(), e);
    }
    DbTarget server = TestDatabase.server();
    return new External(new DbTarget(server.host(), server.port(), name, name, password, server.sslMode()));
  }

  /** The user's managed tenant database, as the test superuser sees it. */
  public static DbTarget managed(TestServer server, UUID userId) {
    return TestDatabase.server().withDatabase(server.scope().tenantPrefix() + userId.toString().replace("-", ""));
  }

  /** Inserts a project, {@code conversations} conversations and {@code messagesEach} messages in each. */
  public static void seed(DbTarget db, int conversations, int messagesEach) {
    try (Connection c = TestDatabase.connect(db); Statement s = c.createStatement()) {
      s.execute("""
          WITH p AS (INSERT INTO projects (id, name) VALUES (gen_random_uuid(), 'Seeded') RETURNING id),
          c AS (INSERT INTO conversations (id, project_id, title, tags)
                SELECT gen_random_uuid(), p.id, 'Conversation ' || n, ARRAY['seed', 'n' || n]
                FROM p, generate_series(1, %d) n RETURNING id)
          INSERT INTO messages (id, conversation_id, seq, role, content, blocks, usage)
          SELECT gen_random_uuid(), c.id, m, CASE WHEN m %% 2 = 0 THEN 'assistant' ELSE 'user' END,
                 'message ' || m || ' with ''quotes'' and unicode é ✓', jsonb_build_object('n', m),
                 '{"input_tokens": 3}'::jsonb
          FROM c, generate_series(1, %d) m""".formatted(conversations, messagesEach));
      // Branches: replies point at their parent, so the self-referencing key is exercised.
      s.execute("""
          UPDATE messages child SET parent_id = parent.id FROM messages parent
          WHERE parent.conversation_id = child.conversation_id AND parent.seq = child.seq - 1""");
    } catch (SQLException e) {
      throw new IllegalStateException("could not seed: " + e.getMessage(), e);
    }
  }

  public static long count(DbTarget db, String table) {
    try (Connection c = TestDatabase.connect(db); Statement s = c.createStatement();
         ResultSet rs = s.executeQuery("SELECT count(*) FROM " + table)) {
      rs.next();
      return rs.getLong(1);
    } catch (SQLException e) {
      throw new IllegalStateException("could not count " + table + ": " + e.getMessage(), e);
    }
  }

  /** Inserts one conversation through the node's tenant pools, i.e. the path every data route takes. */
  public static void writeThroughPools(TenantPools pools, UUID tenant) throws Exception {
    pools.withPool(tenant, pool -> pool.query(
            "INSERT INTO conversations (id, title) VALUES (gen_random_uuid(), 'written during the copy')").execute())
        .await(30, TimeUnit.SECONDS);
  }

  /** The name of the database the tenant's pool is connected to now. */
  public static String currentDatabase(TenantPools pools, UUID tenant) throws Exception {
    return pools.withPool(tenant, pool -> pool.query("SELECT current_database()").execute()
        .map(rows -> rows.iterator().next().getString(0))).await(30, TimeUnit.SECONDS);
  }
}
