package io.claudememory.platform.db;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.List;
import java.util.OptionalLong;

/**
 * The postmaster's process, as named by {@code postmaster.pid}, the lock file PostgreSQL keeps in its data directory
 * while it runs (first line: the pid). A server that was killed leaves the file behind, and its pid may since have
 * gone to an unrelated process.
 */
final class PostmasterPid {
  static final String FILE = "postmaster.pid";

  private PostmasterPid() {
  }

  /** The pid in the lock file, if there is one. */
  static OptionalLong read(Path dataDir) {
    try {
      String first = Files.readString(dataDir.resolve(FILE)).lines().findFirst().orElse("").strip();
      return first.matches("\\d+") ? OptionalLong.of(Long.parseLong(first)) : OptionalLong.empty();
    } catch (NoSuchFileException e) {
      return OptionalLong.empty();
    } catch (IOException e) {
      throw new EmbeddedPostgresException("cannot read " + dataDir.resolve(FILE) + ": " + e, e);
    }
  }

  /**
   * Whether {@code pid} is a live postmaster for {@code dataDir}: pg_ctl starts it with {@code -D dataDir} on its
   * command line. When the command line cannot be read the process is assumed to be the postmaster, the cautious
   * answer since a wrong "no" would let a second server at the same files.
   */
  static boolean isRunning(long pid, Path dataDir) {
    return Processes.isAlive(pid) && ProcessHandle.of(pid)
        .flatMap(process -> process.info().arguments())
        .map(args -> List.of(args).contains(dataDir.toString()))
        .orElse(true);
  }
}
