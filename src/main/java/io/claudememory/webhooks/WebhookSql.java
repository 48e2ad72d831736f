package io.claudememory.webhooks;

/** The SQL of webhooks: subscriptions in the master database, outbox and deliveries in each tenant's. */
final class WebhookSql {
  private WebhookSql() {}

  static final String COLUMNS = """
      id, user_id, url, events, description, enabled, consecutive_failures, disabled_at, disabled_reason, created_at,
      updated_at""";
  static final String INSERT = "INSERT INTO webhooks (id, user_id, url, events, description, secret_sealed) "
      + "VALUES ($1, $2, $3, $4, $5, $6) RETURNING " + COLUMNS;
  static final String LIST = "SELECT " + COLUMNS + " FROM webhooks WHERE user_id = $1 ORDER BY created_at, id";
  static final String FIND = "SELECT " + COLUMNS + " FROM webhooks WHERE id = $1 AND user_id = $2";
  /** $3.. null leaves a field alone; $7 re-enables (and resets the failure count). */
  static final String UPDATE = """
      UPDATE webhooks SET url = coalesce($3, url), events = coalesce($4, events),
        description = CASE WHEN $5 THEN $6 ELSE description END,
        enabled = coalesce($7, enabled),
        consecutive_failures = CASE WHEN $7 THEN 0 ELSE consecutive_failures END,
        disabled_at = CASE WHEN $7 THEN NULL WHEN $7 = false THEN coalesce(disabled_at, now()) ELSE disabled_at END,
        disabled_reason = CASE WHEN $7 THEN NULL WHEN $7 = false THEN 'Disabled by its owner.' ELSE disabled_reason
          END,
        updated_at = now()
      WHERE id = $1 AND user_id = $2 RETURNING""" + " " + COLUMNS;
  static final String DELETE = "DELETE FROM webhooks WHERE id = $1 AND user_id = $2";

  /** What a drain needs of a tenant's subscriptions. */
  static final String FOR_DELIVERY = "SELECT id, url, events, secret_sealed, enabled FROM webhooks WHERE user_id = $1";
  static final String SUBSCRIBED_TENANTS = "SELECT DISTINCT user_id FROM webhooks WHERE enabled";
  static final String SUCCEEDED = "UPDATE webhooks SET consecutive_failures = 0 WHERE id = $1 AND "
      + "consecutive_failures <> 0";
  /**
   * Counts $5 failed attempts; disables past $2 failures in a row (or at once when $3, e.g. 410 Gone).
   * {@code just_disabled} is never null: a subscription never disabled has a null disabled_at, and null = now() is
   * null, which once made the drain fail before it had counted the other subscriptions' attempts.
   */
  static final String FAILED = """
      UPDATE webhooks SET consecutive_failures = consecutive_failures + $5,
        enabled = enabled AND NOT ($3 OR consecutive_failures + $5 >= $2),
        disabled_at = CASE WHEN enabled AND ($3 OR consecutive_failures + $5 >= $2) THEN now() ELSE disabled_at END,
        disabled_reason = CASE WHEN enabled AND ($3 OR consecutive_failures + $5 >= $2) THEN $4
          ELSE disabled_reason END
      WHERE id = $1
      RETURNING""" + " " + COLUMNS + ", coalesce(disabled_at = now(), false) AS just_disabled";

  // tenant side

  static final String PENDING_EVENTS = """
      SELECT id, type FROM webhook_outbox WHERE fanned_out_at IS NULL ORDER BY created_at LIMIT 200
      FOR UPDATE SKIP LOCKED""";
  static final String INSERT_DELIVERY = "INSERT INTO webhook_deliveries (id, event_id, webhook_id) VALUES ($1, $2, $3)";
  static final String MARK_FANNED_OUT = "UPDATE webhook_outbox SET fanned_out_at = now() WHERE id = ANY($1)";
  static final String INSERT_PING = "INSERT INTO webhook_outbox (id, type, data, fanned_out_at) "
      + "VALUES ($1, 'webhook.ping', $2, now())";

  /** Claims due deliveries: the lease ($1 seconds) keeps every other node off them while this one sends. */
  static final String CLAIM = """
      UPDATE webhook_deliveries d SET attempts = d.attempts + 1,
        next_attempt_at = now() + make_interval(secs => $1), updated_at = now()
      FROM webhook_outbox o
      WHERE o.id = d.event_id AND d.id IN (
        SELECT id FROM webhook_deliveries WHERE status = 'pending' AND next_attempt_at <= now()
        ORDER BY next_attempt_at LIMIT $2 FOR UPDATE SKIP LOCKED)
      RETURNING d.id, d.event_id, d.webhook_id, d.attempts, o.type, o.data, o.created_at""";
  static final String INSERT_ATTEMPT = """
      INSERT INTO webhook_attempts (id, delivery_id, attempt, node_id, status_code, error, succeeded, duration_ms)
      VALUES ($1, $2, $3, $4, $5, $6, $7, $8)""";
  /** $3: 'succeeded', 'pending' (next attempt in $6 seconds) or 'failed'. */
  static final String RECORD = """
      UPDATE webhook_deliveries SET status = $3, last_status_code = $4, last_error = $5,
        next_attempt_at = CASE WHEN $3 = 'pending' THEN now() + make_interval(secs => $6) ELSE next_attempt_at END,
        updated_at = now()
      WHERE id = $1 AND attempts = $2""";

  static final String DELIVERY_COLUMNS = """
      d.id, d.event_id, o.type, d.status, d.attempts, d.next_attempt_at, d.last_status_code, d.last_error,
      d.created_at, d.updated_at""";
  static final String LIST_DELIVERIES = "SELECT " + DELIVERY_COLUMNS + " FROM " + """
      webhook_deliveries d JOIN webhook_outbox o ON o.id = d.event_id
      WHERE d.webhook_id = $1 AND ($2::timestamptz IS NULL OR (d.created_at, d.id) < ($2, $3))
      ORDER BY d.created_at DESC, d.id DESC LIMIT $4""";
  static final String FIND_DELIVERY = "SELECT " + DELIVERY_COLUMNS + " FROM webhook_deliveries d "
      + "JOIN webhook_outbox o ON o.id = d.event_id WHERE d.id = $1 AND d.webhook_id = $2";
  static final String ATTEMPTS = """
      SELECT delivery_id, attempt, status_code, error, succeeded, duration_ms, created_at FROM webhook_attempts
      WHERE delivery_id = ANY($1) ORDER BY created_at, attempt""";
  /** A delivery that is not pending becomes due now; one still pending is left alone (no row). */
  static final String REDELIVER = """
      UPDATE webhook_deliveries SET status = 'pending', next_attempt_at = now(), updated_at = now()
      WHERE id = $1 AND webhook_id = $2 AND status <> 'pending' RETURNING id""";
}
