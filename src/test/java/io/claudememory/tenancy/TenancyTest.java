package io.claudememory.tenancy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.claudememory.platform.crypto.SecretBox;
import io.claudememory.platform.db.DbTarget;
import io.claudememory.platform.db.Migrations;
import io.claudememory.platform.db.TenantPools;
import io.claudememory.platform.http.InFlightRequests;
import io.claudememory.support.ApiClient;
import io.claudememory.support.Awaits;
import io.claudememory.support.Problems;
import io.claudememory.support.TestDatabase;
import io.claudememory.support.TestPorts;
import io.claudememory.support.TestServer;
import io.claudememory.support.Users;
import io.claudememory.support.Users.TestUser;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.core.buffer.Buffer;
import java.io.IOException;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

@DisplayName("Tenancy: a database of one's own, created at registration, reached through bounded pools")
class TenancyTest {
  @RegisterExtension
  static final TestServer server = TestServer.start(Map.of("CMB_DATABASE_MAX_TENANT_POOLS", "3",
      "CMB_DATABASE_BREAKER_OPEN_SECONDS", "30", "CMB_DATABASE_TENANT_IDLE_SECONDS", "2"));
  static final ApiClient api = server.client();

  @Test
  @DisplayName("registration creates a migrated database owned by the user's own role")
  void registrationCreatesDatabase() throws Exception {
    TestUser ann = Users.register(api);
    String name = server.scope().tenantPrefix() + ann.id().toString().replace("-", "");
    try (Connection c = TestDatabase.connect(server.master());
         PreparedStatement s = c.prepareStatement("SELECT d.datname, r.rolname FROM pg_database d "
             + "JOIN pg_roles r ON r.oid = d.datdba WHERE d.datname = ?")) {
      s.setString(1, name);
      try (ResultSet rs = s.executeQuery()) {
        assertTrue(rs.next(), "database " + name + " exists");
        assertEquals(name, rs.getString("rolname"), "owned by the tenant's role");
      }
    }
    JsonObject registry = registry(ann.id());
    assertEquals("managed", registry.getString("kind"));
    assertTrue(registry.getBoolean("active"));
    assertEquals(Migrations.TENANT_SCHEMA_VERSION, registry.getInteger("schema_version"));
    assertTrue(registry.getString("password_sealed").startsWith("v1:"), "the password is stored sealed");

    try (Connection c = TestDatabase.connect(tenantTarget(ann.id()));
         ResultSet rs = c.createStatement().executeQuery(
             "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'public' "
                 + "AND table_name IN ('projects', 'conversations', 'messages')")) {
      rs.next();
      assertEquals(3, rs.getInt(1), "the tenant schema is migrated at registration");
    }
  }

  @Test
  @DisplayName("one tenant's role cannot even connect to another tenant's database")
  void tenantsAreIsolatedInPostgres() throws Exception {
    TestUser ann = Users.register(api);
    TestUser bob = Users.register(api);
    DbTarget bobsLogin = tenantTarget(bob.id());
    DbTarget annsDatabaseAsBob = bobsLogin.withDatabase(tenantTarget(ann.id()).database());
    SQLException refused = assertThrows(SQLException.class, () -> TestDatabase.connect(annsDatabaseAsBob).close());
    assertTrue(refused.getMessage().contains("permission denied"), refused.getMessage());
    assertEquals(bobsLogin.database(), currentDatabase(bob.id()), "the pool of a user reaches that user's database");
  }

  @Test
  @DisplayName("concurrent registrations with one email create one account and leave no stray database")
  void concurrentDuplicateRegistrations() throws Exception {
    String email = "race-" + UUID.randomUUID() + "@example.com";
    List<Future<HttpResponse<Buffer>>> attempts = new ArrayList<>();
    for (int i = 0; i < 5; i++) {
      attempts.add(api.web().post("/api/v1/auth/register").sendJsonObject(
          new JsonObject().put("email", email).put("password", Users.PASSWORD)));
    }
    Future.join(attempts).await(60, TimeUnit.SECONDS);
    long created = attempts.stream().filter(a -> a.result().statusCode() == 201).count();
    long conflicts = attempts.stream().filter(a -> a.result().statusCode() == 409).count();
    assertEquals(1, created, "exactly one registration succeeds");
    assertEquals(4, conflicts, "the others are told the email is taken");
    Footprint left = footprint();
    assertEquals(left.users(), left.databases(), "one database per user, none left behind");
    assertEquals(left.users(), left.roles(), "one role per user, none left behind");
  }

  @Test
  @DisplayName("a registration failing while its database is made, or after, leaves neither user nor database behind")
  void failedRegistrationLeavesNothing() throws Exception {
    String email = "doomed-" + UUID.randomUUID() + "@example.com";
    JsonObject registration = new JsonObject().put("email", email).put("password", Users.PASSWORD);
    String username = "taken_" + UUID.randomUUID().toString().substring(0, 8);
    assertEquals(201, api.post("/api/v1/auth/register", null, new JsonObject().put("email", "first-" + email)
        .put("password", Users.PASSWORD).put("username", username)).status());
    Footprint before = footprint();
    // the database is made, then the user's row is refused: the username is taken
    Problems.assertProblem(api.post("/api/v1/auth/register", null, registration.copy().put("username", username)),
        409);
    assertEquals(before, footprint(), "a registration refused after its database was made leaves nothing");
    // A second node on the same master whose tenant migration fails (no such text-search configuration): a server
    // fault, which the contract does not describe for registration.
    TestServer broken = TestServer.start(server.scope(), Map.of("CMB_SEARCH_LANGUAGE", "no_such_language"));
    try {
      Problems.assertProblem(broken.client().withoutContractCheck().post("/api/v1/auth/register", null,
          registration), 500);
    } finally {
      broken.stopNode();
    }
    assertEquals(before, footprint(), "no user, tenant database or role is left by the failed registration");
    assertEquals(401, api.post("/api/v1/auth/login", null, registration).status(), "the account does not exist");
    assertEquals(201, api.post("/api/v1/auth/register", null, registration).status(), "the email is free again");
  }

  @Test
  @DisplayName("concurrent first requests share one pool, and pools stay within their bound")
  void poolsAreSharedAndBounded() throws Exception {
    TestUser ann = Users.register(api);
    double before = created();
    List<Future<String>> uses = new ArrayList<>();
    for (int i = 0; i < 20; i++) {
      uses.add(pools().withPool(ann.id(), pool -> pool.query("SELECT current_database()").execute()
          .map(rows -> rows.iterator().next().getString(0))));
    }
    Future.all(uses).await(30, TimeUnit.SECONDS);
    assertEquals(before + 1, created(), "twenty concurrent first uses create one pool");

    for (int i = 0; i < 5; i++) {
      currentDatabase(Users.register(api).id());
      assertTrue(pools().openCount() <= 3, "never more pools than configured: " + pools().openCount());
    }
  }

  @Test
  @DisplayName("more tenants busy at once than the pool bound: every request is served, none loses its pool")
  void boundNeverClosesAPoolInUse() throws Exception {
    List<Users.TestUser> users = new ArrayList<>();
    for (int i = 0; i < 6; i++) {
      users.add(Users.register(api));
    }
    List<Future<String>> busy = new ArrayList<>();
    for (Users.TestUser user : users) {
      busy.add(pools().withPool(user.id(), pool -> pool.query("SELECT current_database() FROM pg_sleep(0.3)")
          .execute().map(rows -> rows.iterator().next().getString(0))));
    }
    Future.join(busy).await(60, TimeUnit.SECONDS);
    for (int i = 0; i < users.size(); i++) {
      int n = i;
      assertTrue(busy.get(i).succeeded(), () -> "request " + n + " failed: " + busy.get(n).cause());
    }
  }

  @Test
  @DisplayName("a tenant whose database is unreachable gets fast 503 problems while others are served")
  void unreachableTenant() throws Exception {
    TestUser ann = Users.register(api);
    TestUser bob = Users.register(api);
    try (Connection c = TestDatabase.connect(server.master());
         PreparedStatement s = c.prepareStatement("UPDATE tenant_databases SET kind = 'external', host = '127.0.0.1', "
             + "port = ?, database = 'gone', username = 'gone' WHERE user_id = ?")) {
      s.setInt(1, TestPorts.free());
      s.setObject(2, ann.id());
      assertEquals(1, s.executeUpdate());
    }

    long started = System.nanoTime();
    Future<HttpResponse<Buffer>> annsFirst = api.web().get("/api/v1/conversations")
        .bearerTokenAuthentication(ann.accessToken()).send();
    Future<Long> tookMs = annsFirst.map(answered -> (System.nanoTime() - started) / 1_000_000);
    assertEquals(200, api.get("/api/v1/conversations", bob.accessToken()).status(),
        "another tenant is served meanwhile");
    HttpResponse<Buffer> first = annsFirst.await(30, TimeUnit.SECONDS);
    assertUnavailable(new ApiClient.Reply(first.statusCode(), first.headers(), first.body()));
    long bound = server.config().database().connectTimeoutMs() + 2000L;
    assertTrue(tookMs.await() < bound, "answered in " + tookMs.result() + " ms, under the connect timeout plus margin");

    double attempts = created();
    assertUnavailable(api.get("/api/v1/conversations", ann.accessToken()));
    assertEquals(attempts, created(), "while the breaker is open no new connection is attempted");
    assertEquals(200, api.get("/api/v1/conversations", bob.accessToken()).status(), "another tenant is still served");
  }

  @Test
  @DisplayName("a pool unused for the idle time closes with its connections; the next request opens it again")
  void idlePoolsClose() throws Exception {
    TestUser ann = Users.register(api);
    assertEquals(200, api.get("/api/v1/conversations", ann.accessToken()).status());
    String database = tenantTarget(ann.id()).database();
    assertTrue(connections(database) > 0, "the request's pool keeps a connection to " + database);

    Awaits.until(() -> openPools() == 0 && connections(database) == 0, 15_000, "the idle pool is closed");
    double opened = created();
    assertEquals(200, api.get("/api/v1/conversations", ann.accessToken()).status(), "the next request is served");
    assertEquals(opened + 1, created(), "by a pool opened again");
    assertEquals(1, openPools());
  }

  @Test
  @DisplayName("work holding every plain connection of a tenant's pool does not hold up its short reads, which share "
      + "a pipelined connection of their own")
  void statementsPassBusyTransactions() throws Exception {
    TestUser ann = Users.register(api);
    String database = currentDatabase(ann.id());
    // The default tenant pool of 4 is 3 plain connections and 1 pipelined: one transaction more than there are plain
    // connections, so that with a plain pool of 4 every connection would be taken.
    Promise<Void> release = Promise.promise();
    List<Future<Void>> held = new ArrayList<>();
    for (int i = 0; i < 4; i++) {
      held.add(pools().withPool(ann.id(), pool -> pool.withTransaction(conn -> conn.query("SELECT 1").execute()
          .compose(rows -> release.future()))));
    }
    try {
      Awaits.until(() -> connections(database, "idle in transaction") == 3, 10_000,
          "three transactions hold the plain connections");
      List<Future<String>> reads = new ArrayList<>();
      for (int i = 0; i < 20; i++) {
        reads.add(pools().withReads(ann.id(), client -> client.preparedQuery("SELECT current_database()").execute()
            .map(rows -> rows.iterator().next().getString(0))));
      }
      Future.all(reads).await(10, TimeUnit.SECONDS);
      assertTrue(held.stream().noneMatch(Future::isComplete), "the transactions were still open meanwhile");
      assertTrue(connections(database) <= 4, "within the tenant pool size: " + connections(database));
    } finally {
      release.complete();
    }
    Future.all(held).await(10, TimeUnit.SECONDS);
  }

  @Test
  @DisplayName("at shutdown, work still running on a tenant pool opened by a request finishes: stopping the HTTP "
      + "servers does not close the pool under it")
  void shutdownLetsPoolWorkFinish() throws Exception {
    TestServer node = TestServer.start(server.scope(), Map.of());
    try {
      TestUser ann = Users.register(node.client());
      // The pool opens on the request's context, an HTTP verticle's.
      assertEquals(200, node.client().get("/api/v1/conversations", ann.accessToken()).status());
      Future<String> running = node.app().tenantPools().withPool(ann.id(), pool ->
          pool.query("SELECT current_database() FROM pg_sleep(1)").execute()
              .map(rows -> rows.iterator().next().getString(0)));
      Future<Void> stopped = node.app().stop();
      assertEquals(tenantTarget(ann.id()).database(), running.await(20, TimeUnit.SECONDS), "the query finished");
      stopped.await(30, TimeUnit.SECONDS);
    } finally {
      node.stopNode();
    }
  }

  @Test
  @DisplayName("at shutdown, a request whose client has left is handled to its end before the node stops")
  void shutdownWaitsForAbandonedRequests() throws Exception {
    TestServer node = TestServer.start(server.scope(), Map.of());
    try {
      TestUser ann = Users.register(node.client());
      InFlightRequests inFlight = node.app().routes().inFlight();
      // Reading projects waits while the table is locked: the request is held in its handler.
      try (Connection lock = TestDatabase.connect(tenantTarget(ann.id()))) {
        lock.setAutoCommit(false);
        lock.createStatement().execute("LOCK TABLE projects IN ACCESS EXCLUSIVE MODE");
        try (Socket client = new Socket("127.0.0.1", node.port())) {
          client.getOutputStream().write(("GET /api/v1/projects HTTP/1.1\r\nHost: test\r\nAuthorization: Bearer "
              + ann.accessToken() + "\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
          Awaits.until(() -> inFlight.count() == 1, 10_000, "the request is being handled");
        }
        Future<Void> stopped = node.app().stop();
        Awaits.until(() -> !accepts(node.port()), 10_000, "the server takes no new connections");
        assertEquals(1, inFlight.count(), "the request whose client left is still running");
        lock.rollback();
        Awaits.until(() -> inFlight.count() == 0, 5_000, "it finishes once the table is free, before the grace ends");
        stopped.await(30, TimeUnit.SECONDS);
      }
    } finally {
      node.stopNode();
    }
  }

  private static boolean accepts(int port) {
    try (Socket probe = new Socket("127.0.0.1", port)) {
      return true;
    } catch (IOException refused) {
      return false;
    }
  }

  @Test
  @DisplayName("a tenant database behind the current schema is migrated before first use")
  void migratesBeforeFirstUse() throws Exception {
    TestUser ann = Users.register(api);
    try (Connection c = TestDatabase.connect(server.master());
         PreparedStatement s = c.prepareStatement("UPDATE tenant_databases SET schema_version = 0 WHERE user_id = ?")) {
      s.setObject(1, ann.id());
      s.executeUpdate();
    }
    pools().evict(ann.id()).await(10, TimeUnit.SECONDS);
    currentDatabase(ann.id());
    assertEquals(Migrations.TENANT_SCHEMA_VERSION, registry(ann.id()).getInteger("schema_version"));
  }

  private static TenantPools pools() {
    return server.app().tenantPools();
  }

  private static double created() {
    return server.metrics().get("cmb_tenant_pools_created_total").counter().count();
  }

  private static String currentDatabase(UUID user) throws Exception {
    return pools().withPool(user, pool -> pool.query("SELECT current_database()").execute()
        .map(rows -> rows.iterator().next().getString(0))).await(30, TimeUnit.SECONDS);
  }

  private static void assertUnavailable(ApiClient.Reply reply) {
    Problems.assertProblem(reply, 503);
    int retryAfter = Integer.parseInt(reply.header("Retry-After"));
    assertTrue(retryAfter >= 1 && retryAfter <= 30, "Retry-After is within the breaker's 30 s: " + retryAfter);
  }

  /** {@code cmb_tenant_pools_open}, as scraped by Prometheus. */
  private static double openPools() {
    return api.get("/api/v1/health/metrics", null).body().lines()
        .filter(line -> line.startsWith("cmb_tenant_pools_open "))
        .mapToDouble(line -> Double.parseDouble(line.substring(line.lastIndexOf(' ') + 1))).findFirst().orElseThrow();
  }

  /** Sessions open on {@code database}, as PostgreSQL counts them. */
  private static int connections(String database) {
    return connections(database, null);
  }

  /** Sessions on {@code database}, in {@code state} ({@code pg_stat_activity.state}) unless that is null. */
  private static int connections(String database, String state) {
    try (Connection c = TestDatabase.connect(server.master());
         PreparedStatement s = c.prepareStatement(
             "SELECT count(*) FROM pg_stat_activity WHERE datname = ? AND (?::text IS NULL OR state = ?)")) {
      s.setString(1, database);
      s.setString(2, state);
      s.setString(3, state);
      try (ResultSet rs = s.executeQuery()) {
        rs.next();
        return rs.getInt(1);
      }
    } catch (SQLException e) {
      throw new IllegalStateException(e);
    }
  }

  private static JsonObject registry(UUID user) throws Exception {
    try (Connection c = TestDatabase.connect(server.master());
         PreparedStatement s = c.prepareStatement("SELECT id, kind, active, schema_version, database, username, "
             + "password_sealed FROM tenant_databases WHERE user_id = ?")) {
      s.setObject(1, user);
      try (ResultSet rs = s.executeQuery()) {
        assertTrue(rs.next(), "a registry row exists");
        return new JsonObject().put("id", rs.getString("id")).put("kind", rs.getString("kind"))
            .put("active", rs.getBoolean("active")).put("schema_version", rs.getInt("schema_version"))
            .put("database", rs.getString("database")).put("username", rs.getString("username"))
            .put("password_sealed", rs.getString("password_sealed"));
      }
    }
  }

  /** What registrations leave on the database server: users, and tenant databases and roles under our prefix. */
  private record Footprint(long users, long databases, long roles) {}

  private static Footprint footprint() throws Exception {
    String prefix = server.scope().tenantPrefix();
    try (Connection c = TestDatabase.connect(server.master()); ResultSet rs = c.createStatement().executeQuery(
        "SELECT (SELECT count(*) FROM users) AS users, (SELECT count(*) FROM pg_database WHERE datname LIKE '"
            + prefix + "%') AS databases, (SELECT count(*) FROM pg_roles WHERE rolname LIKE '" + prefix
            + "%') AS roles")) {
      rs.next();
      return new Footprint(rs.getLong("users"), rs.getLong("databases"), rs.getLong("roles"));
    }
  }

  /** How the tenant's own role logs in to its database, with the password opened by the master key. */
  private static DbTarget tenantTarget(UUID user) throws Exception {
    JsonObject row = registry(user);
    String password = new SecretBox(Base64.getDecoder().decode(TestServer.SHARED_MASTER_KEY))
        .open(row.getString("password_sealed"), row.getString("id"));
    return server.master().withDatabase(row.getString("database")).withLogin(row.getString("username"), password);
  }
}
