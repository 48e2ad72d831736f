package io.claudememory.platform.db;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The cluster's data directory and the files kept beside it, named after it: for {@code DATA_DIR/pg} they are
 * {@code DATA_DIR/pg-password}, {@code DATA_DIR/pg.log} and {@code DATA_DIR/pg.owner}. Opening it runs initdb the
 * first time and only checks and re-owns the directory after that.
 */
final class DataDirectory {
  private static final Logger LOG = LoggerFactory.getLogger(EmbeddedPostgres.class);
  private static final Duration INITDB_TIMEOUT = Duration.ofMinutes(3);
  private static final Set<PosixFilePermission> OWNER_ONLY = PosixFilePermissions.fromString("rwx------");
  static final String SUPERUSER = "postgres";

  private final Path dir;
  private final PostgresBinaries.Installation binaries;
  private final PgAccount account;

  DataDirectory(Path dir, PostgresBinaries.Installation binaries, PgAccount account) {
    this.dir = dir.toAbsolutePath().normalize();
    this.binaries = binaries;
    this.account = account;
  }

  Path dir() {
    return dir;
  }

  Path passwordFile() {
    return sibling("-password");
  }

  Path logFile() {
    return sibling(".log");
  }

  Path ownerFile() {
    return sibling(".owner");
  }

  /** Makes the directory ready for the server and returns the superuser password, initialising on first use. */
  String open() {
    try {
      Files.createDirectories(dir.getParent());
      account.requireReachable(dir, "set DATA_DIR elsewhere");
      if (!Files.isRegularFile(dir.resolve("PG_VERSION"))) {
        String password = ClusterPassword.forNewCluster(passwordFile());
        initialise(password);
        return password;
      }
      requireSameMajorVersion();
      String password = ClusterPassword.forExistingCluster(passwordFile(), dir);
      account.own(dir);
      restrictToOwner();
      return password;
    } catch (IOException e) {
      throw new EmbeddedPostgresException("cannot prepare " + dir + " for embedded PostgreSQL: " + e
          + " (make DATA_DIR writable, or set DATABASE_URL)", e);
    }
  }

  private void initialise(String password) throws IOException {
    requireEmpty();
    Files.createDirectories(dir);
    Files.setPosixFilePermissions(dir, OWNER_ONLY);
    account.own(dir);
    // initdb reads the password from a file; it must be readable by the account, and lives only as long as initdb.
    Path pwfile = Files.createTempFile(dir.getParent(), ".pg-initdb-", ".pw",
        PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
    try {
      Files.writeString(pwfile, password + "\n");
      account.own(pwfile);
      long began = System.nanoTime();
      ProcessRunner.Result result = ProcessRunner.run("initdb", account.command(List.of(
          binaries.bin("initdb").toString(), "-D", dir.toString(), "-U", SUPERUSER, "--auth=scram-sha-256",
          "--pwfile=" + pwfile, "-E", "UTF8", "--locale=C")), binaries.home(), INITDB_TIMEOUT);
      if (!result.ok()) {
        throw new EmbeddedPostgresException("initdb could not create the embedded PostgreSQL cluster in " + dir + ": "
            + result.errorLine());
      }
      LOG.info("embedded PostgreSQL {} initialised in {} ({} ms)", binaries.version(), dir,
          (System.nanoTime() - began) / 1_000_000);
    } finally {
      Files.deleteIfExists(pwfile);
    }
  }

  /** PostgreSQL refuses a data directory others can enter (0700 or 0750 only); a copy or restore may widen it. */
  private void restrictToOwner() throws IOException {
    Set<PosixFilePermission> mode = Files.getPosixFilePermissions(dir);
    if (mode.contains(PosixFilePermission.GROUP_WRITE) || mode.contains(PosixFilePermission.OTHERS_READ)
        || mode.contains(PosixFilePermission.OTHERS_WRITE) || mode.contains(PosixFilePermission.OTHERS_EXECUTE)) {
      Files.setPosixFilePermissions(dir, OWNER_ONLY);
    }
  }

  private void requireEmpty() throws IOException {
    if (Files.isDirectory(dir)) {
      try (Stream<Path> entries = Files.list(dir)) {
        if (entries.findAny().isPresent()) {
          throw new EmbeddedPostgresException(dir + " holds files but no PostgreSQL cluster (no PG_VERSION): "
              + "empty it, or set DATA_DIR elsewhere");
        }
      }
    }
  }

  private void requireSameMajorVersion() throws IOException {
    String found = Files.readString(dir.resolve("PG_VERSION")).strip();
    if (!found.equals(binaries.majorVersion())) {
      throw new EmbeddedPostgresException(dir + " holds a PostgreSQL " + found + " cluster but the embedded server is "
          + binaries.majorVersion() + ": migrate it with pg_dump/pg_upgrade, or set DATA_DIR elsewhere");
    }
  }

  private Path sibling(String suffix) {
    return dir.resolveSibling(dir.getFileName() + suffix);
  }
}
