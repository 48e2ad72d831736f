package io.claudememory.auth;

import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Row;
import java.time.OffsetDateTime;

/** The public shape of a user: never the hash, the token version or internal flags. */
final class Users {
  private Users() {}

  static JsonObject toJson(Row row) {
    OffsetDateTime created = row.getOffsetDateTime("created_at");
    return new JsonObject()
        .put("id", row.getUUID("id").toString())
        .put("email", row.getString("email"))
        .put("name", row.getString("name"))
        .put("username", row.getString("username"))
        .put("role", row.getString("role"))
        .put("createdAt", created.toInstant().toString());
  }
}
