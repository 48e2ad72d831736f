package io.claudememory.bench;

import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

/**
 * Drives one scenario with <a href="https://github.com/wg/wrk">wrk</a>, a load generator written in C: on a machine
 * whose cores the server, PostgreSQL and the load generator share, a JVM client spends much of the CPU the server
 * would use. Closed loop like the JVM client: {@code connections} connections, each sending its next request when the
 * answer to the last arrives. The requests cycle through {@code requests}; a POST body gets the request's number
 * appended to its {@code content} prefix, so no two are the same. Latency is wrk's own (microsecond resolution,
 * percentiles over every request of the measured run); a failure is a socket error, a timeout (10 s) or an answer
 * outside 2xx/3xx. The server's CPU time over the measured run (all its threads, from the process) is divided by the
 * requests answered: a figure that depends far less than req/s on what else the machine is running.
 */
final class Wrk {
  /** One request of the cycle; {@code bodyPrefix}/{@code bodySuffix} surround the request number (POST only). */
  record Request(String method, String path, String bodyPrefix, String bodySuffix) {
    static Request get(String path) {
      return new Request("GET", path, null, null);
    }
  }

  private Wrk() {}

  static boolean available() {
    try {
      Process p = new ProcessBuilder("wrk", "--version").redirectErrorStream(true).start();
      p.getInputStream().readAllBytes();
      return p.waitFor(10, TimeUnit.SECONDS);
    } catch (IOException | InterruptedException e) {
      return false;
    }
  }

  /** A warm-up run of {@code warmupSeconds} (discarded), then the measured run of {@code seconds}. */
  static JsonObject measure(String name, String baseUrl, String token, List<Request> requests, int connections,
      int warmupSeconds, int seconds, Path workDir, Supplier<Duration> serverCpu)
      throws IOException, InterruptedException {
    Path script = Files.createTempFile(workDir, "wrk-", ".lua");
    try {
      Files.writeString(script, script(token, requests), StandardCharsets.UTF_8);
      JsonObject warmup = warmupSeconds > 0 ? run(baseUrl, script, connections, warmupSeconds) : new JsonObject();
      Duration cpuBefore = serverCpu.get();
      JsonObject run = run(baseUrl, script, connections, seconds);
      Duration cpu = serverCpu.get().minus(cpuBefore);
      long failures = run.getLong("connectErrors") + run.getLong("readErrors") + run.getLong("writeErrors")
          + run.getLong("statusErrors") + run.getLong("timeouts");
      long ok = run.getLong("requests") - failures;
      double perSecond = ok / (run.getLong("durationUs") / 1e6);
      JsonObject out = new JsonObject().put("name", name).put("client", "wrk").put("concurrency", connections)
          .put("seconds", seconds).put("warmupSeconds", warmupSeconds).put("count", ok).put("failures", failures)
          .put("perSecond", Math.round(perSecond * 10) / 10.0)
          .put("p50Ms", run.getLong("p50Us") / 1000.0).put("p90Ms", run.getLong("p90Us") / 1000.0)
          .put("p99Ms", run.getLong("p99Us") / 1000.0).put("maxMs", run.getLong("maxUs") / 1000.0)
          .put("meanMs", Math.round(run.getDouble("meanUs")) / 1000.0)
          .put("serverCpuMicrosPerRequest", ok == 0 ? null : Math.round(cpu.toNanos() / 1000.0 / ok))
          .put("warmupFailures", warmup.isEmpty() ? 0 : warmup.getLong("statusErrors") + warmup.getLong("timeouts"))
          .put("wrk", run);
      System.out.printf("  %-45s %8.0f req/s  n=%d%s p50=%.1fms p90=%.1fms p99=%.1fms max=%.1fms, server CPU %s us/req"
          + " (wrk)%n", name, perSecond, ok, failures == 0 ? "" : " failures=" + failures, out.getDouble("p50Ms"),
          out.getDouble("p90Ms"), out.getDouble("p99Ms"), out.getDouble("maxMs"),
          out.getValue("serverCpuMicrosPerRequest"));
      return out;
    } finally {
      Files.deleteIfExists(script);
    }
  }

  private static JsonObject run(String baseUrl, Path script, int connections, int seconds)
      throws IOException, InterruptedException {
    Process p = new ProcessBuilder("wrk", "-t1", "-c" + connections, "-d" + seconds + "s", "--timeout", "10s",
        "-s", script.toString(), baseUrl).redirectErrorStream(true).start();
    String output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    if (!p.waitFor(seconds + 30L, TimeUnit.SECONDS) || p.exitValue() != 0) {
      throw new IllegalStateException("wrk failed: " + output);
    }
    return output.lines().filter(line -> line.startsWith("WRK_RESULT ")).findFirst()
        .map(line -> new JsonObject(line.substring("WRK_RESULT ".length())))
        .orElseThrow(() -> new IllegalStateException("wrk printed no result: " + output));
  }

  /** The Lua script: the request cycle, the credential, and a {@code done} that prints the figures as JSON. */
  static String script(String token, List<Request> requests) {
    StringBuilder lua = new StringBuilder("local requests = {\n");
    for (Request r : requests) {
      lua.append("  {").append(quote(r.method())).append(", ").append(quote(r.path())).append(", ")
          .append(r.bodyPrefix() == null ? "nil" : quote(r.bodyPrefix())).append(", ")
          .append(r.bodySuffix() == null ? "nil" : quote(r.bodySuffix())).append("},\n");
    }
    lua.append("}\n")
        .append("local n = 0\n")
        .append("local bearer = ").append(quote("Bearer " + token)).append("\n")
        .append("""
            wrk.headers["Authorization"] = bearer
            -- wrk.format uses a headers table given to it instead of wrk.headers, so this one repeats the credential
            local json = { ["Authorization"] = bearer, ["Content-Type"] = "application/json" }
            function request()
              n = n + 1
              local r = requests[(n - 1) % #requests + 1]
              if r[3] == nil then
                return wrk.format(r[1], r[2])
              end
              return wrk.format(r[1], r[2], json, r[3] .. n .. r[4])
            end
            function done(summary, latency, requests)
              local e = summary.errors
              io.write(string.format('WRK_RESULT {"requests":%d,"durationUs":%d,"connectErrors":%d,' ..
                '"readErrors":%d,"writeErrors":%d,"statusErrors":%d,"timeouts":%d,"p50Us":%d,"p90Us":%d,' ..
                '"p99Us":%d,"maxUs":%d,"meanUs":%.1f}\\n', summary.requests, summary.duration, e.connect, e.read,
                e.write, e.status, e.timeout, latency:percentile(50), latency:percentile(90),
                latency:percentile(99), latency.max, latency.mean))
            end
            """);
    return lua.toString();
  }

  /** A Lua long string: nothing inside is an escape. */
  private static String quote(String s) {
    String level = "=";
    while (s.contains("]" + level + "]")) {
      level += "=";
    }
    return "[" + level + "[" + s + "]" + level + "]";
  }
}
