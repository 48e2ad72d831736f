package io.claudememory.platform.db;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

/** The server's log file ({@code pg_ctl -l}), read back to explain a failed start. */
final class ServerLog {
  private static final int TAIL_LINES = 15;
  private static final int MAX_READ = 64 * 1024;

  private final Path file;

  ServerLog(Path file) {
    this.file = file;
  }

  Path file() {
    return file;
  }

  /** The current length: remember it before a start to read back only what that start wrote. */
  long size() {
    try {
      return Files.exists(file) ? Files.size(file) : 0;
    } catch (IOException e) {
      return 0;
    }
  }

  /** The last lines written after {@code offset}, or an empty list when there is nothing to read. */
  List<String> tailSince(long offset) {
    try (RandomAccessFile in = new RandomAccessFile(file.toFile(), "r")) {
      long from = Math.max(offset, in.length() - MAX_READ);
      byte[] bytes = new byte[(int) Math.max(0, in.length() - from)];
      in.seek(from);
      in.readFully(bytes);
      List<String> lines = new String(bytes, StandardCharsets.UTF_8).lines().filter(l -> !l.isBlank()).toList();
      return lines.subList(Math.max(0, lines.size() - TAIL_LINES), lines.size());
    } catch (IOException e) {
      return List.of();
    }
  }

  /** The first FATAL or PANIC message among {@code lines}, without its timestamp prefix. */
  static Optional<String> firstFatal(List<String> lines) {
    return lines.stream()
        .filter(line -> line.contains("FATAL:") || line.contains("PANIC:"))
        .map(line -> line.replaceFirst(".*?(FATAL|PANIC):\\s*", ""))
        .findFirst();
  }
}
