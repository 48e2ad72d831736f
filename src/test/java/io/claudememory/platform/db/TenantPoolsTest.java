package io.claudememory.platform.db;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.claudememory.support.ExternalDatabases;
import io.claudememory.support.TestServer;
import io.claudememory.support.Users;
import io.claudememory.support.Users.TestUser;
import io.vertx.core.Future;
import io.claudememory.platform.http.RequestIds;
import io.vertx.core.Promise;
import io.vertx.core.internal.ContextInternal;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

@DisplayName("Tenant pools: the per-tenant write freeze of a database switch, eviction under load, caller contexts")
class TenantPoolsTest {
  @RegisterExtension
  static final TestServer server = TestServer.start();
  static final TenantPools pools = server.app().tenantPools();

  private static Future<String> currentDatabase(UUID tenant) {
    return pools.withPool(tenant, pool -> pool.query("SELECT current_database()").execute()
        .map(rows -> rows.iterator().next().getString(0)));
  }

  @Test
  @DisplayName("a freeze waits for work in flight, holds new work until thawed, and leaves other tenants alone")
  void freezeDrainsAndHolds() throws Exception {
    TestUser ann = Users.register(server.client());
    TestUser bob = Users.register(server.client());
    String annDb = ExternalDatabases.currentDatabase(pools, ann.id());

    Promise<Void> hold = Promise.promise();
    Future<String> inFlight = pools.withPool(ann.id(), pool -> hold.future()
        .compose(v -> pool.query("SELECT current_database()").execute())
        .map(rows -> rows.iterator().next().getString(0)));
    Future<Void> frozen = pools.freeze(ann.id(), 10_000);
    Future<String> waiting = currentDatabase(ann.id());
    assertEquals(bob.id().toString().replace("-", ""),
        currentDatabase(bob.id()).await(10, TimeUnit.SECONDS).substring(server.scope().tenantPrefix().length()),
        "another tenant is not frozen");
    assertFalse(frozen.isComplete(), "the freeze waits for the work in flight");

    hold.complete();
    assertEquals(annDb, inFlight.await(10, TimeUnit.SECONDS));
    frozen.await(10, TimeUnit.SECONDS);
    assertFalse(waiting.isComplete(), "new work waits at the gate while frozen");

    pools.thaw(ann.id());
    assertEquals(annDb, waiting.await(10, TimeUnit.SECONDS), "held work runs once thawed");
  }

  @Test
  @DisplayName("a freeze whose work in flight does not drain in time fails and opens the gate again")
  void drainTimeout() throws Exception {
    TestUser ann = Users.register(server.client());
    Promise<Void> never = Promise.promise();
    Future<Object> stuck = pools.withPool(ann.id(), pool -> never.future().map(v -> null));
    Future<Void> frozen = pools.freeze(ann.id(), 200);
    assertThrows(Exception.class, () -> frozen.await(10, TimeUnit.SECONDS));
    assertTrue(currentDatabase(ann.id()).await(10, TimeUnit.SECONDS).startsWith(server.scope().tenantPrefix()),
        "the gate is open again");
    never.complete();
    stuck.await(10, TimeUnit.SECONDS);
  }

  @Test
  @DisplayName("an evicted pool closes only once the work running on it, or still opening it, has finished")
  void evictionNeverClosesUnderWork() throws Exception {
    TestUser ann = Users.register(server.client());
    String annDb = ExternalDatabases.currentDatabase(pools, ann.id());

    Promise<Void> hold = Promise.promise();
    Future<String> inFlight = pools.withPool(ann.id(), pool -> hold.future()
        .compose(v -> pool.query("SELECT current_database()").execute())
        .map(rows -> rows.iterator().next().getString(0)));
    pools.evict(ann.id()).await(10, TimeUnit.SECONDS);
    hold.complete();
    assertEquals(annDb, inFlight.await(10, TimeUnit.SECONDS), "work on an evicted pool finishes");

    Future<String> opening = currentDatabase(ann.id());
    pools.evict(ann.id()).await(10, TimeUnit.SECONDS);
    assertEquals(annDb, opening.await(10, TimeUnit.SECONDS), "work on a pool evicted while it opened finishes");
    assertEquals(annDb, currentDatabase(ann.id()).await(10, TimeUnit.SECONDS), "the next call opens a new pool");
  }

  @Test
  @DisplayName("calls that wait for a pool being opened continue on their own context, with their own request id")
  void waitersKeepTheirContext() throws Exception {
    TestUser ann = Users.register(server.client());
    pools.evict(ann.id()).await(10, TimeUnit.SECONDS);
    ContextInternal loop = (ContextInternal) server.app().vertx().getOrCreateContext();
    Promise<String> first = Promise.promise();
    Promise<String> second = Promise.promise();
    loop.runOnContext(v -> {
      // Both calls start before the pool has opened: the second waits for the one the first call opens.
      for (String id : new String[] {"first", "second"}) {
        ContextInternal request = loop.duplicate();
        RequestIds.LOCAL.put(request, id);
        request.runOnContext(w -> pools.withPool(ann.id(), pool -> pool.query("SELECT 1").execute()
                .map(rows -> RequestIds.current()))
            .onComplete(id.equals("first") ? first : second));
      }
    });
    assertEquals("first", first.future().await(10, TimeUnit.SECONDS));
    assertEquals("second", second.future().await(10, TimeUnit.SECONDS), "the waiter kept its own request id");
  }
}
