package io.claudememory.database;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.claudememory.platform.db.DbTarget;
import io.claudememory.platform.db.Migrations;
import io.claudememory.support.ExternalDatabases;
import io.claudememory.support.TestDatabase;
import io.vertx.core.Vertx;
import io.vertx.pgclient.PgBuilder;
import io.vertx.sqlclient.Pool;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

@DisplayName("Table sync: makes a target table equal to the source, batch by batch")
class TableSyncTest {
  static TestDatabase.Scope scope;
  static Vertx vertx;

  @BeforeAll
  static void start() {
    scope = TestDatabase.create();
    vertx = Vertx.vertx();
  }

  @AfterAll
  static void stop() throws Exception {
    vertx.close().await(10, TimeUnit.SECONDS);
    scope.drop();
  }

  private static void sql(DbTarget db, String statement) throws Exception {
    try (Connection c = TestDatabase.connect(db); Statement s = c.createStatement()) {
      s.execute(statement);
    }
  }

  private static String digest(DbTarget db) throws Exception {
    try (Connection c = TestDatabase.connect(db); Statement s = c.createStatement();
         ResultSet rs = s.executeQuery("SELECT md5(string_agg(m::text, '|' ORDER BY id)) FROM messages m")) {
      rs.next();
      return rs.getString(1);
    }
  }

  @Test
  @DisplayName("a row replaced under a new key in another batch is written once the old one is gone, and extra rows go")
  void replacedRowAcrossBatches() throws Exception {
    DbTarget source = ExternalDatabases.create(scope).target();
    DbTarget target = ExternalDatabases.create(scope).target();
    Migrations.migrateTenant(source, "english");
    Migrations.migrateTenant(target, "english");
    String ids = "('00000000-0000-0000-0000-' || lpad(to_hex(n), 12, '0'))::uuid";
    for (DbTarget db : new DbTarget[] {source, target}) {
      sql(db, "INSERT INTO conversations (id, title) VALUES ('00000000-0000-0000-0000-00000000c0c0', 'c')");
    }
    sql(source, "INSERT INTO messages (id, conversation_id, seq, role, content) SELECT " + ids
        + ", '00000000-0000-0000-0000-00000000c0c0', n, 'user', 'm' || n FROM generate_series(1, 600) n");
    // The target lacks message 1 but holds message 601 with its seq, and an outdated 300.
    sql(target, "INSERT INTO messages (id, conversation_id, seq, role, content) SELECT " + ids
        + ", '00000000-0000-0000-0000-00000000c0c0', CASE WHEN n = 601 THEN 1 ELSE n END, 'user', "
        + "CASE WHEN n = 300 THEN 'old' ELSE 'm' || n END FROM generate_series(2, 601) n");

    Pool from = PgBuilder.pool().connectingTo(source.connectOptions()).using(vertx).build();
    Pool to = PgBuilder.pool().connectingTo(target.connectOptions()).using(vertx).build();
    try {
      TenantSchema schema = TenantSchema.read(to).await(10, TimeUnit.SECONDS);
      TenantSchema.Table messages = schema.tables().stream().filter(t -> t.name().equals("messages")).findFirst()
          .orElseThrow();
      java.util.List<String> order = schema.tables().stream().map(TenantSchema.Table::name).toList();
      assertTrue(order.indexOf("projects") < order.indexOf("conversations")
          && order.indexOf("conversations") < order.indexOf("messages")
          && order.indexOf("webhook_outbox") < order.indexOf("webhook_deliveries"), "parents come first: " + order);
      TableSync.Outcome outcome = new TableSync(messages, from, to).run().await(30, TimeUnit.SECONDS);
      assertEquals(0, outcome.conflicts(), "the second pass wrote the colliding batch");
      assertEquals(digest(source), digest(target), "the target equals the source");
      TableSync.Outcome again = new TableSync(messages, from, to).run().await(30, TimeUnit.SECONDS);
      assertEquals(new TableSync.Outcome(600, 0, 0, 0), again, "a pass over equal tables writes nothing");
    } finally {
      from.close();
      to.close();
    }
  }
}
