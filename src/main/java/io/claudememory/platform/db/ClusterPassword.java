package io.claudememory.platform.db;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import java.util.Base64;

/**
 * The superuser password of the embedded cluster, generated once before initdb and kept (mode 0600, owned by the
 * JVM's user) beside the data directory, where the next start reads it back. It never goes into a log.
 */
final class ClusterPassword {
  private static final int RANDOM_BYTES = 24;

  private ClusterPassword() {
  }

  /** For a cluster about to be created: the one a failed initdb left behind, else a new one, saved first. */
  static String forNewCluster(Path file) {
    if (Files.isRegularFile(file)) {
      return read(file);
    }
    byte[] random = new byte[RANDOM_BYTES];
    new SecureRandom().nextBytes(random);
    // URL-safe Base64 without padding: nothing a pwfile line, a JDBC property or a shell could misread.
    String password = Base64.getUrlEncoder().withoutPadding().encodeToString(random);
    try {
      Path tmp = Files.createTempFile(file.getParent(), file.getFileName() + "-", ".tmp",
          PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
      Files.writeString(tmp, password + "\n");
      Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE);
      return password;
    } catch (IOException e) {
      throw new EmbeddedPostgresException("cannot write " + file + " for embedded PostgreSQL: " + e
          + " (make DATA_DIR writable, or set DATABASE_URL)", e);
    }
  }

  /** For an initialised cluster: the saved password, which must exist since the cluster accepts no other. */
  static String forExistingCluster(Path file, Path dataDir) {
    if (!Files.isRegularFile(file)) {
      throw new EmbeddedPostgresException("the superuser password of the embedded PostgreSQL in " + dataDir
          + " is missing: restore " + file + ", or remove " + dataDir + " to start over with an empty database");
    }
    return read(file);
  }

  private static String read(Path file) {
    try {
      String password = Files.readString(file).strip();
      if (password.isEmpty()) {
        throw new EmbeddedPostgresException(file + " is empty: restore it, or remove it with the data directory "
            + "beside it to start over with an empty database");
      }
      return password;
    } catch (IOException e) {
      throw new EmbeddedPostgresException("cannot read " + file + ": " + e, e);
    }
  }
}
