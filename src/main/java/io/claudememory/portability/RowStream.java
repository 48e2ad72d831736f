package io.claudememory.portability;

import io.vertx.sqlclient.Cursor;
import io.vertx.sqlclient.PreparedStatement;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.RowSet;
import io.vertx.sqlclient.SqlConnection;
import io.vertx.sqlclient.Tuple;
import java.util.concurrent.TimeUnit;

/**
 * Reads a query's rows {@link #BATCH} at a time through a server-side cursor, so memory holds one batch whatever
 * the result's size. Blocking: for {@link JobThreads} only. The connection must be in a transaction (PostgreSQL
 * cursors live in one).
 */
final class RowStream {
  static final int BATCH = 1000;
  static final long TIMEOUT_S = 300;

  /** What to do with each row; may throw (I/O of the file being written). */
  interface RowHandler {
    void accept(Row row) throws Exception;
  }

  private RowStream() {}

  static long forEach(SqlConnection conn, String sql, Tuple args, RowHandler handler) throws Exception {
    PreparedStatement statement = await(conn.prepare(sql));
    Cursor cursor = statement.cursor(args);
    long count = 0;
    try {
      do {
        RowSet<Row> rows = await(cursor.read(BATCH));
        for (Row row : rows) {
          handler.accept(row);
          count++;
        }
      } while (cursor.hasMore());
    } finally {
      cursor.close();
      statement.close();
    }
    return count;
  }

  static <T> T await(io.vertx.core.Future<T> future) throws Exception {
    return future.await(TIMEOUT_S, TimeUnit.SECONDS);
  }
}
