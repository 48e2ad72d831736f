package io.claudememory.platform.db;

/**
 * The embedded PostgreSQL could not be prepared, started or stopped. The message's first line says what is wrong
 * and what to fix; when the server's own log explains more, its last lines follow on the next lines.
 */
public final class EmbeddedPostgresException extends RuntimeException {
  public EmbeddedPostgresException(String message) {
    super(message);
  }

  public EmbeddedPostgresException(String message, Throwable cause) {
    super(message, cause);
  }
}
