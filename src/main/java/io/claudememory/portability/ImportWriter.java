package io.claudememory.portability;

import static io.claudememory.portability.RowStream.await;

import io.claudememory.audit.DataAudit;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.RowSet;
import io.vertx.sqlclient.SqlConnection;
import io.vertx.sqlclient.Transaction;
import io.vertx.sqlclient.Tuple;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;

/**
 * Writes imported items into the tenant database, each conversation (with all its messages) in one transaction, so
 * a conversation is there whole or not at all. A source id already claimed in {@code import_sources} (or, for native
 * bundles, an id already present) means the item was imported before: it is skipped. Blocking, for job threads.
 */
final class ImportWriter {
  static final int BATCH = 500;
  private final Pool pool;

  ImportWriter(Pool pool) {
    this.pool = pool;
  }

  /** Supplies a native conversation's messages, in seq order; null after its last. */
  interface MessageFeed {
    JsonObject next() throws Exception;
  }

  /** The local id of an imported project, creating it unless imported before; {@code created} says which. */
  record ProjectId(UUID id, boolean created) {}

  ProjectId project(String source, JsonObject p) throws Exception {
    return inTransaction(conn -> {
      UUID id = UUID.randomUUID();
      RowSet<Row> claimed = await(conn.preparedQuery(ImportSql.CLAIM_SOURCE)
          .execute(Tuple.of(source, "project", p.getString("sourceId"), id)));
      if (claimed.size() == 0) {
        Row row = await(conn.preparedQuery(ImportSql.SOURCE_LOCAL_ID)
            .execute(Tuple.of(source, "project", p.getString("sourceId")))).iterator().next();
        return new ProjectId(row.getUUID(0), false);
      }
      await(conn.preparedQuery(ImportSql.INSERT_PROJECT).execute(Tuple.of(id, p.getString("name"),
          p.getString("description"), p.getString("instructions"), time(p.getInstant("createdAt")),
          time(p.getInstant("updatedAt")))));
      await(DataAudit.write(conn, "project.imported", "project", id, new JsonObject().put("source", source)));
      return new ProjectId(id, true);
    });
  }

  /** Messages written, or -1 when the conversation was imported before. */
  long conversation(Imported c, UUID projectId) throws Exception {
    return inTransaction(conn -> {
      UUID id = UUID.randomUUID();
      if (await(conn.preparedQuery(ImportSql.CLAIM_SOURCE).execute(Tuple.of(c.source(), "conversation",
          c.sourceId(), id))).size() == 0) {
        return -1L;
      }
      long lastSeq = c.messages().size();
      Instant lastActivity = c.messages().stream().map(Imported.Message::createdAt).max(Instant::compareTo)
          .filter(t -> t.isAfter(c.updatedAt())).orElse(c.updatedAt());
      await(conn.preparedQuery(ImportSql.INSERT_CONVERSATION).execute(Tuple.from(new Object[] {id, projectId,
          c.title(), c.model(), c.archived(), c.summary(), c.currentLeafId(), c.messages().size(), lastSeq,
          time(lastActivity), time(c.createdAt())})));
      List<Tuple> batch = new ArrayList<>();
      for (Imported.Message m : c.messages()) {
        batch.add(Tuple.from(new Object[] {m.id(), id, m.parentId(), m.seq(), m.role(), m.content(),
            blocks(m.blocks()), m.model(), m.stopReason(), m.usage(), time(m.createdAt())}));
        if (batch.size() == BATCH) {
          await(conn.preparedQuery(ImportSql.INSERT_MESSAGE).executeBatch(batch));
          batch = new ArrayList<>();
        }
      }
      if (!batch.isEmpty()) {
        await(conn.preparedQuery(ImportSql.INSERT_MESSAGE).executeBatch(batch));
      }
      await(DataAudit.write(conn, "conversation.imported", "conversation", id, new JsonObject()
          .put("source", c.source()).put("sourceId", c.sourceId()).put("messages", c.messages().size())));
      return (long) c.messages().size();
    });
  }

  boolean nativeProject(JsonObject line) throws Exception {
    return inTransaction(conn -> await(conn.preparedQuery(ImportSql.NATIVE_PROJECT).execute(Tuple.of(line)))
        .size() > 0);
  }

  /** Messages written, or -1 when a conversation with this id is already there (its messages are then drained). */
  long nativeConversation(JsonObject line, MessageFeed feed) throws Exception {
    long written = inTransaction(conn -> {
      if (await(conn.preparedQuery(ImportSql.NATIVE_CONVERSATION).execute(Tuple.of(line))).size() == 0) {
        return -1L;
      }
      long n = 0;
      JsonArray batch = new JsonArray();
      for (JsonObject m = feed.next(); m != null; m = feed.next()) {
        batch.add(m);
        if (batch.size() == BATCH) {
          await(conn.preparedQuery(ImportSql.NATIVE_MESSAGES).execute(Tuple.of(batch)));
          n += batch.size();
          batch = new JsonArray();
        }
      }
      if (!batch.isEmpty()) {
        await(conn.preparedQuery(ImportSql.NATIVE_MESSAGES).execute(Tuple.of(batch)));
        n += batch.size();
      }
      await(DataAudit.write(conn, "conversation.imported", "conversation", UUID.fromString(line.getString("id")),
          new JsonObject().put("source", "native").put("messages", n)));
      return n;
    });
    if (written < 0) {
      while (feed.next() != null) {
        // the conversation was imported before: its messages are passed over
      }
    }
    return written;
  }

  private interface Work<T> {
    T run(SqlConnection conn) throws Exception;
  }

  private <T> T inTransaction(Work<T> work) throws Exception {
    SqlConnection conn = await(pool.getConnection());
    try {
      Transaction tx = await(conn.begin());
      try {
        T result = work.run(conn);
        await(tx.commit());
        return result;
      } catch (Exception e) {
        tx.rollback();
        throw e;
      }
    } finally {
      conn.close();
    }
  }

  private static OffsetDateTime time(Instant instant) {
    return instant == null ? null : instant.atOffset(ZoneOffset.UTC);
  }

  private static Object blocks(Object blocks) {
    return blocks instanceof JsonObject || blocks instanceof JsonArray ? blocks : null;
  }
}
