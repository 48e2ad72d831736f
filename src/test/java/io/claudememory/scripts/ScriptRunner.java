package io.claudememory.scripts;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/** Runs an operator script from {@code scripts/} with a given environment, capturing its output. */
final class ScriptRunner {
  static final Path ROOT = Path.of("").toAbsolutePath();

  private ScriptRunner() {}

  /** Exit status and everything the script printed (stdout then stderr, interleaved). */
  record Result(int exit, String output) {}

  static Result run(Map<String, String> env, String... command) throws IOException, InterruptedException {
    ProcessBuilder builder = new ProcessBuilder(List.of(command)).directory(ROOT.toFile()).redirectErrorStream(true);
    builder.environment().putAll(env);
    Process process = builder.start();
    process.getOutputStream().close();
    String output = new String(process.getInputStream().readAllBytes());
    if (!process.waitFor(5, TimeUnit.MINUTES)) {
      process.destroyForcibly();
      throw new IllegalStateException(String.join(" ", command) + " did not finish in 5 minutes:\n" + output);
    }
    return new Result(process.exitValue(), output);
  }

  static boolean available(String tool) {
    for (String dir : System.getenv().getOrDefault("PATH", "/usr/bin").split(":")) {
      if (Path.of(dir, tool).toFile().canExecute()) {
        return true;
      }
    }
    return false;
  }
}
