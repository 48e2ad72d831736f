package io.claudememory.platform.db;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.pgclient.PgBuilder;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.PoolOptions;

/**
 * The master database: users, tokens, tenant registry, jobs, webhooks, audit. One shared pool for the whole node,
 * created outside the verticles so undeploying one never closes it; its connections are spread over the event loops.
 */
public final class MasterDb {
  private final DbTarget target;
  private final Pool pool;

  public MasterDb(Vertx vertx, DbTarget target, int maxSize, int eventLoops) {
    this.target = target;
    this.pool = PgBuilder.pool()
        .with(new PoolOptions().setMaxSize(maxSize).setMaxWaitQueueSize(1024).setEventLoopSize(eventLoops)
            .setName("master").setConnectionTimeout(10))
        .connectingTo(target.connectOptions())
        .using(vertx)
        .build();
  }

  public Pool pool() {
    return pool;
  }

  /** Where the master lives: managed tenant databases are created on the same server. */
  public DbTarget target() {
    return target;
  }

  public Future<Void> close() {
    return pool.close();
  }
}
