package io.claudememory.security;

import io.claudememory.support.ApiClient;
import io.claudememory.support.FakeClaude;
import io.claudememory.support.TestServer;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * What every class of the security suite shares ({@code @ExtendWith(SecuritySuite.class)}):
 * <ul>
 *   <li>the log capture: on while the class runs, and checked when it ends, so a class that makes the server log a
 *       secret fails itself; {@link SecretsInLogsTest} checks the whole suite's capture once more at the end;</li>
 *   <li>the secrets: clients from {@link #observe} keep every credential that passes through them, and servers from
 *       {@link #start} add their own (JWT_SECRET, MASTER_KEY, PEM keys, the Anthropic key);</li>
 *   <li>one node in the development profile with a fake Claude ({@link #shared()}), started once for the classes
 *       that need nothing special and stopped when the test run ends. Classes that need other settings (small
 *       limits, the production host policy) start their own with {@link #start}.</li>
 * </ul>
 */
public final class SecuritySuite implements BeforeAllCallback, AfterAllCallback {
  private static final ExtensionContext.Namespace NAMESPACE = ExtensionContext.Namespace.create(SecuritySuite.class);
  private static final List<String> SECRET_SETTINGS = List.of("JWT_SECRET", "MASTER_KEY", "JWT_PRIVATE_KEY",
      "JWT_PUBLIC_KEY", "ANTHROPIC_API_KEY");
  private static Shared shared;

  @Override
  public void beforeAll(ExtensionContext context) {
    SuiteSecrets.add("JWT_SECRET", TestServer.SHARED_JWT_SECRET);
    SuiteSecrets.add("MASTER_KEY", TestServer.SHARED_MASTER_KEY);
    synchronized (SecuritySuite.class) {
      shared = context.getRoot().getStore(NAMESPACE).getOrComputeIfAbsent(Shared.class, k -> new Shared(),
          Shared.class);
    }
    LogCapture.start(context.getRequiredTestClass().getSimpleName());
  }

  @Override
  public void afterAll(ExtensionContext context) {
    LogCapture.stop();
    String name = context.getRequiredTestClass().getSimpleName();
    List<SuiteSecrets.Leak> leaks = SuiteSecrets.leaks(LogCapture.linesOf(name));
    if (!leaks.isEmpty()) {
      throw new AssertionError(leaks.size() + " log line(s) written while " + name + " ran give a secret away:\n"
          + leaks.stream().map(Object::toString).collect(Collectors.joining("\n")));
    }
  }

  /** The suite's development node (private hosts allowed) with a fake Claude; started on first use. */
  public static synchronized Shared shared() {
    if (shared == null) {
      throw new IllegalStateException("the class must be annotated @ExtendWith(SecuritySuite.class)");
    }
    return shared;
  }

  /**
   * A node of the class's own, its secrets known to the suite. Its tenant pools are small and few (the suite creates
   * many accounts, and the test PostgreSQL serves other test runs too); a class may set other values. Suite classes
   * start their node in {@code @BeforeAll} rather than in a {@code @RegisterExtension} field, so that the log capture
   * (begun by this extension) sees the node's start-up too.
   */
  public static TestServer start(Map<String, String> env) {
    Map<String, String> settings = new HashMap<>(Map.of("CMB_DATABASE_TENANT_POOL_SIZE", "2",
        "CMB_DATABASE_MAX_TENANT_POOLS", "8", "CMB_DATABASE_TENANT_IDLE_SECONDS", "10",
        "CMB_DATABASE_MASTER_POOL_SIZE", "4"));
    settings.putAll(env);
    TestServer server = TestServer.start(settings);
    server.env().forEach((name, value) -> {
      if (SECRET_SETTINGS.contains(name)) {
        SuiteSecrets.add(name, value);
        value.lines().filter(line -> !line.startsWith("-----")).forEach(line -> SuiteSecrets.add(name, line));
      }
    });
    SuiteSecrets.addUrlPassword("the master database password", server.env().get("DATABASE_URL"));
    return server;
  }

  /** {@code client}, keeping every credential it sends or receives. */
  public static ApiClient observe(ApiClient client) {
    return client.observedBy((request, sent, reply) -> {
      SuiteSecrets.harvest(sent);
      SuiteSecrets.harvest(reply.raw());
    });
  }

  /** The shared node and its fake Claude. */
  public static final class Shared implements ExtensionContext.Store.CloseableResource {
    private TestServer server;
    private io.vertx.core.Vertx claudeVertx;
    private FakeClaude claude;

    public synchronized TestServer server() {
      if (server == null) {
        claudeVertx = io.vertx.core.Vertx.vertx();
        claude = FakeClaude.start(claudeVertx);
        Map<String, String> env = new HashMap<>();
        env.put("ANTHROPIC_API_KEY", "sk-ant-suite-" + java.util.UUID.randomUUID());
        env.put("ANTHROPIC_BASE_URL", claude.baseUrl());
        server = start(env);
      }
      return server;
    }

    public synchronized FakeClaude claude() {
      server();
      return claude;
    }

    public ApiClient client() {
      return observe(server().client());
    }

    @Override
    public synchronized void close() {
      if (server != null) {
        server.close();
        claude.close();
        claudeVertx.close();
      }
    }
  }
}
