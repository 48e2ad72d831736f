package io.claudememory.ops;

import java.io.IOException;
import java.io.InputStream;
import java.util.Properties;

/** Version and commit, written into {@code build-info.properties} by the build. */
public record BuildInfo(String version, String commit) {

  public static BuildInfo load() {
    Properties props = new Properties();
    try (InputStream in = BuildInfo.class.getResourceAsStream("/build-info.properties")) {
      if (in != null) {
        props.load(in);
      }
    } catch (IOException ignored) {
      // Unknown build info is shown as "unknown", never fatal.
    }
    return new BuildInfo(clean(props.getProperty("version")), clean(props.getProperty("commit")));
  }

  private static String clean(String value) {
    return value == null || value.isBlank() || value.startsWith("${") ? "unknown" : value;
  }
}
