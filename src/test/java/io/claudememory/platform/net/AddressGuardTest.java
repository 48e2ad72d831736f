package io.claudememory.platform.net;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.vertx.core.Vertx;
import java.net.InetAddress;
import java.util.concurrent.CompletionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

@DisplayName("Address guard: which hosts the server may connect to for a user")
class AddressGuardTest {
  static Vertx vertx;
  static AddressGuard strict;
  static AddressGuard permissive;

  @BeforeAll
  static void start() {
    vertx = Vertx.vertx();
    strict = new AddressGuard(vertx, false);
    permissive = new AddressGuard(vertx, true);
  }

  @AfterAll
  static void stop() throws Exception {
    vertx.close().await(10, TimeUnit.SECONDS);
  }

  private static String checked(AddressGuard guard, String host) throws Exception {
    return guard.check(host).await(10, TimeUnit.SECONDS).ip();
  }

  private static void assertRefused(AddressGuard guard, String host) {
    Exception e = assertThrows(Exception.class, () -> guard.check(host).await(10, TimeUnit.SECONDS),
        () -> host + " should be refused");
    Throwable cause = e instanceof CompletionException ? e.getCause() : e;
    assertInstanceOf(AddressGuard.RefusedHostException.class, cause, () -> host + ": " + cause);
  }

  @ParameterizedTest(name = "{0} is read as {1}")
  @CsvSource({"0x7f000001, 127.0.0.1", "2130706433, 127.0.0.1", "0177.0.0.1, 127.0.0.1", "127.1, 127.0.0.1",
      "10.0.1, 10.0.0.1", "0x0a.0.0.1, 10.0.0.1", "192.168.257, 192.168.1.1", "[::1], 0:0:0:0:0:0:0:1",
      "8.8.8.8, 8.8.8.8", "2606:4700:4700::1111, 2606:4700:4700:0:0:0:0:1111"})
  @DisplayName("IP literals in every numeric spelling are parsed, not resolved")
  void numericForms(String host, String address) throws Exception {
    assertEquals(address, checked(permissive, host));
  }

  @ParameterizedTest(name = "{0}")
  @ValueSource(strings = {"169.254.169.254", "0xa9fea9fe", "2852039166", "169.254.0.1", "fe80::1", "[fe80::1]",
      "fd00:ec2::254", "::ffff:169.254.169.254", "::ffff:a9fe:a9fe", "64:ff9b::a9fe:a9fe", "2002:a9fe:a9fe::1",
      "metadata.google.internal", "METADATA.GOOGLE.INTERNAL.", "0.0.0.0", "0", "224.0.0.1", "ff02::1", "::",
      "255.255.255.255", "100.100.100.200"})
  @DisplayName("link-local, metadata, unspecified and multicast addresses are refused even when private ones are allowed")
  void alwaysRefused(String host) {
    assertRefused(permissive, host);
  }

  @ParameterizedTest(name = "{0}")
  @ValueSource(strings = {"127.0.0.1", "localhost", "10.1.2.3", "172.16.0.1", "172.31.255.255", "192.168.0.10",
      "100.64.0.1", "::1", "fc00::1", "fd12:3456::1", "::ffff:127.0.0.1", "::ffff:10.0.0.1", "0x7f000001",
      "2130706433", "017700000001", "198.18.0.1"})
  @DisplayName("loopback and private addresses, however spelled, are refused unless allowed")
  void privateRefusedUnlessAllowed(String host) throws Exception {
    assertRefused(strict, host);
    InetAddress address = InetAddress.getByName(checked(permissive, host));
    assertEquals(AddressGuard.Verdict.PRIVATE, AddressGuard.classify(address), host);
  }

  @ParameterizedTest(name = "[{0}]")
  @ValueSource(strings = {"1.2.3.4.5", "256.1.1.1", "0x1g.1.1.1", "host name", "a..b", "-bad.example.com",
      "999999999999", "1.2.3.08", "fe80::1%eth0", " "})
  @DisplayName("malformed hosts are refused before any lookup")
  void malformed(String host) {
    assertRefused(permissive, host);
  }

  @ParameterizedTest(name = "{0}")
  @ValueSource(strings = {"8.8.8.8", "1.1.1.1", "2606:4700:4700::1111", "172.32.0.1", "100.128.0.1"})
  @DisplayName("public addresses pass even when private ones are refused")
  void publicPasses(String host) throws Exception {
    assertEquals(AddressGuard.Verdict.PUBLIC, AddressGuard.classify(InetAddress.getByName(checked(strict, host))));
  }
}
