package io.claudememory.platform.db;

import com.sun.security.auth.module.UnixSystem;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Stream;

/**
 * The operating-system account the PostgreSQL processes run as. PostgreSQL refuses to run as root, so when the JVM is
 * root (containers, CI) the tools run under an unprivileged account ({@code nobody}, or {@code EMBEDDED_PG_USER})
 * through {@code setpriv} or {@code runuser}; that account must own the data directory and reach every directory
 * above it. Otherwise the tools run directly as the JVM's own user and nothing here does anything.
 */
final class PgAccount {
  static final String USER_ENV = "EMBEDDED_PG_USER";
  private static final String DEFAULT_USER = "nobody";
  private static final List<String> SYSTEM_BIN_DIRS = List.of("/usr/bin", "/bin", "/usr/sbin", "/sbin");

  private final String name;
  private final int uid;
  private final int gid;
  private final List<String> switchUser;

  private PgAccount(String name, int uid, int gid, List<String> switchUser) {
    this.name = name;
    this.uid = uid;
    this.gid = gid;
    this.switchUser = switchUser;
  }

  /** The JVM's own account, or the unprivileged one when the JVM is root. */
  static PgAccount detect() {
    UnixSystem self = new UnixSystem();
    if (self.getUid() != 0) {
      return new PgAccount(self.getUsername(), (int) self.getUid(), (int) self.getGid(), List.of());
    }
    String name = Optional.ofNullable(System.getenv(USER_ENV)).filter(s -> !s.isBlank()).orElse(DEFAULT_USER);
    int uid = id(name, "-u");
    if (uid == 0) {
      throw new EmbeddedPostgresException(USER_ENV + "=" + name + " is root, which PostgreSQL refuses to run as: "
          + "name an unprivileged account");
    }
    int gid = id(name, "-g");
    return new PgAccount(name, uid, gid, switchCommand(name, uid, gid));
  }

  String name() {
    return name;
  }

  /** Whether the PostgreSQL processes run as another account than the JVM's. */
  boolean switchesUser() {
    return !switchUser.isEmpty();
  }

  /** {@code command}, run as this account. */
  List<String> command(List<String> command) {
    List<String> full = new ArrayList<>(switchUser);
    full.addAll(command);
    return full;
  }

  /**
   * Fails with what to fix unless this account can traverse every directory above {@code target} ({@code target}
   * itself is given to the account separately). {@code elsewhere} is the other way out, e.g. "set DATA_DIR elsewhere".
   */
  void requireReachable(Path target, String elsewhere) {
    if (!switchesUser()) {
      return;
    }
    try {
      // Name the topmost blocking directory: the one the account is stopped at first.
      Path blocking = null;
      Path parent = target.toAbsolutePath().normalize().getParent().toRealPath();
      for (Path dir = parent; dir != null; dir = dir.getParent()) {
        blocking = canTraverse(dir) ? blocking : dir;
      }
      if (blocking != null) {
        throw new EmbeddedPostgresException("embedded PostgreSQL runs as '" + name + "' (the JVM is root) but "
            + "cannot reach " + target + ": make " + blocking + " traversable (chmod o+x) or " + elsewhere
            + ", or set DATABASE_URL");
      }
    } catch (IOException e) {
      throw new EmbeddedPostgresException("cannot inspect the directories above " + target + ": " + e, e);
    }
  }

  /** Gives {@code root} and everything under it to this account (chown -R), touching only what differs. */
  void own(Path root) {
    if (!switchesUser()) {
      return;
    }
    try {
      FileTrees.forEach(root, this::chown);
    } catch (IOException | RuntimeException e) {
      throw new EmbeddedPostgresException("cannot give " + root + " to '" + name + "' for embedded PostgreSQL: " + e,
          e);
    }
  }

  private void chown(Path path) {
    try {
      Map<String, Object> ids = Files.readAttributes(path, "unix:uid,gid", LinkOption.NOFOLLOW_LINKS);
      if ((int) ids.get("uid") != uid) {
        Files.setAttribute(path, "unix:uid", uid, LinkOption.NOFOLLOW_LINKS);
      }
      if ((int) ids.get("gid") != gid) {
        Files.setAttribute(path, "unix:gid", gid, LinkOption.NOFOLLOW_LINKS);
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private boolean canTraverse(Path dir) throws IOException {
    Map<String, Object> attrs = Files.readAttributes(dir, "unix:mode,uid,gid");
    int mode = (int) attrs.get("mode");
    // As in the kernel: the owner's bits apply to the owner, the group's to the group, the others' to the rest.
    int bits = (int) attrs.get("uid") == uid ? mode >> 6 : (int) attrs.get("gid") == gid ? mode >> 3 : mode;
    return (bits & 1) != 0;
  }

  private static int id(String name, String which) {
    ProcessRunner.Result result = ProcessRunner.run("id", List.of("id", which, name), Path.of("/"),
        Duration.ofSeconds(10));
    if (!result.ok() || !result.lastLine().matches("\\d+")) {
      throw new EmbeddedPostgresException("the JVM runs as root and PostgreSQL needs an unprivileged account, but '"
          + name + "' does not exist: set " + USER_ENV + " to an existing one, or set DATABASE_URL");
    }
    return Integer.parseInt(result.lastLine());
  }

  private static List<String> switchCommand(String name, int uid, int gid) {
    Optional<String> setpriv = executable("setpriv");
    if (setpriv.isPresent()) {
      return List.of(setpriv.get(), "--reuid=" + uid, "--regid=" + gid, "--clear-groups", "--");
    }
    Optional<String> runuser = executable("runuser");
    if (runuser.isPresent()) {
      return List.of(runuser.get(), "-u", name, "--");
    }
    throw new EmbeddedPostgresException("the JVM runs as root and neither setpriv nor runuser (util-linux) is "
        + "installed to run PostgreSQL as '" + name + "': install util-linux, run the JVM as another user, "
        + "or set DATABASE_URL");
  }

  private static Optional<String> executable(String tool) {
    String path = Optional.ofNullable(System.getenv("PATH")).orElse("");
    return Stream.concat(Stream.of(path.split(":")), SYSTEM_BIN_DIRS.stream())
        .filter(dir -> !dir.isBlank())
        .map(dir -> Path.of(dir, tool))
        .filter(Files::isExecutable)
        .map(Path::toString)
        .findFirst();
  }
}
