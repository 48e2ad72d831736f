package io.claudememory.support;

import io.claudememory.platform.http.Principal;
import io.claudememory.realtime.RoomGrant;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Tuple;
import java.util.UUID;
import java.util.concurrent.TimeUnit;

/**
 * Seeds conversations and messages straight into a user's tenant database (the REST data plane lives in another
 * capability), and sends messages through the node's {@code MessageWriter} as the REST POST does.
 */
public final class Conversations {
  private Conversations() {}

  public static UUID create(TestServer server, UUID owner) {
    UUID id = UUID.randomUUID();
    run(server, owner, "INSERT INTO conversations (id, title) VALUES ($1, 'test')", Tuple.of(id));
    return id;
  }

  /** Appends {@code count} messages as if written {@code ageSeconds} ago, allocating seqs as the writer does. */
  public static void seed(TestServer server, UUID owner, UUID conversation, int count, int ageSeconds) {
    run(server, owner, "WITH alloc AS (UPDATE conversations SET last_seq = last_seq + $2 WHERE id = $1 "
        + "RETURNING last_seq - $2 AS base) INSERT INTO messages (id, conversation_id, seq, role, content, created_at) "
        + "SELECT gen_random_uuid(), $1, alloc.base + g, 'user', 'seeded ' || (alloc.base + g), "
        + "now() - make_interval(secs => $3) FROM alloc, generate_series(1, $2) g",
        Tuple.of(conversation, count, ageSeconds));
  }

  /** Sends a message through the node's writer, as {@code POST /conversations/:id/messages} does. */
  public static JsonObject post(TestServer server, UUID owner, UUID conversation, String content) {
    try {
      return server.app().realtime().messages().send(new Principal(owner, "user", null),
          new RoomGrant(owner, conversation, true), content, null).await(30, TimeUnit.SECONDS);
    } catch (Exception e) {
      throw new IllegalStateException("posting a message failed: " + e.getMessage(), e);
    }
  }

  public static void run(TestServer server, UUID owner, String sql, Tuple args) {
    try {
      server.app().tenantPools().withPool(owner, pool -> pool.preparedQuery(sql).execute(args))
          .await(30, TimeUnit.SECONDS);
    } catch (Exception e) {
      throw new IllegalStateException(sql + " failed: " + e.getMessage(), e);
    }
  }

  public static long readPosition(TestServer server, UUID owner, UUID conversation, UUID reader) {
    try {
      return server.app().tenantPools().withPool(owner, pool -> pool
          .preparedQuery("SELECT seq FROM read_positions WHERE conversation_id = $1 AND user_id = $2")
          .execute(Tuple.of(conversation, reader))
          .map(rows -> rows.size() == 0 ? -1L : rows.iterator().next().getLong(0))).await(30, TimeUnit.SECONDS);
    } catch (Exception e) {
      throw new IllegalStateException(e.getMessage(), e);
    }
  }
}
