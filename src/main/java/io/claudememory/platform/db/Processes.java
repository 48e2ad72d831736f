package io.claudememory.platform.db;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Duration;

/** Whether a process, not necessarily a child of this JVM, still runs; read from Linux's {@code /proc}. */
final class Processes {
  private static final long POLL_MILLIS = 25;

  private Processes() {
  }

  /**
   * Whether {@code pid} runs, zombies excluded. pg_ctl detaches the postmaster, so once it exits its parent is PID 1,
   * which in a container may be this JVM or an init that reaps late or never; a killed JVM may wait for its parent
   * too. {@link ProcessHandle#isAlive} counts such zombies as alive.
   */
  static boolean isAlive(long pid) {
    try {
      String stat = Files.readString(Path.of("/proc", String.valueOf(pid), "stat"));
      // The state follows the command name, which is in parentheses and may itself hold spaces or parentheses.
      char state = stat.charAt(stat.lastIndexOf(')') + 2);
      return state != 'Z' && state != 'X';
    } catch (NoSuchFileException e) {
      return false;
    } catch (IOException | IndexOutOfBoundsException e) {
      return ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false);
    }
  }

  /** Polls until {@code pid} has exited; true if it did within {@code timeout}. */
  static boolean awaitExit(long pid, Duration timeout) {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (isAlive(pid)) {
      if (System.nanoTime() - deadline > 0) {
        return false;
      }
      try {
        Thread.sleep(POLL_MILLIS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return !isAlive(pid);
      }
    }
    return true;
  }
}
