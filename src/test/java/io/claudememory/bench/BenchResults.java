package io.claudememory.bench;

import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.net.InetAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;

/** Writes a bench's figures to {@code bench-results/<name>.json} with the conditions they were measured under. */
final class BenchResults {
  private BenchResults() {}

  /** Where the machine stood: cores, load average at the end, the JVM, the time. */
  static JsonObject environment() {
    JsonObject env = new JsonObject()
        .put("finishedAt", Instant.now().toString())
        .put("cores", Runtime.getRuntime().availableProcessors())
        .put("java", System.getProperty("java.vm.name") + " " + System.getProperty("java.version"));
    try {
      String[] load = Files.readString(Path.of("/proc/loadavg")).trim().split("\\s+");
      env.put("loadAverage1m", Double.parseDouble(load[0])).put("loadAverage5m", Double.parseDouble(load[1]));
    } catch (IOException | RuntimeException e) {
      env.putNull("loadAverage1m");
    }
    try {
      env.put("host", InetAddress.getLocalHost().getHostName());
    } catch (IOException e) {
      env.putNull("host");
    }
    return env;
  }

  static Path write(Path dir, String name, JsonObject results) throws IOException {
    Files.createDirectories(dir);
    Path file = dir.resolve(name + ".json");
    Files.writeString(file, results.put("environment", environment()).encodePrettily() + "\n");
    return file;
  }
}
