package io.claudememory.bench;

import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Reads a server JVM's {@code -Xlog:safepoint,gc} file: how many safepoints, the longest time to reach one (every
 * thread, event loops included, waits that long), the longest total pause, and the longest GC pause.
 */
final class JvmLog {
  private static final Pattern SAFEPOINT =
      Pattern.compile("Reaching safepoint: (\\d+) ns, .*Total: (\\d+) ns");
  private static final Pattern GC_PAUSE = Pattern.compile("Pause .* (\\d+\\.\\d+)ms$");

  private JvmLog() {}

  static JsonObject summary(Path file) throws IOException {
    if (!Files.exists(file)) {
      return new JsonObject().put("missing", file.toString());
    }
    long safepoints = 0;
    long maxReach = 0;
    long maxTotal = 0;
    long gcPauses = 0;
    double maxGc = 0;
    for (String line : Files.readAllLines(file)) {
      Matcher sp = SAFEPOINT.matcher(line);
      if (sp.find()) {
        safepoints++;
        maxReach = Math.max(maxReach, Long.parseLong(sp.group(1)));
        maxTotal = Math.max(maxTotal, Long.parseLong(sp.group(2)));
      }
      Matcher gc = GC_PAUSE.matcher(line);
      if (gc.find()) {
        gcPauses++;
        maxGc = Math.max(maxGc, Double.parseDouble(gc.group(1)));
      }
    }
    return new JsonObject().put("safepoints", safepoints).put("maxTimeToSafepointMs", maxReach / 1e6)
        .put("maxSafepointTotalMs", maxTotal / 1e6).put("gcPauses", gcPauses).put("maxGcPauseMs", maxGc)
        .put("log", file.toString());
  }
}
