package io.claudememory.platform.db;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.OptionalLong;

/**
 * The file beside the data directory naming the JVM that started its server, as {@code <pid> <start epoch millis>}.
 * pg_ctl detaches the server, so it outlives a JVM that is killed; this file tells such an orphan (its JVM is gone)
 * from a server another live JVM still uses. The start time guards against a recycled pid.
 */
final class OwnerFile {
  private final Path file;

  OwnerFile(Path file) {
    this.file = file;
  }

  /** Records this JVM as the owner; done before pg_ctl start, so no server runs without an owner on record. */
  void claim() throws IOException {
    ProcessHandle self = ProcessHandle.current();
    Files.writeString(file, self.pid() + " " + startMillis(self) + "\n");
  }

  /** The owner's pid, empty when there is no readable owner file. */
  OptionalLong pid() {
    String[] parts = read();
    return parts.length == 2 ? OptionalLong.of(Long.parseLong(parts[0])) : OptionalLong.empty();
  }

  /** Whether the recorded JVM still runs (this one included). */
  boolean ownerAlive() {
    String[] parts = read();
    if (parts.length != 2) {
      return false;
    }
    long pid = Long.parseLong(parts[0]);
    long started = Long.parseLong(parts[1]);
    return Processes.isAlive(pid) && ProcessHandle.of(pid).map(p -> startMillis(p) == started).orElse(false);
  }

  void release() {
    try {
      Files.deleteIfExists(file);
    } catch (IOException e) {
      // A stale owner file is harmless: it is only read while a server holds the data directory.
    }
  }

  private String[] read() {
    try {
      String content = Files.exists(file) ? Files.readString(file).strip() : "";
      return content.matches("\\d+ \\d+") ? content.split(" ") : new String[0];
    } catch (IOException e) {
      return new String[0];
    }
  }

  private static long startMillis(ProcessHandle process) {
    return process.info().startInstant().map(Instant::toEpochMilli).orElse(0L);
  }
}
