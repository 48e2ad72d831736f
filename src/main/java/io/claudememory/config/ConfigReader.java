package io.claudememory.config;

import io.vertx.core.json.JsonObject;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.UUID;

/**
 * Turns the YAML defaults plus the environment into a validated {@link AppConfig}. The documented variables (PORT,
 * DATABASE_URL, ...) override their keys; any other key can be set as {@code CMB_<PATH>} (see application.yaml).
 * The first problem found stops start-up with a {@link ConfigException} naming the variable or key.
 */
public final class ConfigReader {

  /** Documented environment names and the key each one sets. Later entries win (DATABASE_URL over its alias). */
  private static final String[][] ENV_KEYS = {
      {"PORT", "http.port"},
      {"MASTER_DATABASE_URL", "database.url"},
      {"DATABASE_URL", "database.url"},
      {"DATA_DIR", "dataDir"},
      {"STORAGE_PATH", "storage.path"},
      {"REDIS_URL", "redis.url"},
      {"JWT_SECRET", "auth.jwtSecret"},
      {"JWT_PRIVATE_KEY", "auth.jwtPrivateKey"},
      {"JWT_PUBLIC_KEY", "auth.jwtPublicKey"},
      {"MASTER_KEY", "crypto.masterKey"},
      {"ANTHROPIC_API_KEY", "claude.anthropicApiKey"},
      {"ANTHROPIC_BASE_URL", "claude.anthropicBaseUrl"},
      {"CLAUDE_MODEL", "claude.model"},
      {"N8N_WEBHOOK_URL", "claude.n8nWebhookUrl"},
      {"CLAUDE_PROVIDER", "claude.provider"},
      {"ALLOWED_ORIGINS", "http.allowedOrigins"},
      {"LOG_LEVEL", "logging.level"},
      {"LOG_FORMAT", "logging.format"},
      {"NODE_ID", "nodeId"},
      {"ADMIN_EMAIL", "auth.adminEmail"},
      {"NODE_ENV", "profile"},
      {"APP_PROFILE", "profile"},
  };

  private final JsonObject conf;
  private final Map<String, String> env;

  private ConfigReader(JsonObject yaml, Map<String, String> env) {
    this.conf = yaml.copy();
    this.env = env;
  }

  /** Reads and validates; throws {@link ConfigException} with one line on the first problem. */
  public static AppConfig read(JsonObject yaml, Map<String, String> env) {
    return new ConfigReader(yaml, env).build();
  }

  private AppConfig build() {
    applyEnvironment();
    boolean production = production();
    Path dataDir = Path.of(text("dataDir", "./data")).toAbsolutePath().normalize();
    DevSecrets devSecrets = new DevSecrets(dataDir);

    AppConfig.Http http = new AppConfig.Http(
        text("http.host", "0.0.0.0"),
        integer("http.port", "PORT", 3001, 0, 65535),
        integer("http.instances", "http.instances", 0, 0, 256),
        integer("http.bodyLimitBytes", "http.bodyLimitBytes", 1_048_576, 1024, 64 * 1024 * 1024),
        integer("http.shutdownGraceSeconds", "http.shutdownGraceSeconds", 10, 0, 600),
        integer("http.drainDelaySeconds", "http.drainDelaySeconds", 0, 0, 120),
        Arrays.stream(text("http.allowedOrigins", "").split(","))
            .map(String::trim).filter(s -> !s.isEmpty()).toList());

    String dbUrl = optional("database.url");
    if (dbUrl != null && !dbUrl.matches("^postgres(ql)?://.+")) {
      throw new ConfigException("DATABASE_URL must be a postgresql:// URL");
    }
    if (production && dbUrl == null) {
      throw new ConfigException("DATABASE_URL is required when APP_PROFILE=production");
    }
    Object allowPrivate = get("database.allowPrivateHosts");
    AppConfig.Database database = new AppConfig.Database(
        dbUrl,
        integer("database.embeddedPort", "database.embeddedPort", 54329, 1, 65535),
        integer("database.masterPoolSize", "database.masterPoolSize", 8, 1, 200),
        identifierPrefix(text("database.tenantPrefix", "cmb_t_")),
        integer("database.tenantPoolSize", "database.tenantPoolSize", 4, 1, 50),
        integer("database.maxTenantPools", "database.maxTenantPools", 200, 1, 100_000),
        integer("database.tenantIdleSeconds", "database.tenantIdleSeconds", 300, 1, 86_400),
        integer("database.connectTimeoutMs", "database.connectTimeoutMs", 3000, 100, 60_000),
        integer("database.breakerOpenSeconds", "database.breakerOpenSeconds", 10, 0, 3600),
        allowPrivate == null ? !production : bool("database.allowPrivateHosts"),
        integer("database.switchFreezeLeaseSeconds", "database.switchFreezeLeaseSeconds", 15, 2, 600));

    String redisUrl = optional("redis.url");
    if (redisUrl != null && !redisUrl.matches("^rediss?://.+")) {
      throw new ConfigException("REDIS_URL must be a redis:// or rediss:// URL");
    }

    AppConfig.Auth auth = auth(production, devSecrets);
    byte[] masterKey = masterKey(production, devSecrets);

    AppConfig.Claude claude = claude();

    String format = text("logging.format", production ? "json" : "text");
    if (!format.equals("text") && !format.equals("json")) {
      throw new ConfigException("LOG_FORMAT must be text or json, not '" + format + "'");
    }
    AppConfig.Logging logging = new AppConfig.Logging(text("logging.level", "info"), format);

    String nodeId = optional("nodeId");
    if (nodeId == null) {
      nodeId = "node-" + UUID.randomUUID().toString().substring(0, 8);
    }
    return new AppConfig(production, nodeId, http, dataDir,
        Path.of(text("storage.path", "./storage")).toAbsolutePath().normalize(),
        database, redisUrl, auth, masterKey, claude, logging, rateLimit(), portability(), webhooks(production),
        search(), realtime());
  }

  private AppConfig.RateLimit rateLimit() {
    Object enabled = get("rateLimit.enabled");
    return new AppConfig.RateLimit(
        enabled == null || bool("rateLimit.enabled"),
        text("rateLimit.keyPrefix", "cmb:rl:"),
        integer("rateLimit.trustedProxies", "rateLimit.trustedProxies", 0, 0, 10),
        integer("rateLimit.redisTimeoutMs", "rateLimit.redisTimeoutMs", 250, 10, 10_000),
        integer("rateLimit.maxLocalBuckets", "rateLimit.maxLocalBuckets", 100_000, 100, 10_000_000),
        bucket("address", 600, 60), bucket("principal", 1200, 60), bucket("auth", 10, 60),
        bucket("messages", 30, 60), bucket("jobs", 20, 3600));
  }

  private AppConfig.Bucket bucket(String name, int limit, int window) {
    String key = "rateLimit." + name + ".";
    return new AppConfig.Bucket(integer(key + "limit", key + "limit", limit, 1, 1_000_000_000),
        integer(key + "windowSeconds", key + "windowSeconds", window, 1, 86_400));
  }

  private AppConfig.Portability portability() {
    return new AppConfig.Portability(
        integer("export.downloadHours", "export.downloadHours", 24, 1, 24 * 30),
        integer("export.expirySweepSeconds", "export.expirySweepSeconds", 60, 1, 86_400),
        (long) integer("import.maxUploadMb", "import.maxUploadMb", 200, 1, 64 * 1024) * 1024 * 1024,
        (long) integer("import.maxUncompressedMb", "import.maxUncompressedMb", 2048, 1, 1024 * 1024) * 1024 * 1024,
        integer("import.maxZipEntries", "import.maxZipEntries", 20_000, 1, 10_000_000),
        integer("import.maxZipRatio", "import.maxZipRatio", 200, 2, 100_000),
        integer("import.maxFieldChars", "import.maxFieldChars", 8 * 1024 * 1024, 1024, 512 * 1024 * 1024),
        integer("export.kdfIterations", "export.kdfIterations", 600_000, 600_000, 50_000_000),
        integer("jobs.maxActivePerUser", "jobs.maxActivePerUser", 3, 1, 1000));
  }

  private AppConfig.Webhooks webhooks(boolean production) {
    String schedule = text("webhooks.retrySeconds", "0,5,300,1800,7200,18000,36000,50400,72000,86400");
    List<Integer> retrySeconds;
    try {
      retrySeconds = Arrays.stream(schedule.split(",")).map(String::trim).map(Integer::parseInt).toList();
    } catch (NumberFormatException e) {
      throw new ConfigException("webhooks.retrySeconds must be comma-separated whole seconds, not '" + schedule + "'");
    }
    if (retrySeconds.isEmpty() || retrySeconds.size() > 50 || retrySeconds.stream().anyMatch(s -> s < 0)) {
      throw new ConfigException("webhooks.retrySeconds must list 1 to 50 delays of 0 seconds or more");
    }
    Object allowPrivate = get("webhooks.allowPrivateTargets");
    return new AppConfig.Webhooks(
        integer("webhooks.timeoutMs", "webhooks.timeoutMs", 15_000, 100, 120_000),
        retrySeconds,
        integer("webhooks.jitterPercent", "webhooks.jitterPercent", 20, 0, 100),
        integer("webhooks.disableAfterFailures", "webhooks.disableAfterFailures", 100, 1, 100_000),
        integer("webhooks.sweepMs", "webhooks.sweepMs", 5000, 50, 600_000),
        integer("webhooks.batchSize", "webhooks.batchSize", 50, 1, 1000),
        allowPrivate == null ? !production : bool("webhooks.allowPrivateTargets"));
  }

  private AppConfig.Search search() {
    return new AppConfig.Search(searchLanguage(),
        integer("search.candidates", "search.candidates", 100, 1, 10_000));
  }

  /** A PostgreSQL text-search configuration name, e.g. english, german, simple. */
  private String searchLanguage() {
    String language = text("search.language", "english");
    if (!language.matches("[a-z_][a-z0-9_]{0,62}")) {
      throw new ConfigException("search.language must be a PostgreSQL text search configuration such as english, "
          + "german or simple, not '" + language + "'");
    }
    return language;
  }

  private AppConfig.Realtime realtime() {
    String prefix = text("realtime.redisChannelPrefix", "cmb:");
    if (!prefix.matches("[A-Za-z0-9:_.-]{1,32}")) {
      throw new ConfigException("realtime.redisChannelPrefix must be 1..32 of letters, digits, ':', '_', '.', '-'");
    }
    int reconnectMin = integer("realtime.reconnectMinMs", "realtime.reconnectMinMs", 100, 10, 60_000);
    return new AppConfig.Realtime(
        integer("realtime.authTimeoutMs", "realtime.authTimeoutMs", 5000, 100, 60_000),
        integer("realtime.maxFrameBytes", "realtime.maxFrameBytes", 65_536, 1024, 16 * 1024 * 1024),
        integer("realtime.maxRoomsPerSocket", "realtime.maxRoomsPerSocket", 128, 1, 10_000),
        integer("realtime.typingPerSecond", "realtime.typingPerSecond", 10, 1, 10_000),
        integer("realtime.messagesPerSecond", "realtime.messagesPerSecond", 20, 1, 10_000),
        integer("realtime.framesPerSecond", "realtime.framesPerSecond", 200, 1, 100_000),
        integer("realtime.pingIntervalMs", "realtime.pingIntervalMs", 25_000, 50, 600_000),
        integer("realtime.pongTimeoutMs", "realtime.pongTimeoutMs", 20_000, 50, 600_000),
        integer("realtime.outboundQueueBytes", "realtime.outboundQueueBytes", 1_048_576, 16_384, 256 * 1024 * 1024),
        integer("realtime.resumeWindowSeconds", "realtime.resumeWindowSeconds", 120, 0, 86_400),
        integer("realtime.resumeMaxEvents", "realtime.resumeMaxEvents", 300, 0, 100_000),
        integer("realtime.presenceMaxRoomSize", "realtime.presenceMaxRoomSize", 100, 0, 1_000_000),
        integer("realtime.presenceTtlSeconds", "realtime.presenceTtlSeconds", 60, 1, 3600),
        prefix,
        reconnectMin,
        integer("realtime.reconnectMaxMs", "realtime.reconnectMaxMs", 5000, reconnectMin, 600_000));
  }

  private String adminEmail() {
    String email = optional("auth.adminEmail");
    if (email != null && !email.matches("^[^\\s@]+@[^\\s@]+$")) {
      throw new ConfigException("ADMIN_EMAIL must be an email address, not '" + email + "'");
    }
    return email;
  }

  private AppConfig.Auth auth(boolean production, DevSecrets devSecrets) {
    String privateKey = optional("auth.jwtPrivateKey");
    String publicKey = optional("auth.jwtPublicKey");
    String secret = optional("auth.jwtSecret");
    if ((privateKey == null) != (publicKey == null)) {
      throw new ConfigException("JWT_PRIVATE_KEY and JWT_PUBLIC_KEY must be set together");
    }
    if (privateKey == null) {
      if (secret == null) {
        if (production) {
          throw new ConfigException("JWT_SECRET (or JWT_PRIVATE_KEY/JWT_PUBLIC_KEY) is required when "
              + "APP_PROFILE=production");
        }
        secret = devSecrets.jwtSecret();
      }
      if (secret.getBytes(StandardCharsets.UTF_8).length < 32) {
        throw new ConfigException("JWT_SECRET must be at least 32 bytes");
      }
    } else if (!privateKey.contains("-----BEGIN") || !publicKey.contains("-----BEGIN")) {
      throw new ConfigException("JWT_PRIVATE_KEY and JWT_PUBLIC_KEY must be PEM text");
    }
    return new AppConfig.Auth(secret, privateKey, publicKey,
        text("auth.issuer", "claude-memory-backend"),
        text("auth.audience", "claude-memory-api"),
        integer("auth.accessTokenMinutes", "auth.accessTokenMinutes", 15, 1, 1440),
        integer("auth.refreshTokenDays", "auth.refreshTokenDays", 30, 1, 365),
        integer("auth.bcryptCost", "auth.bcryptCost", 12, production ? 10 : 4, 31),
        integer("auth.stateCacheSeconds", "auth.stateCacheSeconds", 5, 0, 300),
        adminEmail());
  }

  private AppConfig.Claude claude() {
    String provider = text("claude.provider", "auto").toLowerCase();
    if (!List.of("auto", "anthropic", "n8n", "none").contains(provider)) {
      throw new ConfigException("CLAUDE_PROVIDER must be auto, anthropic, n8n or none, not '" + provider + "'");
    }
    String apiKey = optional("claude.anthropicApiKey");
    String n8nUrl = optional("claude.n8nWebhookUrl");
    if ("anthropic".equals(provider) && apiKey == null) {
      throw new ConfigException("CLAUDE_PROVIDER=anthropic needs ANTHROPIC_API_KEY");
    }
    if ("n8n".equals(provider) && n8nUrl == null) {
      throw new ConfigException("CLAUDE_PROVIDER=n8n needs N8N_WEBHOOK_URL");
    }
    String baseUrl = text("claude.anthropicBaseUrl", "https://api.anthropic.com");
    for (String url : new String[] {baseUrl, n8nUrl}) {
      if (url != null && !url.matches("^https?://.+")) {
        throw new ConfigException("ANTHROPIC_BASE_URL and N8N_WEBHOOK_URL must be http(s) URLs, not '" + url + "'");
      }
    }
    String model = text("claude.model", "claude-sonnet-4-5");
    String titleModel = text("claude.titleModel", "claude-haiku-4-5");
    return new AppConfig.Claude(provider, apiKey, baseUrl, model, n8nUrl,
        integer("claude.maxTokens", "claude.maxTokens", 4096, 1, 128_000),
        titleModel,
        text("claude.summaryModel", titleModel),
        integer("claude.contextTokens", "claude.contextTokens", 200_000, 1000, 10_000_000),
        modelTokens(text("claude.modelContextTokens", "")),
        integer("claude.maxRetries", "claude.maxRetries", 2, 0, 10),
        integer("claude.retryBaseMs", "claude.retryBaseMs", 500, 1, 60_000),
        integer("claude.retryMaxMs", "claude.retryMaxMs", 8000, 1, 600_000),
        integer("claude.maxRetryAfterSeconds", "claude.maxRetryAfterSeconds", 60, 0, 3600),
        integer("claude.idleTimeoutMs", "claude.idleTimeoutMs", 60_000, 100, 3_600_000),
        integer("claude.connectTimeoutMs", "claude.connectTimeoutMs", 10_000, 100, 600_000),
        integer("claude.maxPerUser", "claude.maxPerUser", 3, 1, 1000),
        integer("claude.maxPerNode", "claude.maxPerNode", 200, 1, 100_000),
        integer("claude.dailyTokenBudget", "claude.dailyTokenBudget", 0, 0, Integer.MAX_VALUE),
        integer("claude.recallPassages", "claude.recallPassages", 3, 0, 20),
        integer("claude.recallChars", "claude.recallChars", 600, 50, 10_000),
        integer("claude.snapshotTtlSeconds", "claude.snapshotTtlSeconds", 600, 10, 86_400),
        integer("claude.nodeLossSeconds", "claude.nodeLossSeconds", 30, 1, 3600),
        bool("claude.titles", true),
        bool("claude.summaries", true));
  }

  /** {@code "claude-sonnet-4-5=200000, claude-haiku-4-5=200000"} → a map; empty text → empty map. */
  private static Map<String, Integer> modelTokens(String text) {
    Map<String, Integer> map = new java.util.HashMap<>();
    for (String pair : text.split(",")) {
      if (pair.isBlank()) {
        continue;
      }
      String[] parts = pair.split("=");
      try {
        map.put(parts[0].trim(), Integer.parseInt(parts[1].trim()));
      } catch (RuntimeException e) {
        throw new ConfigException("claude.modelContextTokens must read model=tokens,..., not '" + pair.trim() + "'");
      }
    }
    return Map.copyOf(map);
  }

  private boolean bool(String key, boolean fallback) {
    return optional(key) == null ? fallback : bool(key);
  }

  private byte[] masterKey(boolean production, DevSecrets devSecrets) {
    String value = optional("crypto.masterKey");
    if (value == null) {
      if (production) {
        throw new ConfigException("MASTER_KEY is required when APP_PROFILE=production");
      }
      value = devSecrets.masterKey();
    }
    byte[] key;
    try {
      key = Base64.getDecoder().decode(value);
    } catch (IllegalArgumentException e) {
      throw new ConfigException("MASTER_KEY must be base64 of 32 bytes");
    }
    if (key.length != 32) {
      throw new ConfigException("MASTER_KEY must be base64 of 32 bytes, not " + key.length);
    }
    return key;
  }

  private boolean production() {
    String profile = text("profile", "development").toLowerCase();
    return switch (profile) {
      case "production", "prod" -> true;
      case "development", "dev", "test" -> false;
      default -> throw new ConfigException("APP_PROFILE must be development or production, not '" + profile + "'");
    };
  }

  /** Documented names first, then the generic CMB_ form for every key present in the YAML. */
  private void applyEnvironment() {
    for (String[] pair : ENV_KEYS) {
      String value = env.get(pair[0]);
      if (value != null) {
        put(pair[1], value);
      }
    }
    for (String key : leafKeys(conf, "")) {
      String value = env.get(envName(key));
      if (value != null) {
        put(key, value);
      }
    }
  }

  /**
   * Every environment variable the configuration reads, given the YAML defaults: the documented names and the
   * {@code CMB_} form of every key. Deployment files are checked against it, so a misspelt name is caught.
   */
  public static java.util.Set<String> environmentNames(JsonObject yaml) {
    java.util.Set<String> names = new java.util.TreeSet<>();
    for (String[] pair : ENV_KEYS) {
      names.add(pair[0]);
    }
    leafKeys(yaml, "").forEach(key -> names.add(envName(key)));
    names.add("CONFIG_FILE");
    return names;
  }

  /** {@code auth.bcryptCost} → {@code CMB_AUTH_BCRYPT_COST}. */
  static String envName(String key) {
    return "CMB_" + key.replace('.', '_').replaceAll("([a-z0-9])([A-Z])", "$1_$2").toUpperCase();
  }

  private static List<String> leafKeys(JsonObject obj, String prefix) {
    return obj.fieldNames().stream().flatMap(name -> {
      Object value = obj.getValue(name);
      return value instanceof JsonObject child ? leafKeys(child, prefix + name + ".").stream()
          : java.util.stream.Stream.of(prefix + name);
    }).toList();
  }

  private Object get(String key) {
    String[] parts = key.split("\\.");
    JsonObject node = conf;
    for (int i = 0; i < parts.length - 1; i++) {
      node = node.getJsonObject(parts[i]);
      if (node == null) {
        return null;
      }
    }
    return node.getValue(parts[parts.length - 1]);
  }

  private void put(String key, Object value) {
    String[] parts = key.split("\\.");
    JsonObject node = conf;
    for (int i = 0; i < parts.length - 1; i++) {
      JsonObject child = node.getJsonObject(parts[i]);
      if (child == null) {
        child = new JsonObject();
        node.put(parts[i], child);
      }
      node = child;
    }
    node.put(parts[parts.length - 1], value);
  }

  private String optional(String key) {
    Object value = get(key);
    if (value == null) {
      return null;
    }
    String text = value.toString().trim();
    return text.isEmpty() ? null : text;
  }

  private String text(String key, String fallback) {
    String value = optional(key);
    return value == null ? fallback : value;
  }

  private int integer(String key, String name, int fallback, int min, int max) {
    String value = optional(key);
    if (value == null) {
      return fallback;
    }
    int parsed;
    try {
      parsed = Integer.parseInt(value);
    } catch (NumberFormatException e) {
      throw new ConfigException(label(key, name) + " must be a whole number, not '" + value + "'");
    }
    if (parsed < min || parsed > max) {
      throw new ConfigException(label(key, name) + " must be between " + min + " and " + max + ", not " + parsed);
    }
    return parsed;
  }

  private boolean bool(String key) {
    String value = optional(key);
    if ("true".equalsIgnoreCase(value)) {
      return true;
    }
    if ("false".equalsIgnoreCase(value)) {
      return false;
    }
    throw new ConfigException(key + " must be true or false, not '" + value + "'");
  }

  private static String label(String key, String name) {
    return name.equals(key) ? key + " (" + envName(key) + ")" : name;
  }

  private static String identifierPrefix(String prefix) {
    if (!prefix.matches("[a-z][a-z0-9_]{0,30}")) {
      throw new ConfigException("database.tenantPrefix must be lower-case letters, digits and _ (at most 31), not '"
          + prefix + "'");
    }
    return prefix;
  }
}
