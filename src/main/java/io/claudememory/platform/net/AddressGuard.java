package io.claudememory.platform.net;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * Decides whether the server may open a connection to a host a user supplied (a bring-your-own database, a webhook),
 * following the SSRF rules of protocols.md §6.5: IP literals are read by a real parser (inet_aton forms such as
 * {@code 0x7f000001}, {@code 2130706433} or {@code 127.1} included), names are resolved once and <em>every</em>
 * answer is checked, and the caller connects to the {@link Checked#address() checked address}, never to the name
 * again (a second lookup could be rebound to an internal address).
 *
 * <p>Link-local, cloud metadata, unspecified, multicast and reserved addresses are always refused; loopback and
 * private ranges only when {@code allowPrivate} (development) is off. Resolution runs on a worker thread.
 */
public final class AddressGuard {
  private static final Set<String> METADATA_NAMES = Set.of("metadata.google.internal", "metadata.goog", "metadata",
      "instance-data", "instance-data.ec2.internal", "metadata.azure.com");
  private static final Pattern LABEL = Pattern.compile("[a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9_])?");
  private static final Pattern IPV6_TEXT = Pattern.compile("[0-9a-f:.]+");
  private static final Pattern IPV4_PART = Pattern.compile("0x[0-9a-f]*|0[0-7]*|[1-9][0-9]*");

  private final Vertx vertx;
  private final boolean allowPrivate;

  public AddressGuard(Vertx vertx, boolean allowPrivate) {
    this.vertx = vertx;
    this.allowPrivate = allowPrivate;
  }

  /** How an address may be used. */
  public enum Verdict { PUBLIC, PRIVATE, FORBIDDEN }

  /** A host that passed: the name as given (for TLS names and display) and the checked address to connect to. */
  public record Checked(String host, InetAddress address) {
    public String ip() {
      return address.getHostAddress();
    }
  }

  /** Refusal of a host, with a message fit for the user (it never names the resolved addresses). */
  public static final class RefusedHostException extends RuntimeException {
    public RefusedHostException(String message) {
      super(message, null, false, false);
    }
  }

  /** Resolves and checks {@code host}; fails with {@link RefusedHostException}. */
  public Future<Checked> check(String host) {
    String name;
    InetAddress literal;
    try {
      name = normalise(host);
      literal = parseLiteral(name);
    } catch (RefusedHostException e) {
      return Future.failedFuture(e);
    }
    if (literal != null) {
      return verify(name, List.of(literal));
    }
    return vertx.executeBlocking(() -> Arrays.asList(InetAddress.getAllByName(name)), false)
        .recover(err -> Future.failedFuture(err instanceof UnknownHostException
            ? new RefusedHostException("The host name could not be resolved.") : err))
        .compose(addresses -> verify(name, addresses));
  }

  private Future<Checked> verify(String name, List<InetAddress> addresses) {
    if (addresses.isEmpty()) {
      return Future.failedFuture(new RefusedHostException("The host name could not be resolved."));
    }
    for (InetAddress address : addresses) {
      Verdict verdict = classify(address);
      if (verdict == Verdict.FORBIDDEN) {
        return Future.failedFuture(new RefusedHostException(
            "The host points to a link-local, metadata or reserved address, which is never allowed."));
      }
      if (verdict == Verdict.PRIVATE && !allowPrivate) {
        return Future.failedFuture(new RefusedHostException(
            "The host points to a private or loopback address, which this server does not allow."));
      }
    }
    return Future.succeededFuture(new Checked(name, addresses.get(0)));
  }

  /** Lower-cased, without a trailing dot or IPv6 brackets; refuses what is not a host name or address. */
  static String normalise(String host) {
    if (host == null || host.isBlank() || host.length() > 253) {
      throw new RefusedHostException("The host is not a valid host name or address.");
    }
    String name = host.strip().toLowerCase(Locale.ROOT);
    if (name.startsWith("[") && name.endsWith("]")) {
      name = name.substring(1, name.length() - 1);
    }
    if (name.endsWith(".")) {
      name = name.substring(0, name.length() - 1);
    }
    if (METADATA_NAMES.contains(name)) {
      throw new RefusedHostException("Cloud metadata hosts are never allowed.");
    }
    return name;
  }

  /**
   * The address a literal denotes, or null for a host name. A name whose last label looks numeric must be a valid
   * IPv4 literal (the WHATWG URL rule), so {@code 1.2.3.4.5} or {@code 0x7g} are refused rather than resolved.
   */
  static InetAddress parseLiteral(String name) {
    try {
      if (name.contains(":")) {
        if (!IPV6_TEXT.matcher(name).matches()) {
          throw new RefusedHostException("The host is not a valid IPv6 address.");
        }
        return InetAddress.getByName(name);
      }
      String[] labels = name.split("\\.", -1);
      String last = labels[labels.length - 1];
      if (last.isEmpty() || !Character.isDigit(last.charAt(0))) {
        for (String label : labels) {
          if (!LABEL.matcher(label).matches()) {
            throw new RefusedHostException("The host is not a valid host name or address.");
          }
        }
        return null;
      }
      return InetAddress.getByAddress(ipv4(labels));
    } catch (UnknownHostException e) {
      throw new RefusedHostException("The host is not a valid address.");
    }
  }

  /** inet_aton: 1 to 4 parts, each decimal, octal (leading 0) or hex (0x); the last part fills the rest. */
  private static byte[] ipv4(String[] parts) {
    if (parts.length > 4) {
      throw new RefusedHostException("The host is not a valid IPv4 address.");
    }
    long[] values = new long[parts.length];
    for (int i = 0; i < parts.length; i++) {
      String part = parts[i];
      if (!IPV4_PART.matcher(part).matches() || part.length() > 12) {
        throw new RefusedHostException("The host is not a valid IPv4 address.");
      }
      values[i] = part.startsWith("0x") ? (part.length() == 2 ? 0 : Long.parseLong(part.substring(2), 16))
          : part.length() > 1 && part.startsWith("0") ? Long.parseLong(part.substring(1), 8) : Long.parseLong(part);
    }
    long address = 0;
    for (int i = 0; i < values.length - 1; i++) {
      if (values[i] > 255) {
        throw new RefusedHostException("The host is not a valid IPv4 address.");
      }
      address |= values[i] << (8 * (3 - i));
    }
    long last = values[values.length - 1];
    if (last >= 1L << (8 * (5 - values.length))) {
      throw new RefusedHostException("The host is not a valid IPv4 address.");
    }
    address |= last;
    return new byte[] {(byte) (address >>> 24), (byte) (address >>> 16), (byte) (address >>> 8), (byte) address};
  }

  /** The class of one address; IPv6 forms that embed an IPv4 address (mapped, compatible, NAT64, 6to4) take its. */
  public static Verdict classify(InetAddress address) {
    byte[] b = address.getAddress();
    return b.length == 4 ? classify4(b) : classify6(b);
  }

  private static Verdict classify4(byte[] b) {
    int a0 = b[0] & 0xff;
    int a1 = b[1] & 0xff;
    int a2 = b[2] & 0xff;
    int a3 = b[3] & 0xff;
    if (a0 == 0 || (a0 == 169 && a1 == 254) || a0 >= 224) {
      return Verdict.FORBIDDEN;                     // this network, link-local (metadata), multicast, reserved
    }
    if ((a0 == 100 && a1 == 100 && a2 == 100 && a3 == 200) || (a0 == 168 && a1 == 63 && a2 == 129 && a3 == 16)) {
      return Verdict.FORBIDDEN;                     // Alibaba metadata, Azure wire server
    }
    if (a0 == 127 || a0 == 10 || (a0 == 172 && (a1 & 0xf0) == 16) || (a0 == 192 && a1 == 168)
        || (a0 == 100 && (a1 & 0xc0) == 64) || (a0 == 192 && a1 == 0 && (a2 == 0 || a2 == 2))
        || (a0 == 198 && (a1 & 0xfe) == 18) || (a0 == 198 && a1 == 51 && a2 == 100) || (a0 == 203 && a1 == 0
        && a2 == 113)) {
      return Verdict.PRIVATE;                       // loopback, RFC 1918, CGNAT, IETF, benchmarking, documentation
    }
    return Verdict.PUBLIC;
  }

  private static Verdict classify6(byte[] b) {
    boolean zeroPrefix96 = true;
    for (int i = 0; i < 10; i++) {
      zeroPrefix96 &= b[i] == 0;
    }
    if (zeroPrefix96 && b[10] == (byte) 0xff && b[11] == (byte) 0xff) {
      return classify4(Arrays.copyOfRange(b, 12, 16));                  // ::ffff:a.b.c.d
    }
    if (zeroPrefix96 && b[10] == 0 && b[11] == 0) {
      boolean upper = b[12] == 0 && b[13] == 0 && b[14] == 0;
      if (upper && (b[15] == 0)) {
        return Verdict.FORBIDDEN;                                      // ::
      }
      if (upper && b[15] == 1) {
        return Verdict.PRIVATE;                                        // ::1
      }
      return classify4(Arrays.copyOfRange(b, 12, 16));                  // ::a.b.c.d (deprecated compatible form)
    }
    int w0 = ((b[0] & 0xff) << 8) | (b[1] & 0xff);
    int w1 = ((b[2] & 0xff) << 8) | (b[3] & 0xff);
    if (w0 == 0x64 && w1 == 0xff9b) {
      return classify4(Arrays.copyOfRange(b, 12, 16));                  // NAT64 64:ff9b::/96 (and local 64:ff9b:1::)
    }
    if (w0 == 0x2002) {
      return classify4(Arrays.copyOfRange(b, 2, 6));                    // 6to4
    }
    if (w0 == 0xfd00 && w1 == 0x0ec2) {
      return Verdict.FORBIDDEN;                                        // AWS metadata fd00:ec2::254 (and its /32)
    }
    if ((w0 & 0xffc0) == 0xfe80 || (w0 & 0xff00) == 0xff00 || (w0 == 0x2001 && w1 == 0)) {
      return Verdict.FORBIDDEN;                                        // link-local, multicast, Teredo
    }
    if ((w0 & 0xfe00) == 0xfc00 || (w0 & 0xffc0) == 0xfec0 || (w0 == 0x2001 && w1 == 0x0db8)) {
      return Verdict.PRIVATE;                                          // ULA, site-local, documentation
    }
    return Verdict.PUBLIC;
  }
}
