package io.claudememory.support;

import io.claudememory.Application;
import io.claudememory.Main;
import io.claudememory.config.AppConfig;
import io.claudememory.config.ConfigReader;
import io.claudememory.platform.db.DbTarget;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.util.Base64;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.constructor.SafeConstructor;

/**
 * A real node started in-process on a free port, against a fresh master database (see {@link TestDatabase}), with the
 * packaged {@code conf/application.yaml} plus test settings (a fast bcrypt cost, its own tenant prefix). Settings are
 * given as environment variables, exactly as an operator would. {@link #close()} stops the node and drops its data.
 *
 * <p>A test class holds its node in a {@code @RegisterExtension static final} field: started when the class is first
 * used, closed after its last test.
 */
public final class TestServer implements AutoCloseable, AfterAllCallback {
  private final Application app;
  private final TestDatabase.Scope scope;
  private final PrometheusMeterRegistry metrics;
  private final Path dataDir;
  private final ApiClient client;
  private final Map<String, String> env;

  private TestServer(Application app, TestDatabase.Scope scope, PrometheusMeterRegistry metrics, Path dataDir,
      Map<String, String> env) {
    this.app = app;
    this.scope = scope;
    this.metrics = metrics;
    this.dataDir = dataDir;
    this.env = env;
    this.client = new ApiClient(app.vertx(), app.config().http().port());
  }

  public static TestServer start() {
    return start(Map.of());
  }

  /** Starts a node; {@code overrides} are environment variables (e.g. {@code CMB_DATABASE_MAX_TENANT_POOLS}). */
  public static TestServer start(Map<String, String> overrides) {
    return start(TestDatabase.create(), overrides);
  }

  /** Starts another node on an existing scope (a second node of a cluster shares the master database). */
  public static TestServer start(TestDatabase.Scope scope, Map<String, String> overrides) {
    Path dataDir;
    try {
      dataDir = Files.createTempDirectory("cmb-test");
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    Map<String, String> env = new HashMap<>();
    env.put("DATABASE_URL", uri(scope.master()));
    env.put("PORT", Integer.toString(TestPorts.free()));
    env.put("DATA_DIR", dataDir.toString());
    env.put("STORAGE_PATH", dataDir.resolve("storage").toString());
    env.put("JWT_SECRET", SHARED_JWT_SECRET);
    env.put("MASTER_KEY", SHARED_MASTER_KEY);
    env.put("CMB_AUTH_BCRYPT_COST", "4");
    env.put("CMB_DATABASE_TENANT_PREFIX", scope.tenantPrefix());
    env.put("CMB_HTTP_SHUTDOWN_GRACE_SECONDS", "2");
    // Tests register and log in far more often than people do; rate-limit tests set small limits themselves.
    for (String bucket : new String[] {"ADDRESS", "PRINCIPAL", "AUTH", "MESSAGES", "JOBS"}) {
      env.put("CMB_RATE_LIMIT_" + bucket + "_LIMIT", "1000000");
    }
    env.put("CMB_RATE_LIMIT_KEY_PREFIX", scope.tenantPrefix() + ":rl:");
    env.putAll(overrides);
    AppConfig config = ConfigReader.read(packagedYaml(), env);
    PrometheusMeterRegistry metrics = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    Vertx vertx = Main.createVertx(metrics);
    try {
      Application app = Application.start(vertx, metrics, config).await(120, TimeUnit.SECONDS);
      return new TestServer(app, scope, metrics, dataDir, env);
    } catch (Exception e) {
      vertx.close();
      throw new IllegalStateException("test server did not start: " + e.getMessage(), e);
    }
  }

  /** Secrets shared by all test nodes, so that nodes of one test cluster accept each other's tokens. */
  public static final String SHARED_JWT_SECRET = "test-secret-for-jwt-signing-at-least-32-bytes-long";
  public static final String SHARED_MASTER_KEY = randomKey();

  public ApiClient client() {
    return client;
  }

  public int port() {
    return app.config().http().port();
  }

  public Application app() {
    return app;
  }

  public AppConfig config() {
    return app.config();
  }

  public Map<String, String> env() {
    return env;
  }

  public TestDatabase.Scope scope() {
    return scope;
  }

  public DbTarget master() {
    return scope.master();
  }

  public PrometheusMeterRegistry metrics() {
    return metrics;
  }

  /** Stops the node without dropping the databases (to start another on the same scope). */
  public void stopNode() {
    try {
      app.stop().await(60, TimeUnit.SECONDS);
      app.vertx().close().await(30, TimeUnit.SECONDS);
    } catch (Exception e) {
      throw new IllegalStateException("test server did not stop: " + e.getMessage(), e);
    }
  }

  @Override
  public void close() {
    stopNode();
    scope.drop();
  }

  @Override
  public void afterAll(ExtensionContext context) {
    close();
  }

  public static String uri(DbTarget t) {
    String login = t.password() == null ? t.user() : t.user() + ":" + t.password();
    return "postgresql://" + login + "@" + t.host() + ":" + t.port() + "/" + t.database();
  }

  public static JsonObject packagedYaml() {
    try (InputStream in = TestServer.class.getResourceAsStream("/conf/application.yaml")) {
      Map<String, Object> map = new Yaml(new SafeConstructor(new LoaderOptions())).load(in);
      return new JsonObject(map);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static String randomKey() {
    byte[] key = new byte[32];
    new SecureRandom().nextBytes(key);
    return Base64.getEncoder().encodeToString(key);
  }
}
