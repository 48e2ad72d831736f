package io.claudememory.config;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vertx.core.json.JsonObject;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

@DisplayName("Configuration: defaults that run, overrides by environment, one clear line for each mistake")
class ConfigReaderTest {
  private static final String SECRET = "a-jwt-secret-that-is-long-enough-123";
  private static final String KEY = "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=";
  @TempDir
  Path dataDir;

  @Test
  @DisplayName("development runs with nothing set, generating secrets once and keeping them")
  void developmentDefaults() {
    AppConfig first = read(Map.of());
    assertFalse(first.production());
    assertEquals(3001, first.http().port());
    assertTrue(first.database().embedded());
    assertTrue(first.database().allowPrivateHosts());
    assertNull(first.redisUrl());
    assertEquals(12, first.auth().bcryptCost());
    AppConfig second = read(Map.of());
    assertEquals(first.auth().jwtSecret(), second.auth().jwtSecret(), "generated secrets survive a restart");
    assertArrayEquals(first.masterKey(), second.masterKey());
    assertFalse(first.toString().contains(first.auth().jwtSecret()), "secrets never printed");
  }

  @Test
  @DisplayName("documented variables and CMB_ keys override the file")
  void overrides() {
    AppConfig config = read(Map.of("PORT", "8080", "DATABASE_URL", "postgresql://u:p@db:5432/cmb",
        "REDIS_URL", "redis://cache:6379", "ALLOWED_ORIGINS", "https://a.example, https://b.example",
        "CMB_AUTH_BCRYPT_COST", "10", "CMB_DATABASE_MAX_TENANT_POOLS", "17", "MASTER_DATABASE_URL", "postgres://x/y"));
    assertEquals(8080, config.http().port());
    assertEquals("postgresql://u:p@db:5432/cmb", config.database().url(), "DATABASE_URL wins over its alias");
    assertEquals("redis://cache:6379", config.redisUrl());
    assertEquals(java.util.List.of("https://a.example", "https://b.example"), config.http().allowedOrigins());
    assertEquals(10, config.auth().bcryptCost());
    assertEquals(17, config.database().maxTenantPools());
  }

  @Test
  @DisplayName("each mistake stops start-up with one line naming the key")
  void mistakes() {
    assertMessage("JWT_SECRET must be at least 32 bytes", Map.of("JWT_SECRET", "short"));
    assertMessage("PORT must be a whole number, not 'abc'", Map.of("PORT", "abc"));
    assertMessage("PORT must be between 0 and 65535, not 70000", Map.of("PORT", "70000"));
    assertMessage("DATABASE_URL must be a postgresql:// URL", Map.of("DATABASE_URL", "mysql://db/x"));
    assertMessage("REDIS_URL must be a redis:// or rediss:// URL", Map.of("REDIS_URL", "localhost:6379"));
    assertMessage("MASTER_KEY must be base64 of 32 bytes, not 3", Map.of("MASTER_KEY", "YWJj"));
    assertMessage("auth.bcryptCost (CMB_AUTH_BCRYPT_COST) must be between 4 and 31, not 2",
        Map.of("CMB_AUTH_BCRYPT_COST", "2"));
    assertMessage("APP_PROFILE must be development or production, not 'staging'", Map.of("APP_PROFILE", "staging"));
    assertMessage("LOG_FORMAT must be text or json, not 'xml'", Map.of("LOG_FORMAT", "xml"));
  }

  @Test
  @DisplayName("production requires its secrets and an external database, and is strict by default")
  void production() {
    assertMessage("DATABASE_URL is required when APP_PROFILE=production", Map.of("APP_PROFILE", "production"));
    assertMessage("JWT_SECRET (or JWT_PRIVATE_KEY/JWT_PUBLIC_KEY) is required when APP_PROFILE=production",
        Map.of("APP_PROFILE", "production", "DATABASE_URL", "postgresql://db/x"));
    assertMessage("MASTER_KEY is required when APP_PROFILE=production",
        Map.of("NODE_ENV", "production", "DATABASE_URL", "postgresql://db/x", "JWT_SECRET", SECRET));
    assertMessage("auth.bcryptCost (CMB_AUTH_BCRYPT_COST) must be between 10 and 31, not 4", Map.of(
        "APP_PROFILE", "production", "DATABASE_URL", "postgresql://db/x", "JWT_SECRET", SECRET, "MASTER_KEY", KEY,
        "CMB_AUTH_BCRYPT_COST", "4"));
    AppConfig config = read(Map.of("APP_PROFILE", "production", "DATABASE_URL", "postgresql://db/x",
        "JWT_SECRET", SECRET, "MASTER_KEY", KEY));
    assertTrue(config.production());
    assertFalse(config.database().allowPrivateHosts(), "private database hosts refused unless allowed");
    assertEquals("json", config.logging().format());
  }

  @Test
  @DisplayName("environment names follow the keys")
  void envNames() {
    assertEquals("CMB_AUTH_BCRYPT_COST", ConfigReader.envName("auth.bcryptCost"));
    assertEquals("CMB_HTTP_BODY_LIMIT_BYTES", ConfigReader.envName("http.bodyLimitBytes"));
  }

  private AppConfig read(Map<String, String> env) {
    Map<String, String> all = new HashMap<>(env);
    all.putIfAbsent("DATA_DIR", dataDir.toString());
    return ConfigReader.read(yaml(), all);
  }

  private void assertMessage(String expected, Map<String, String> env) {
    ConfigException e = assertThrows(ConfigException.class, () -> read(env));
    assertEquals(expected, e.getMessage());
    assertFalse(e.getMessage().contains("\n"), "one line");
  }

  private static JsonObject yaml() {
    return io.claudememory.support.TestServer.packagedYaml();
  }
}
