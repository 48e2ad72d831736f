package io.claudememory.config;

import io.vertx.config.ConfigRetriever;
import io.vertx.config.ConfigRetrieverOptions;
import io.vertx.config.ConfigStoreOptions;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import java.util.Map;

/**
 * Reads the YAML configuration with vertx-config: {@code CONFIG_FILE} when set, else {@code conf/application.yaml}
 * in the working directory, else the copy packaged in the jar (Vert.x resolves the same relative path from the
 * classpath). Then {@link ConfigReader} applies the environment and validates.
 */
public final class ConfigFiles {
  private ConfigFiles() {}

  public static Future<AppConfig> read(Vertx vertx, Map<String, String> env) {
    String path = env.getOrDefault("CONFIG_FILE", "conf/application.yaml");
    ConfigRetriever retriever = ConfigRetriever.create(vertx, new ConfigRetrieverOptions().setScanPeriod(0)
        .addStore(new ConfigStoreOptions().setType("file").setFormat("yaml")
            .setConfig(new JsonObject().put("path", path))));
    return retriever.getConfig()
        .eventually(retriever::close)
        .recover(err -> Future.failedFuture(new ConfigException("cannot read " + path + ": " + err.getMessage())))
        .map(yaml -> ConfigReader.read(yaml, env));
  }
}
