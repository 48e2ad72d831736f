package io.claudememory.support;

/**
 * The Redis tests run against (DESIGN.md §12): {@code TEST_REDIS_URL}, else 127.0.0.1:6379 when it answers, else
 * none, and the Redis tests say plainly that they were skipped.
 */
public final class TestRedis {
  private TestRedis() {}

  /** The URL, or null when no Redis can be reached. */
  public static String url() {
    String url = System.getenv("TEST_REDIS_URL");
    if (url != null && !url.isBlank()) {
      return url;
    }
    return TestDatabase.reachable("127.0.0.1", 6379) ? "redis://127.0.0.1:6379" : null;
  }
}
