package io.claudememory.audit;

import io.claudememory.platform.http.Ids;
import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.SqlClient;
import io.vertx.sqlclient.Tuple;
import java.util.UUID;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Security events (logins, failures, token reuse, key changes, ...) in the master database. Written in the same
 * transaction as the change when there is one; {@link #recordQuietly} is for events whose loss must not fail the
 * request (a failed login still answers 401 if the audit insert fails).
 */
public final class SecurityAudit {
  private static final Logger LOG = LoggerFactory.getLogger(SecurityAudit.class);
  static final String INSERT = """
      INSERT INTO audit_events (id, user_id, actor_id, action, ip, request_id, details)
      VALUES ($1, $2, $3, $4, $5, $6, $7)""";

  /** Who made a request, for the trail: client address and request id. */
  public record Caller(String ip, String requestId) {}

  public Future<Void> record(SqlClient client, UUID userId, UUID actorId, String action, Caller caller,
      JsonObject details) {
    return client.preparedQuery(INSERT).execute(Tuple.from(new Object[] {Ids.newId(), userId, actorId, action,
        caller.ip(), caller.requestId(), details == null ? new JsonObject() : details})).mapEmpty();
  }

  public void recordQuietly(SqlClient client, UUID userId, String action, Caller caller, JsonObject details) {
    record(client, userId, userId, action, caller, details)
        .onFailure(err -> LOG.warn("audit event {} not recorded: {}", action, err.getMessage()));
  }
}
