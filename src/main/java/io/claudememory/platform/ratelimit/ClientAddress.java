package io.claudememory.platform.ratelimit;

import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.net.SocketAddress;

/**
 * The client's address for rate limiting. With no trusted proxy it is the TCP peer. Behind {@code n} proxies that
 * each append the address they saw to {@code X-Forwarded-For} (nginx's {@code $proxy_add_x_forwarded_for}), it is
 * the n-th entry from the right: entries further left were written by the client and prove nothing.
 */
final class ClientAddress {
  private final int trustedProxies;

  ClientAddress(int trustedProxies) {
    this.trustedProxies = trustedProxies;
  }

  String of(HttpServerRequest request) {
    SocketAddress peer = request.remoteAddress();
    String fallback = peer == null ? "unknown" : peer.hostAddress();
    if (trustedProxies == 0) {
      return fallback;
    }
    String forwarded = request.getHeader("X-Forwarded-For");
    if (forwarded == null || forwarded.isBlank()) {
      return fallback;
    }
    String[] hops = forwarded.split(",");
    String chosen = hops[Math.max(0, hops.length - trustedProxies)].trim();
    return chosen.isEmpty() || chosen.length() > 45 ? fallback : chosen;
  }
}
