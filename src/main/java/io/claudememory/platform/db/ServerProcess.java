package io.claudememory.platform.db;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.OptionalLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Starts and stops the postmaster of one data directory through pg_ctl, run as the {@link PgAccount}.
 *
 * <p>Before a start it clears what an earlier run left: a server whose JVM is gone (see {@link OwnerFile}) is
 * stopped, one whose JVM still runs is refused; a lock file naming a pid that now belongs to another process is
 * removed, since PostgreSQL, which cannot always tell (a root process looks alive to {@code nobody}), would refuse
 * to start.
 */
final class ServerProcess {
  private static final Logger LOG = LoggerFactory.getLogger(EmbeddedPostgres.class);
  private static final int PG_CTL_WAIT_SECONDS = 60;
  private static final Duration PG_CTL_TIMEOUT = Duration.ofSeconds(PG_CTL_WAIT_SECONDS + 30);
  private static final Duration SIGNAL_GRACE = Duration.ofSeconds(30);
  private static final String HOST = "127.0.0.1";
  private static final int MAX_CONNECTIONS = 200;

  private final DataDirectory data;
  private final PostgresBinaries.Installation binaries;
  private final PgAccount account;
  private final ServerLog log;
  private final OwnerFile owner;

  ServerProcess(DataDirectory data, PostgresBinaries.Installation binaries, PgAccount account) {
    this.data = data;
    this.binaries = binaries;
    this.account = account;
    this.log = new ServerLog(data.logFile());
    this.owner = new OwnerFile(data.ownerFile());
  }

  /** Clears what an earlier run left in the data directory: a stale lock file, or a server whose JVM is gone. */
  void takeOver() {
    OptionalLong pid = PostmasterPid.read(data.dir());
    if (pid.isEmpty()) {
      return;
    }
    if (!PostmasterPid.isRunning(pid.getAsLong(), data.dir())) {
      LOG.info("removing the stale {} of a PostgreSQL that is no longer running", PostmasterPid.FILE);
      delete(data.dir().resolve(PostmasterPid.FILE));
      return;
    }
    OptionalLong ownerPid = owner.pid();
    if (ownerPid.isEmpty() || owner.ownerAlive()) {
      String by = ownerPid.isEmpty() ? "not started by this application" : "started by process " + ownerPid.getAsLong();
      throw new EmbeddedPostgresException(data.dir() + " is in use by a running PostgreSQL (pid " + pid.getAsLong()
          + ", " + by + "): stop it, or set DATA_DIR elsewhere");
    }
    LOG.warn("stopping the PostgreSQL (pid {}) that an earlier run left running in {}", pid.getAsLong(), data.dir());
    stop(pid.getAsLong());
  }

  /** Starts the server and returns the postmaster's pid; on failure nothing is left running. */
  long start(int port) {
    requireQuotable();
    long offset = log.size();
    long began = System.nanoTime();
    try {
      owner.claim();
      if (!Files.exists(log.file())) {
        Files.createFile(log.file());
      }
      account.own(log.file());
      String options = "-c port=" + port + " -c listen_addresses=" + HOST + " -c unix_socket_directories=''"
          + " -c max_connections=" + MAX_CONNECTIONS;
      ProcessRunner.Result result = pgCtl("start", "-l", log.file().toString(), "-o", options);
      OptionalLong pid = PostmasterPid.read(data.dir());
      if (!result.ok() || pid.isEmpty()) {
        throw startFailure(port, result, log.tailSince(offset));
      }
      LOG.info("embedded PostgreSQL started on {}:{} ({} ms)", HOST, port, (System.nanoTime() - began) / 1_000_000);
      return pid.getAsLong();
    } catch (IOException | RuntimeException e) {
      EmbeddedPostgresException failure = e instanceof EmbeddedPostgresException epe ? epe
          : new EmbeddedPostgresException("embedded PostgreSQL did not start in " + data.dir() + ": " + e, e);
      try {
        // A start that timed out may still come up later; it must not outlive the failure.
        PostmasterPid.read(data.dir()).ifPresentOrElse(this::stop, owner::release);
      } catch (RuntimeException cleanup) {
        failure.addSuppressed(cleanup);
      }
      throw failure;
    }
  }

  /**
   * Stops the postmaster {@code pid} and waits until it has exited: pg_ctl's fast shutdown (open sessions are rolled
   * back), else SIGINT, else SIGKILL. pg_ctl acts on whatever server the lock file names, so it is used only while
   * that is still {@code pid}. Returns whether the process is gone.
   */
  boolean stop(long pid) {
    if (PostmasterPid.isRunning(pid, data.dir())) {
      boolean lockStillOurs = PostmasterPid.read(data.dir()).equals(OptionalLong.of(pid));
      ProcessRunner.Result result = lockStillOurs ? pgCtl("stop", "-m", "fast") : null;
      if (result == null || !result.ok() || !Processes.awaitExit(pid, SIGNAL_GRACE)) {
        LOG.warn("pg_ctl did not stop PostgreSQL (pid {}){}; signalling it", pid,
            result == null ? "" : ": " + result.lastLine());
        signal(pid);
      }
    }
    boolean gone = !PostmasterPid.isRunning(pid, data.dir());
    if (gone && PostmasterPid.read(data.dir()).isEmpty()) {
      owner.release();
    }
    return gone;
  }

  boolean isRunning(long pid) {
    return PostmasterPid.isRunning(pid, data.dir());
  }

  private ProcessRunner.Result pgCtl(String action, String... options) {
    List<String> command = new ArrayList<>(List.of(binaries.bin("pg_ctl").toString(), action, "-D",
        data.dir().toString(), "-w", "-t", String.valueOf(PG_CTL_WAIT_SECONDS)));
    command.addAll(List.of(options));
    return ProcessRunner.run("pg_ctl " + action, account.command(command), binaries.home(), PG_CTL_TIMEOUT);
  }

  private void signal(long pid) {
    try {
      // SIGINT is PostgreSQL's fast shutdown; ProcessHandle can only send SIGTERM, which waits for every session.
      ProcessRunner.run("kill", List.of("kill", "-INT", String.valueOf(pid)), binaries.home(), Duration.ofSeconds(10));
    } catch (EmbeddedPostgresException e) {
      LOG.warn("cannot signal PostgreSQL (pid {}): {}", pid, e.getMessage());
    }
    if (!Processes.awaitExit(pid, SIGNAL_GRACE)) {
      ProcessHandle.of(pid).ifPresent(ProcessHandle::destroyForcibly);
      if (!Processes.awaitExit(pid, Duration.ofSeconds(10))) {
        LOG.error("PostgreSQL (pid {}) survived SIGKILL; it still holds {}", pid, data.dir());
      }
    }
  }

  private EmbeddedPostgresException startFailure(int port, ProcessRunner.Result pgCtl, List<String> tail) {
    String summary = tail.stream().anyMatch(line -> line.contains("Address already in use"))
        ? "embedded PostgreSQL cannot listen on " + HOST + ":" + port + " because the port is in use: stop what uses "
            + "it or configure another port, or set DATABASE_URL"
        : "embedded PostgreSQL did not start in " + data.dir() + ": "
            + ServerLog.firstFatal(tail).orElse(pgCtl.errorLine()) + " (see " + log.file() + ")";
    return new EmbeddedPostgresException(tail.isEmpty() ? summary
        : summary + "\nlast lines of " + log.file() + ":\n" + String.join("\n", tail));
  }

  /** pg_ctl hands paths to {@code /bin/sh} inside double quotes, where these characters would be interpreted. */
  private void requireQuotable() {
    for (Path path : List.of(data.dir(), log.file(), binaries.home())) {
      if (path.toString().matches(".*[\"$`\\\\].*")) {
        throw new EmbeddedPostgresException(path + " contains \", $, ` or \\, which pg_ctl cannot pass on: "
            + "choose a plainer DATA_DIR");
      }
    }
  }

  private static void delete(Path file) {
    try {
      Files.deleteIfExists(file);
    } catch (IOException e) {
      LOG.warn("cannot delete {}: {}", file, e.toString());
    }
  }
}
