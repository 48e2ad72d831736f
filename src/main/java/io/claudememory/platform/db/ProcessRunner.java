package io.claudememory.platform.db;

import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** Runs one command to completion on the calling thread and returns its exit code and combined output. */
final class ProcessRunner {
  private ProcessRunner() {
  }

  /** What a finished command returned. */
  record Result(int exitCode, String output) {
    boolean ok() {
      return exitCode == 0;
    }

    /** The last non-blank line: where PostgreSQL's tools say what went wrong. */
    String lastLine() {
      List<String> lines = output.strip().lines().toList();
      return lines.isEmpty() ? "exit code " + exitCode : lines.get(lines.size() - 1).strip();
    }

    /** The first line that reports an error (initdb and pg_ctl say "error:"), else the last line. */
    String errorLine() {
      return output.lines().filter(line -> line.contains("error:")).findFirst().map(String::strip)
          .orElseGet(this::lastLine);
    }
  }

  /**
   * Runs {@code command} in {@code workDir}, killing it after {@code timeout}. Output goes to a temporary file, not a
   * pipe: pg_ctl leaves a daemon behind, and a pipe that daemon inherited would never reach end-of-file.
   */
  static Result run(String what, List<String> command, Path workDir, Duration timeout) {
    Path output = null;
    try {
      output = Files.createTempFile("embedded-pg-", ".out");
      ProcessBuilder builder = new ProcessBuilder(command)
          .directory(workDir.toFile())
          .redirectErrorStream(true)
          .redirectOutput(output.toFile())
          .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")));
      // PG* variables (PGDATA, PGPORT, ...) would override what we pass; the C locale keeps messages parseable.
      builder.environment().keySet().removeIf(name -> name.startsWith("PG"));
      builder.environment().put("LC_ALL", "C");
      Process process = builder.start();
      if (!process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
        process.destroyForcibly().waitFor();
        throw new EmbeddedPostgresException(what + " did not finish within " + timeout.toSeconds() + " s");
      }
      return new Result(process.exitValue(), new String(Files.readAllBytes(output), StandardCharsets.UTF_8));
    } catch (IOException e) {
      throw new EmbeddedPostgresException("cannot run " + what + ": " + e.getMessage(), e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new EmbeddedPostgresException("interrupted while running " + what, e);
    } finally {
      deleteQuietly(output);
    }
  }

  private static void deleteQuietly(Path file) {
    if (file != null) {
      try {
        Files.deleteIfExists(file);
      } catch (IOException ignored) {
        // A leftover temporary file is harmless; the result matters more.
      }
    }
  }
}
