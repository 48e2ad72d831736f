package io.claudememory.platform.db;

import io.vertx.core.Future;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.PrepareOptions;
import io.vertx.sqlclient.PreparedQuery;
import io.vertx.sqlclient.Query;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.RowSet;
import io.vertx.sqlclient.SqlClient;
import io.vertx.sqlclient.SqlConnection;

/**
 * A tenant's pool with a pipelined client beside it ({@link #reads}): a plain pool's connection carries one statement
 * at a time, so a busy tenant's reads waited for one of its few connections a round trip at a time; pipelined, the
 * reads of many requests share a connection, with fewer system calls on both sides.
 *
 * <p>The pipelined client is for short reads only ({@link TenantPools#withReads}): its connection runs what it is
 * given in order, so one statement that waits (for a lock, say) holds up every statement behind it. Everything else,
 * the {@link Pool} methods, runs on the plain pool as before.
 */
final class PipelinedPool implements Pool {
  private final SqlClient statements;
  private final Pool connections;

  PipelinedPool(SqlClient statements, Pool connections) {
    this.statements = statements;
    this.connections = connections;
  }

  @Override
  public Future<SqlConnection> getConnection() {
    return connections.getConnection();
  }

  /** The pipelined client, for short reads. */
  SqlClient reads() {
    return statements;
  }

  @Override
  public Query<RowSet<Row>> query(String sql) {
    return connections.query(sql);
  }

  @Override
  public PreparedQuery<RowSet<Row>> preparedQuery(String sql) {
    return connections.preparedQuery(sql);
  }

  @Override
  public PreparedQuery<RowSet<Row>> preparedQuery(String sql, PrepareOptions options) {
    return connections.preparedQuery(sql, options);
  }

  @Override
  public int size() {
    return connections.size();
  }

  @Override
  public Future<Void> close() {
    return Future.join(statements.close(), connections.close()).mapEmpty();
  }
}
