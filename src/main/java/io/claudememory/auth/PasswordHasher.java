package io.claudememory.auth;

import at.favre.lib.crypto.bcrypt.BCrypt;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.WorkerExecutor;
import java.nio.charset.StandardCharsets;

/**
 * bcrypt on a dedicated worker pool, never on an event loop (not even the decoy hash, which is made on first use).
 * The pool leaves one core to the event loops: hashing is pure CPU, so a pool as wide as the machine would let a
 * login burst delay every other request.
 */
public final class PasswordHasher {
  private final WorkerExecutor workers;
  private final int cost;
  /** Verified against when the email is unknown, so that answer takes as long as a wrong password. */
  private volatile byte[] decoy;

  public PasswordHasher(Vertx vertx, int cost) {
    this.cost = cost;
    this.workers = vertx.createSharedWorkerExecutor("password-hash",
        Math.max(1, Runtime.getRuntime().availableProcessors() - 1));
  }

  public Future<String> hash(String password) {
    return workers.executeBlocking(() -> new String(
        BCrypt.withDefaults().hash(cost, password.getBytes(StandardCharsets.UTF_8)), StandardCharsets.UTF_8), false);
  }

  /**
   * True when {@code password} matches {@code hash}; with a null hash, or a password longer than bcrypt reads (which
   * no stored hash can match, PasswordPolicy refuses them), spends the same time and answers false. (The bcrypt
   * library throws on passwords over 72 bytes rather than answering no.)
   */
  public Future<Boolean> verify(String password, String hash) {
    return workers.executeBlocking(() -> {
      byte[] given = password.getBytes(StandardCharsets.UTF_8);
      if (hash == null || given.length > PasswordPolicy.MAX_BYTES) {
        BCrypt.verifyer().verify(new byte[] {'x'}, decoy());
        return false;
      }
      return BCrypt.verifyer().verify(given, hash.getBytes(StandardCharsets.UTF_8)).verified;
    }, false);
  }

  /** Runs on a hash worker; two threads racing here both compute an equivalent decoy, which is harmless. */
  private byte[] decoy() {
    byte[] value = decoy;
    if (value == null) {
      value = BCrypt.withDefaults().hash(cost, "decoy password for unknown accounts".toCharArray());
      decoy = value;
    }
    return value;
  }

  public Future<Void> close() {
    return workers.close();
  }
}
