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
 * A tenant's pool as its callers see it, made of two parts: single statements ({@code query}, {@code preparedQuery})
 * go to a pooled client whose connections pipeline them, many in flight on each connection; connections handed out
 * ({@code getConnection}, hence {@code withConnection} and {@code withTransaction}) come from a plain pool.
 *
 * <p>Why: a plain pool connection carries one statement at a time, so a tenant's reads waited for a connection a round
 * trip at a time, and a tenant pool of 4 capped a busy tenant well below what the database and the node could serve.
 * Pipelined, the statements of many requests share a connection, with fewer system calls on both sides. Statements
 * sent one by one through a pool never shared a session anyway, so nothing depends on which connection runs them.
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

  @Override
  public Query<RowSet<Row>> query(String sql) {
    return statements.query(sql);
  }

  @Override
  public PreparedQuery<RowSet<Row>> preparedQuery(String sql) {
    return statements.preparedQuery(sql);
  }

  @Override
  public PreparedQuery<RowSet<Row>> preparedQuery(String sql, PrepareOptions options) {
    return statements.preparedQuery(sql, options);
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
