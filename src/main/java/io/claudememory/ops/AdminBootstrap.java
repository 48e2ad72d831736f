package io.claudememory.ops;

import io.claudememory.audit.SecurityAudit;
import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Tuple;
import java.util.Locale;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The first admin: at start-up, the account whose email is {@code ADMIN_EMAIL} is given the admin role, with the same
 * security audit event as {@code scripts/create-admin} (no actor: the operator granted it). Registration never grants
 * it, so the operator registers that account first (or runs {@code scripts/create-admin}).
 */
public final class AdminBootstrap {
  private static final Logger LOG = LoggerFactory.getLogger(AdminBootstrap.class);
  static final String PROMOTE = """
      UPDATE users SET role = 'admin', updated_at = now() WHERE email_key = $1 AND role <> 'admin' RETURNING id""";
  static final String EXISTS = "SELECT 1 FROM users WHERE email_key = $1";
  /** The event {@code scripts/create-admin} writes too. */
  private static final String GRANTED = "admin.granted_by_operator";
  private static final SecurityAudit.Caller NO_REQUEST = new SecurityAudit.Caller(null, null);

  private AdminBootstrap() {}

  /** Never fails start-up: a missing account is logged with what to do. */
  public static Future<Void> promote(Pool master, SecurityAudit audit, String adminEmail) {
    if (adminEmail == null) {
      return Future.succeededFuture();
    }
    String key = adminEmail.toLowerCase(Locale.ROOT);
    return master.withTransaction(conn -> conn.preparedQuery(PROMOTE).execute(Tuple.of(key))
        .compose(rows -> rows.size() == 0 ? Future.succeededFuture(false)
            : audit.record(conn, rows.iterator().next().getUUID("id"), null, GRANTED, NO_REQUEST,
                new JsonObject().put("by", "ADMIN_EMAIL")).map(true)))
        .compose(promoted -> {
          if (promoted) {
            LOG.info("ADMIN_EMAIL: {} is now an admin", adminEmail);
            return Future.succeededFuture();
          }
          return master.preparedQuery(EXISTS).execute(Tuple.of(key)).map(found -> {
            if (found.size() == 0) {
              LOG.warn("ADMIN_EMAIL: no account {} yet; register it, then restart (or run scripts/create-admin)",
                  adminEmail);
            }
            return null;
          });
        }).<Void>mapEmpty().recover(err -> {
          LOG.warn("ADMIN_EMAIL: could not promote {}: {}", adminEmail, err.getMessage());
          return Future.succeededFuture();
        });
  }
}
