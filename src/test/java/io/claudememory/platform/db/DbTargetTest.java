package io.claudememory.platform.db;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vertx.pgclient.PgConnectOptions;
import io.vertx.pgclient.SslMode;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

@DisplayName("Database targets: the reactive client's options follow the sslmode")
class DbTargetTest {
  private static PgConnectOptions options(SslMode mode) {
    return new DbTarget("db.example.com", 5432, "app", "app", "secret", mode).connectOptions();
  }

  @Test
  @DisplayName("require encrypts without checking the certificate; verify-ca and verify-full check it")
  void tlsModes() {
    assertTrue(options(SslMode.REQUIRE).getSslOptions().isTrustAll(), "require trusts any certificate");
    assertFalse(options(SslMode.VERIFY_CA).getSslOptions().isTrustAll(), "verify-ca checks the certificate");
    assertFalse(options(SslMode.VERIFY_FULL).getSslOptions().isTrustAll(), "verify-full checks the certificate");
  }

  @Test
  @DisplayName("disable, allow and prefer need no TLS options")
  void plainModes() {
    for (SslMode mode : new SslMode[] {SslMode.DISABLE, SslMode.ALLOW, SslMode.PREFER}) {
      assertNull(options(mode).getSslOptions(), mode.name());
    }
  }
}
