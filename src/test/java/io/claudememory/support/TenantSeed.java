package io.claudememory.support;

import io.claudememory.platform.db.TenantPools;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.Tuple;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.TimeUnit;

/**
 * Writes projects, conversations and messages straight into a user's tenant database (through the node's own tenant
 * pools), for tests of capabilities that read them before the data-plane routes exist; and reads them back.
 */
public final class TenantSeed {
  private final TenantPools pools;
  private final UUID user;

  public TenantSeed(TestServer server, UUID user) {
    this.pools = server.app().tenantPools();
    this.user = user;
  }

  /** A message as stored. */
  public record Msg(UUID id, UUID parentId, long seq, String role, String content, String stopReason,
      JsonObject usage, Object blocks, String model) {}

  public UUID project(String name, String instructions) {
    UUID id = UUID.randomUUID();
    run("INSERT INTO projects (id, name, instructions) VALUES ($1, $2, $3)", Tuple.of(id, name, instructions));
    return id;
  }

  public UUID conversation(UUID projectId, String title, String systemPrompt) {
    UUID id = UUID.randomUUID();
    run("INSERT INTO conversations (id, project_id, title, system_prompt) VALUES ($1, $2, $3, $4)",
        Tuple.of(id, projectId, title, systemPrompt));
    return id;
  }

  /** Appends a message under {@code parentId} with the next seq, and makes it the current leaf. */
  public UUID message(UUID conversation, UUID parentId, String role, String content) {
    return message(conversation, parentId, role, content, null, null, null);
  }

  public UUID message(UUID conversation, UUID parentId, String role, String content, String model, JsonObject usage,
      OffsetDateTime createdAt) {
    UUID id = UUID.randomUUID();
    await(pools.withPool(user, pool -> pool.withTransaction(c -> c.preparedQuery(
        "UPDATE conversations SET last_seq = last_seq + 1, current_leaf_id = $2, message_count = message_count + 1 "
            + "WHERE id = $1 RETURNING last_seq").execute(Tuple.of(conversation, id))
        .compose(rows -> c.preparedQuery("INSERT INTO messages (id, conversation_id, parent_id, seq, role, content, "
                + "model, usage, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, coalesce($9, now()))")
            .execute(Tuple.tuple().addValue(id).addValue(conversation).addValue(parentId)
                .addValue(rows.iterator().next().getLong(0)).addValue(role).addValue(content).addValue(model)
                .addValue(usage).addValue(createdAt))))));
    return id;
  }

  public void summary(UUID conversation, String summary, long throughSeq) {
    run("UPDATE conversations SET summary = $2, summary_through_seq = $3 WHERE id = $1",
        Tuple.of(conversation, summary, throughSeq));
  }

  public void run(String sql, Tuple args) {
    await(pools.withPool(user, pool -> pool.preparedQuery(sql).execute(args)));
  }

  public List<Msg> messages(UUID conversation) {
    return await(pools.withPool(user, pool -> pool.preparedQuery("SELECT id, parent_id, seq, role, content, "
        + "stop_reason, usage, blocks, model FROM messages WHERE conversation_id = $1 ORDER BY seq")
        .execute(Tuple.of(conversation)).map(rows -> {
          List<Msg> list = new ArrayList<>();
          rows.forEach(r -> list.add(new Msg(r.getUUID("id"), r.getUUID("parent_id"), r.getLong("seq"),
              r.getString("role"), r.getString("content"), r.getString("stop_reason"),
              (JsonObject) r.getValue("usage"), r.getValue("blocks"), r.getString("model"))));
          return list;
        })));
  }

  public Row conversationRow(UUID conversation) {
    return await(pools.withPool(user, pool -> pool.preparedQuery("SELECT * FROM conversations WHERE id = $1")
        .execute(Tuple.of(conversation)).map(rows -> rows.iterator().next())));
  }

  private static <T> T await(io.vertx.core.Future<T> future) {
    try {
      return future.await(30, TimeUnit.SECONDS);
    } catch (Exception e) {
      throw new IllegalStateException("seeding failed: " + e.getMessage(), e);
    }
  }
}
