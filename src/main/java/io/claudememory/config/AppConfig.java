package io.claudememory.config;

import java.nio.file.Path;
import java.util.List;

/**
 * The whole configuration, read once at start-up and validated by {@link ConfigReader}. Immutable; passed to the
 * components that need a part of it. Secrets are held here but never printed: {@link #toString()} is overridden.
 */
public record AppConfig(
    boolean production,
    String nodeId,
    Http http,
    Path dataDir,
    Path storagePath,
    Database database,
    String redisUrl,
    Auth auth,
    byte[] masterKey,
    Claude claude,
    Logging logging,
    RateLimit rateLimit,
    Portability portability,
    Webhooks webhooks,
    Search search,
    Realtime realtime) {

  public record Http(String host, int port, int instances, long bodyLimitBytes, int shutdownGraceSeconds,
      int drainDelaySeconds, List<String> allowedOrigins) {}

  /** {@code url} is null when the embedded PostgreSQL is used. */
  public record Database(String url, int embeddedPort, int masterPoolSize, String tenantPrefix, int tenantPoolSize,
      int maxTenantPools, int tenantIdleSeconds, int connectTimeoutMs, int breakerOpenSeconds,
      boolean allowPrivateHosts, int switchFreezeLeaseSeconds) {

    public boolean embedded() {
      return url == null;
    }
  }

  /**
   * Full-text search: the PostgreSQL text-search configuration new tenant databases are created with, and how many of
   * the most recent matches are ranked together (the bound on a search's work; see conversations.SearchSql).
   */
  public record Search(String language, int candidates) {}

  /** Either {@code jwtSecret} (HS256) or the PEM pair is set. */
  public record Auth(String jwtSecret, String jwtPrivateKey, String jwtPublicKey, String issuer, String audience,
      int accessTokenMinutes, int refreshTokenDays, int bcryptCost, int stateCacheSeconds, String adminEmail) {

    @Override
    public String toString() {
      return "Auth[issuer=" + issuer + ", audience=" + audience + ", bcryptCost=" + bcryptCost + "]";
    }
  }

  /**
   * Claude: which provider answers ({@code anthropic}, {@code n8n} or {@code none}; {@code auto} picks the first one
   * configured), how requests are sized and retried, and the limits that protect the node and the user's bill.
   * {@code modelContextTokens} maps a model id to its context window; unknown models get {@code contextTokens}.
   */
  public record Claude(String provider, String anthropicApiKey, String anthropicBaseUrl, String model,
      String n8nWebhookUrl, int maxTokens, String titleModel, String summaryModel, int contextTokens,
      java.util.Map<String, Integer> modelContextTokens, int maxRetries, int retryBaseMs, int retryMaxMs,
      int maxRetryAfterSeconds, int idleTimeoutMs, int connectTimeoutMs, int maxPerUser, int maxPerNode,
      long dailyTokenBudget, int recallPassages, int recallChars, int snapshotTtlSeconds, int nodeLossSeconds,
      boolean titles, boolean summaries) {

    /** The provider in effect once {@code auto} is resolved. */
    public String effectiveProvider() {
      if (!"auto".equals(provider)) {
        return provider;
      }
      if (anthropicApiKey != null) {
        return "anthropic";
      }
      return n8nWebhookUrl != null ? "n8n" : "none";
    }

    public int contextTokensOf(String modelId) {
      return modelContextTokens.getOrDefault(modelId, contextTokens);
    }

    @Override
    public String toString() {
      return "Claude[provider=" + effectiveProvider() + ", baseUrl=" + anthropicBaseUrl + ", model=" + model + "]";
    }
  }

  public record Logging(String level, String format) {}

  /**
   * Token buckets (see {@code rateLimit:} in application.yaml). {@code trustedProxies} is how many reverse proxies
   * stand in front of the node: the client address is then taken from that many entries from the right of
   * {@code X-Forwarded-For}, never from a client-chosen leftmost entry.
   */
  public record RateLimit(boolean enabled, String keyPrefix, int trustedProxies, int redisTimeoutMs,
      int maxLocalBuckets, Bucket address, Bucket principal, Bucket auth, Bucket messages, Bucket jobs) {}

  /** A bucket of {@code limit} requests, refilled evenly over {@code windowSeconds}. */
  public record Bucket(int limit, int windowSeconds) {}

  /**
   * Export and import limits. A finished export can be downloaded for {@code downloadHours}; every
   * {@code expirySweepSeconds} each node deletes the files whose time is over. An upload larger than
   * {@code maxUploadBytes} is answered 413; a ZIP is refused when it has more than {@code maxZipEntries} entries, would
   * inflate past {@code maxUncompressedBytes} in all, or inflates one entry more than {@code maxZipRatio} times; a
   * JSON string longer than {@code maxFieldChars} refuses the file. A user may have at most {@code maxActiveJobs}
   * export and import jobs queued or running at once.
   */
  public record Portability(int downloadHours, int expirySweepSeconds, long maxUploadBytes, long maxUncompressedBytes,
      int maxZipEntries, int maxZipRatio, int maxFieldChars, int kdfIterations, int maxActiveJobs) {}

  /**
   * Webhook delivery: {@code retrySeconds} is the delay before each attempt (the first is normally 0), each with up
   * to {@code jitterPercent} random jitter; after the last a delivery has failed. A subscription is disabled after
   * {@code disableAfterFailures} failed attempts in a row. Private and loopback targets only when
   * {@code allowPrivateTargets}.
   */
  public record Webhooks(int timeoutMs, List<Integer> retrySeconds, int jitterPercent, int disableAfterFailures,
      int sweepMs, int batchSize, boolean allowPrivateTargets) {}

  /**
   * The WebSocket endpoint and cluster fan-out (application.yaml {@code realtime:} documents every key). Times are in
   * milliseconds unless the name says otherwise.
   */
  public record Realtime(int authTimeoutMs, int maxFrameBytes, int maxRoomsPerSocket, int typingPerSecond,
      int messagesPerSecond, int framesPerSecond, int pingIntervalMs, int pongTimeoutMs, int outboundQueueBytes,
      int resumeWindowSeconds, int resumeMaxEvents, int presenceMaxRoomSize, int presenceTtlSeconds,
      String redisChannelPrefix, int reconnectMinMs, int reconnectMaxMs) {}

  public boolean redisEnabled() {
    return redisUrl != null;
  }

  @Override
  public String toString() {
    return "AppConfig[production=" + production + ", nodeId=" + nodeId + ", http=" + http + ", dataDir=" + dataDir
        + ", embeddedDatabase=" + database.embedded() + ", redis=" + redisEnabled() + "]";
  }
}
