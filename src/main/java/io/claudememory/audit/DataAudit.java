package io.claudememory.audit;

import io.claudememory.platform.http.Ids;
import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.SqlClient;
import io.vertx.sqlclient.Tuple;
import java.util.UUID;

/**
 * Data changes in the tenant's {@code audit_events}, written on the connection of the change's own transaction, so
 * the trail and the data never disagree. Security events go to the master database instead ({@link SecurityAudit}).
 */
public final class DataAudit {
  static final String INSERT = """
      INSERT INTO audit_events (id, action, entity_type, entity_id, details) VALUES ($1, $2, $3, $4, $5)""";

  private DataAudit() {}

  /** Records {@code action} (e.g. {@code conversation.deleted}) on {@code entityType}/{@code entityId}. */
  public static Future<Void> write(SqlClient conn, String action, String entityType, UUID entityId,
      JsonObject details) {
    return conn.preparedQuery(INSERT).execute(Tuple.of(Ids.newId(), action, entityType, entityId,
        details == null ? new JsonObject() : details)).mapEmpty();
  }
}
