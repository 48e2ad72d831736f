package io.claudememory.realtime;

/** The SQL of the realtime capability (tenant database). */
final class RealtimeSql {
  private RealtimeSql() {}

  static final String CONVERSATION_EXISTS = "SELECT last_seq FROM conversations WHERE id = $1";

  static final String MESSAGES_AFTER = "SELECT id, conversation_id, parent_id, seq, role, content, model, stop_reason, "
      + "usage, created_at FROM messages WHERE conversation_id = $1 AND seq > $2 ORDER BY seq LIMIT $3";

  /** Monotonic: a stale mark_read never moves the position back; never past the conversation's last seq. */
  static final String MARK_READ = "INSERT INTO read_positions (conversation_id, user_id, seq) "
      + "SELECT c.id, $2, LEAST($3, c.last_seq) FROM conversations c WHERE c.id = $1 "
      + "ON CONFLICT (conversation_id, user_id) DO UPDATE SET seq = GREATEST(read_positions.seq, EXCLUDED.seq), "
      + "updated_at = now() RETURNING seq";
}
