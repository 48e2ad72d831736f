package io.claudememory.platform.db;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.sun.security.auth.module.UnixSystem;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.nio.file.attribute.PosixFilePermissions;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

@DisplayName("Embedded PostgreSQL")
class EmbeddedPostgresTest {
  /** Shared by every test and every run, so the 15 MB archive is unpacked once. */
  private static final Path BINARIES = Path.of("target", "embedded-pg-binaries").toAbsolutePath();
  private static final boolean JVM_IS_ROOT = new UnixSystem().getUid() == 0;
  private static final long WAIT_SECONDS = 20;

  @TempDir
  Path tmp;

  private Path dataDir;
  private final List<EmbeddedPostgres> servers = new ArrayList<>();

  @BeforeEach
  void reachableTempDir() throws IOException {
    // JUnit creates the directory 0700; the unprivileged account PostgreSQL runs as under root must traverse it.
    Files.setPosixFilePermissions(tmp, PosixFilePermissions.fromString("rwxr-xr-x"));
    dataDir = tmp.resolve("data").resolve("pg");
  }

  @AfterEach
  void stopServers() {
    servers.forEach(EmbeddedPostgres::close);
  }

  @Test
  @DisplayName("a first start initialises a cluster that accepts the superuser and its generated password")
  void firstStartInitialisesCluster() throws Exception {
    EmbeddedPostgres pg = start(dataDir, freePort());

    assertEquals("jdbc:postgresql://127.0.0.1:" + pg.port() + "/postgres", pg.jdbcUrl());
    assertEquals("postgres", pg.user());
    assertEquals("postgres", pg.database());
    assertTrue(query(pg, "SELECT version()").contains("PostgreSQL 16."), "the server should be PostgreSQL 16");
    Path passwordFile = tmp.resolve("data/pg-password");
    assertEquals(pg.password(), Files.readString(passwordFile).strip(), "the password should be saved beside pg/");
    assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(passwordFile)));
    try (var files = Files.list(tmp.resolve("data"))) {
      assertTrue(files.noneMatch(f -> f.getFileName().toString().startsWith(".pg-initdb-")),
          "initdb's password file should be deleted");
    }
  }

  @Test
  @DisplayName("the server runs as the unprivileged account when the JVM is root, else as the JVM's own user")
  void serverRunsAsUnprivilegedAccount() throws Exception {
    start(dataDir, freePort());

    long expectedUid = JVM_IS_ROOT ? uidOf(Optional.ofNullable(System.getenv(PgAccount.USER_ENV)).orElse("nobody"))
        : new UnixSystem().getUid();
    assertNotEquals(0, processUid(postmasterPid()), "PostgreSQL must not run as root");
    assertEquals(expectedUid, processUid(postmasterPid()), "the postmaster's uid");
  }

  @Test
  @DisplayName("a second start reuses the cluster: its data is still there and initdb does not run again")
  void secondStartReusesCluster() throws Exception {
    EmbeddedPostgres first = start(dataDir, freePort());
    execute(first, "CREATE TABLE kept (id int); INSERT INTO kept VALUES (42)");
    FileTime initialisedAt = Files.getLastModifiedTime(dataDir.resolve("PG_VERSION"));
    first.close();

    EmbeddedPostgres second = start(dataDir, freePort());

    assertEquals("42", query(second, "SELECT id FROM kept"), "the row written by the first run");
    assertEquals(first.password(), second.password(), "the saved password should be reused");
    assertEquals(initialisedAt, Files.getLastModifiedTime(dataDir.resolve("PG_VERSION")),
        "PG_VERSION is written by initdb only");
  }

  @Test
  @DisplayName("after close no PostgreSQL process remains for the data directory, and closing again is harmless")
  void closeLeavesNoProcess() throws Exception {
    EmbeddedPostgres pg = start(dataDir, freePort());
    long pid = postmasterPid();

    pg.close();
    pg.close();

    awaitExit(pid);
    assertFalse(Files.exists(dataDir.resolve("postmaster.pid")), "postmaster.pid should be gone after a clean stop");
    assertEquals(List.of(), serverProcesses(dataDir), "processes still running on " + dataDir);
  }

  @Test
  @DisplayName("a start on a port already in use fails with a clear message and leaves no server behind")
  void portInUseFailsClearly() throws Exception {
    try (ServerSocket taken = new ServerSocket(0, 50, InetAddress.getByName("127.0.0.1"))) {
      EmbeddedPostgresException e = assertThrows(EmbeddedPostgresException.class,
          () -> start(dataDir, taken.getLocalPort()));

      String summary = e.getMessage().lines().findFirst().orElseThrow();
      assertTrue(summary.contains("127.0.0.1:" + taken.getLocalPort()) && summary.contains("port is in use"),
          "summary line should name the port in use, was: " + summary);
      assertTrue(e.getMessage().contains("Address already in use"), "the log tail should follow the summary");
    }
    assertFalse(Files.exists(dataDir.resolve("postmaster.pid")), "no server should hold the data directory");
    assertEquals(List.of(), serverProcesses(dataDir), "processes still running on " + dataDir);
  }

  @Test
  @DisplayName("a lock file left by a killed server, naming a pid that now belongs to another process, is cleared")
  void staleLockFileIsCleared() throws Exception {
    start(dataDir, freePort());
    long pid = postmasterPid();
    killServer(pid);
    // After a container restart the dead postmaster's pid is often taken; PostgreSQL would refuse to start.
    Path lock = dataDir.resolve("postmaster.pid");
    List<String> lines = new ArrayList<>(Files.readAllLines(lock));
    lines.set(0, String.valueOf(ProcessHandle.current().pid()));
    Files.write(lock, lines);

    EmbeddedPostgres again = start(dataDir, freePort());

    assertEquals("1", query(again, "SELECT 1"));
  }

  @Test
  @DisplayName("a server left running by a JVM that died is stopped and replaced by the next start")
  void orphanedServerIsReplaced() throws Exception {
    start(dataDir, freePort());
    long orphan = postmasterPid();
    Process gone = new ProcessBuilder("true").start();
    gone.waitFor();
    Files.writeString(tmp.resolve("data/pg.owner"), gone.pid() + " 0\n");

    EmbeddedPostgres replacement = start(dataDir, freePort());

    awaitExit(orphan);
    assertNotEquals(orphan, postmasterPid(), "a new postmaster should run");
    assertEquals("1", query(replacement, "SELECT 1"));
  }

  @Test
  @DisplayName("a second server on a data directory whose server is still in use is refused")
  void dataDirInUseIsRefused() throws Exception {
    EmbeddedPostgres first = start(dataDir, freePort());

    EmbeddedPostgresException e = assertThrows(EmbeddedPostgresException.class, () -> start(dataDir, freePort()));

    assertTrue(e.getMessage().contains("is in use by a running PostgreSQL"), e.getMessage());
    assertEquals("1", query(first, "SELECT 1"), "the first server should be untouched");
  }

  @Test
  @DisplayName("when the JVM is root, a data directory the unprivileged account cannot reach is refused with the fix")
  void unreachableDataDirIsRefused() throws Exception {
    assumeTrue(JVM_IS_ROOT, "only root hands PostgreSQL to another account");
    Path locked = Files.createDirectory(tmp.resolve("locked"));
    Files.setPosixFilePermissions(locked, PosixFilePermissions.fromString("rwx------"));
    Path unreachable = locked.resolve("data").resolve("pg");

    EmbeddedPostgresException e = assertThrows(EmbeddedPostgresException.class, () -> start(unreachable, freePort()));

    assertTrue(e.getMessage().contains("cannot reach " + unreachable), e.getMessage());
    assertTrue(e.getMessage().contains("make " + locked.toRealPath() + " traversable (chmod o+x)"), e.getMessage());
    assertTrue(e.getMessage().contains("set DATA_DIR elsewhere, or set DATABASE_URL"), e.getMessage());
  }

  @Test
  @DisplayName("on a platform without bundled binaries the error says to set DATABASE_URL")
  void unsupportedPlatformSaysWhatToDo() {
    EmbeddedPostgresException e = assertThrows(EmbeddedPostgresException.class,
        () -> PostgresBinaries.archiveName("Mac OS X", "aarch64"));

    assertTrue(e.getMessage().contains("set DATABASE_URL"), e.getMessage());
    assertEquals("postgres-linux-arm_64.txz", PostgresBinaries.archiveName("Linux", "aarch64"));
    assertEquals("postgres-linux-x86_64.txz", PostgresBinaries.archiveName("Linux", "amd64"));
  }

  @Test
  @DisplayName("a half-unpacked binaries directory is unpacked again, keeping exec bits and symbolic links")
  void halfUnpackedBinariesAreRedone() throws Exception {
    Path shared = PostgresBinaries.unpack(BINARIES).home();
    Path binaries = tmp.resolve("binaries");
    Path damaged = Files.createDirectories(binaries.resolve(shared.getFileName()).resolve("bin"));
    Files.writeString(damaged.resolve("postgres"), "cut short");

    Path home = PostgresBinaries.unpack(binaries).home();

    assertEquals(damaged.getParent(), home, "the same directory, redone");
    assertTrue(Files.isRegularFile(home.resolve(".unpacked")), "the marker is written last");
    Path postgres = home.resolve("bin/postgres");
    assertEquals("rwxr-xr-x", PosixFilePermissions.toString(Files.getPosixFilePermissions(postgres)));
    assertTrue(Files.isSymbolicLink(home.resolve("lib/libpq.so")), "lib/libpq.so should stay a symbolic link");
    try (var entries = Files.list(binaries)) {
      assertEquals(List.of(home), entries.toList(), "no staging directory should be left");
    }
  }

  @Test
  @DisplayName("a data directory holding other files is refused rather than initialised over")
  void foreignDataDirIsRefused() throws Exception {
    Files.createDirectories(dataDir);
    Files.writeString(dataDir.resolve("notes.txt"), "not a cluster");

    EmbeddedPostgresException e = assertThrows(EmbeddedPostgresException.class, () -> start(dataDir, freePort()));

    assertTrue(e.getMessage().contains("holds files but no PostgreSQL cluster"), e.getMessage());
    assertTrue(Files.exists(dataDir.resolve("notes.txt")), "the files should be untouched");
  }

  private EmbeddedPostgres start(Path dir, int port) {
    EmbeddedPostgres pg = EmbeddedPostgres.start(new EmbeddedPostgres.Settings(dir, BINARIES, port));
    servers.add(pg);
    return pg;
  }

  private long postmasterPid() throws IOException {
    return Long.parseLong(Files.readAllLines(dataDir.resolve("postmaster.pid")).get(0).strip());
  }

  private static int freePort() throws IOException {
    try (ServerSocket socket = new ServerSocket(0, 50, InetAddress.getByName("127.0.0.1"))) {
      return socket.getLocalPort();
    }
  }

  private static String query(EmbeddedPostgres pg, String sql) throws SQLException {
    try (Connection c = DriverManager.getConnection(pg.jdbcUrl(), pg.user(), pg.password());
        Statement s = c.createStatement();
        ResultSet rs = s.executeQuery(sql)) {
      assertTrue(rs.next(), "a row from " + sql);
      return rs.getString(1);
    }
  }

  private static void execute(EmbeddedPostgres pg, String sql) throws SQLException {
    try (Connection c = DriverManager.getConnection(pg.jdbcUrl(), pg.user(), pg.password());
        Statement s = c.createStatement()) {
      s.execute(sql);
    }
  }

  /** Kills the postmaster like an OOM killer would, then waits for its children, which exit when it dies. */
  private static void killServer(long pid) throws InterruptedException {
    ProcessHandle postmaster = ProcessHandle.of(pid).orElseThrow();
    List<ProcessHandle> children = postmaster.children().toList();
    postmaster.destroyForcibly();
    awaitExit(pid);
    for (ProcessHandle child : children) {
      awaitExit(child.pid());
    }
  }

  /** Polls until {@code pid} is gone or a zombie (the postmaster is detached, so PID 1 reaps it, maybe late). */
  /** Polls until {@code pid} is gone or a zombie (the postmaster is detached, so PID 1 reaps it, maybe late). */
  private static void awaitExit(long pid) throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(WAIT_SECONDS);
    while (runs(pid)) {
      if (System.nanoTime() - deadline > 0) {
        throw new AssertionError("process " + pid + " still runs after " + WAIT_SECONDS + " s");
      }
      Thread.sleep(20);
    }
  }

  private static boolean runs(long pid) {
    try {
      String stat = Files.readString(Path.of("/proc", String.valueOf(pid), "stat"));
      return stat.charAt(stat.lastIndexOf(')') + 2) != 'Z';
    } catch (IOException e) {
      return false;
    }
  }

  /** Processes whose command line names the data directory: the postmaster is started with -D dataDir. */
  private static List<Long> serverProcesses(Path dir) {
    return ProcessHandle.allProcesses()
        .filter(p -> runs(p.pid()))
        .filter(p -> p.info().arguments().map(args -> List.of(args).contains(dir.toString())).orElse(false))
        .map(ProcessHandle::pid)
        .toList();
  }

  private static long processUid(long pid) throws IOException {
    String uidLine = Files.readAllLines(Path.of("/proc", String.valueOf(pid), "status")).stream()
        .filter(line -> line.startsWith("Uid:")).findFirst().orElseThrow();
    return Long.parseLong(uidLine.split("\\s+")[1]);
  }

  private static long uidOf(String user) throws Exception {
    Process id = new ProcessBuilder("id", "-u", user).start();
    String out = new String(id.getInputStream().readAllBytes()).strip();
    assertEquals(0, id.waitFor(), "id -u " + user);
    return Long.parseLong(out);
  }
}
