package io.claudememory.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.claudememory.support.TestServer;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

@DisplayName("Configuration of rate limits and the first admin: documented defaults, overrides, clear errors")
class RateLimitConfigTest {
  static Map<String, String> env(String... pairs) {
    Map<String, String> env = new HashMap<>(Map.of("JWT_SECRET", TestServer.SHARED_JWT_SECRET,
        "MASTER_KEY", TestServer.SHARED_MASTER_KEY, "DATA_DIR", System.getProperty("java.io.tmpdir")));
    for (int i = 0; i < pairs.length; i += 2) {
      env.put(pairs[i], pairs[i + 1]);
    }
    return env;
  }

  @Test
  @DisplayName("the packaged defaults: limits on, stricter auth, message and job buckets, no proxy trusted")
  void defaults() {
    AppConfig.RateLimit limits = ConfigReader.read(TestServer.packagedYaml(), env()).rateLimit();
    assertTrue(limits.enabled());
    assertEquals(0, limits.trustedProxies());
    assertEquals(new AppConfig.Bucket(600, 60), limits.address());
    assertEquals(new AppConfig.Bucket(1200, 60), limits.principal());
    assertEquals(new AppConfig.Bucket(10, 60), limits.auth());
    assertEquals(new AppConfig.Bucket(30, 60), limits.messages());
    assertEquals(new AppConfig.Bucket(20, 3600), limits.jobs());
  }

  @Test
  @DisplayName("every limit can be set from the environment")
  void overrides() {
    AppConfig config = ConfigReader.read(TestServer.packagedYaml(), env("CMB_RATE_LIMIT_AUTH_LIMIT", "5",
        "CMB_RATE_LIMIT_AUTH_WINDOW_SECONDS", "300", "CMB_RATE_LIMIT_ENABLED", "false",
        "CMB_RATE_LIMIT_TRUSTED_PROXIES", "2", "ADMIN_EMAIL", "root@example.com"));
    assertEquals(new AppConfig.Bucket(5, 300), config.rateLimit().auth());
    assertFalse(config.rateLimit().enabled());
    assertEquals(2, config.rateLimit().trustedProxies());
    assertEquals("root@example.com", config.auth().adminEmail());
  }

  @Test
  @DisplayName("a bad value stops start-up with a message naming the variable")
  void errors() {
    ConfigException zero = assertThrows(ConfigException.class, () -> ConfigReader.read(TestServer.packagedYaml(),
        env("CMB_RATE_LIMIT_AUTH_LIMIT", "0")));
    assertTrue(zero.getMessage().contains("CMB_RATE_LIMIT_AUTH_LIMIT"), zero.getMessage());
    ConfigException flag = assertThrows(ConfigException.class, () -> ConfigReader.read(TestServer.packagedYaml(),
        env("CMB_RATE_LIMIT_ENABLED", "maybe")));
    assertTrue(flag.getMessage().contains("rateLimit.enabled"), flag.getMessage());
    ConfigException admin = assertThrows(ConfigException.class, () -> ConfigReader.read(TestServer.packagedYaml(),
        env("ADMIN_EMAIL", "not-an-email")));
    assertTrue(admin.getMessage().startsWith("ADMIN_EMAIL"), admin.getMessage());
  }
}
