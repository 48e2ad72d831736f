package io.claudememory.webhooks;

import java.net.URI;
import java.net.URISyntaxException;
import java.util.Locale;

/** A subscription's target: http or https, a host, no credentials, a port (1-65535) defaulting to the scheme's. */
record WebhookUrl(boolean https, String host, int port, String pathAndQuery) {

  /** The URL, or null when it is not an acceptable webhook target. */
  static WebhookUrl parse(String text) {
    try {
      URI uri = new URI(text);
      String scheme = uri.getScheme() == null ? "" : uri.getScheme().toLowerCase(Locale.ROOT);
      if (!scheme.equals("http") && !scheme.equals("https") || uri.getHost() == null || uri.getRawUserInfo() != null
          || uri.getRawFragment() != null || uri.getPort() == 0 || uri.getPort() > 65535) {
        return null;
      }
      boolean https = scheme.equals("https");
      int port = uri.getPort() < 0 ? (https ? 443 : 80) : uri.getPort();
      String path = uri.getRawPath() == null || uri.getRawPath().isEmpty() ? "/" : uri.getRawPath();
      return new WebhookUrl(https, uri.getHost(), port, uri.getRawQuery() == null ? path : path + "?"
          + uri.getRawQuery());
    } catch (URISyntaxException e) {
      return null;
    }
  }
}
