package io.claudememory.deploy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.claudememory.config.AppConfig;
import io.claudememory.config.ConfigReader;
import io.claudememory.support.TestServer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.constructor.SafeConstructor;

/**
 * No Docker engine runs here, so the deployment files are checked by reading them: they parse, they agree with each
 * other (ports, service names, metrics path) and with the configuration (every environment name is one the server
 * reads, and the compose environment makes a valid production configuration). promtool and nginx check their own
 * files when installed; otherwise those checks say SKIPPED.
 */
@DisplayName("Deployment files: valid, consistent with each other and with the configuration")
class DeploymentFilesTest {
  static final Path ROOT = Path.of("").toAbsolutePath();
  static final Pattern VARIABLE = Pattern.compile("\\$\\{([A-Z_]+)(?::[-?]([^}]*))?}");

  @SuppressWarnings("unchecked")
  static Map<String, Object> yaml(String file) throws IOException {
    return new Yaml(new SafeConstructor(new LoaderOptions())).load(Files.readString(ROOT.resolve(file)));
  }

  @SuppressWarnings("unchecked")
  static Map<String, Object> services() throws IOException {
    return (Map<String, Object>) yaml("docker-compose.yml").get("services");
  }

  @SuppressWarnings("unchecked")
  static Map<String, String> environment(String service) throws IOException {
    Map<String, Object> env = (Map<String, Object>) ((Map<String, Object>) services().get(service)).get("environment");
    Map<String, String> values = new HashMap<>();
    env.forEach((k, v) -> values.put(k, String.valueOf(v)));
    return values;
  }

  @Test
  @DisplayName("compose has two app nodes, PostgreSQL, Redis, nginx, Prometheus and Grafana")
  void composeServices() throws IOException {
    assertEquals(Set.of("postgres", "redis", "app1", "app2", "nginx", "prometheus", "grafana"), services().keySet());
    assertEquals("app1", environment("app1").get("NODE_ID"));
    assertEquals("app2", environment("app2").get("NODE_ID"));
  }

  @Test
  @DisplayName("every environment name of the app nodes is one the server reads, and together they configure it")
  void environmentNames() throws IOException {
    Set<String> known = ConfigReader.environmentNames(TestServer.packagedYaml());
    for (String node : List.of("app1", "app2")) {
      Map<String, String> env = environment(node);
      Set<String> unknown = new TreeSet<>(env.keySet());
      unknown.removeAll(known);
      assertTrue(unknown.isEmpty(), node + " sets variables the server never reads: " + unknown);
      AppConfig config = ConfigReader.read(TestServer.packagedYaml(), substitute(env));
      assertTrue(config.production(), "compose runs the production profile");
      assertTrue(config.redisEnabled(), "nodes of a cluster share Redis");
      assertEquals(1, config.rateLimit().trustedProxies(), "one proxy (nginx) in front");
      assertEquals(3001, config.http().port());
    }
  }

  @Test
  @DisplayName("the port agrees everywhere: Dockerfile, compose, nginx upstreams, Prometheus targets")
  void ports() throws IOException {
    String port = environment("app1").get("PORT");
    assertEquals("3001", port);
    String dockerfile = Files.readString(ROOT.resolve("Dockerfile"));
    assertTrue(dockerfile.contains("EXPOSE " + port), "Dockerfile exposes " + port);
    assertTrue(dockerfile.contains("PORT=" + port));
    String nginx = Files.readString(ROOT.resolve("deploy/nginx.conf"));
    assertTrue(nginx.contains("server app1:" + port) && nginx.contains("server app2:" + port), "nginx upstreams");
    JsonObject prometheus = new JsonObject(yaml("monitoring/prometheus.yml"));
    JsonObject job = prometheus.getJsonArray("scrape_configs").stream().map(JsonObject.class::cast)
        .filter(j -> "claude-memory".equals(j.getString("job_name"))).findFirst().orElseThrow();
    assertEquals("/api/v1/health/metrics", job.getString("metrics_path"));
    JsonArray targets = job.getJsonArray("static_configs").getJsonObject(0).getJsonArray("targets");
    assertEquals(List.of("app1:" + port, "app2:" + port), targets.getList(), "Prometheus scrapes every node");
  }

  @Test
  @DisplayName("the Dockerfile builds with the wrapper on JDK 17 and runs the shaded jar on a JRE as non-root")
  void dockerfile() throws IOException {
    String dockerfile = Files.readString(ROOT.resolve("Dockerfile"));
    assertTrue(dockerfile.matches("(?s).*FROM eclipse-temurin:17-jdk AS build.*FROM eclipse-temurin:17-jre.*"));
    assertTrue(dockerfile.contains("./mvnw -B -q -DskipTests package"));
    assertTrue(Files.readString(ROOT.resolve("pom.xml")).contains("/claude-memory-backend.jar</outputFile>"));
    assertTrue(dockerfile.contains("target/claude-memory-backend.jar"));
    Matcher user = Pattern.compile("(?m)^USER (\\S+)").matcher(dockerfile);
    assertTrue(user.find(), "a USER line");
    assertFalse(user.group(1).startsWith("root") || user.group(1).startsWith("0"), "not root: " + user.group(1));
  }

  @Test
  @DisplayName("nginx passes WebSocket upgrades on /ws and appends X-Forwarded-For")
  void nginxConfig() throws Exception {
    String nginx = Files.readString(ROOT.resolve("deploy/nginx.conf"));
    String ws = nginx.substring(nginx.indexOf("location /ws"));
    ws = ws.substring(0, ws.indexOf('}'));
    assertTrue(ws.contains("proxy_set_header Upgrade $http_upgrade") && ws.contains("Connection $connection_upgrade"));
    assertTrue(nginx.contains("X-Forwarded-For $proxy_add_x_forwarded_for"));
    Path nginxBinary = Path.of("/usr/sbin/nginx");
    Assumptions.assumeTrue(Files.isExecutable(nginxBinary), "SKIPPED: nginx -t (nginx not installed)");
    Path copy = Files.createTempFile("nginx", ".conf");
    try {
      Files.writeString(copy, nginx.replaceAll("app[12]:", "127.0.0.1:"));
      Process p = new ProcessBuilder(nginxBinary.toString(), "-t", "-c", copy.toString()).redirectErrorStream(true)
          .start();
      String out = new String(p.getInputStream().readAllBytes());
      assertEquals(0, p.waitFor(), "nginx -t: " + out);
    } finally {
      Files.deleteIfExists(copy);
    }
  }

  @Test
  @DisplayName("alert rules and the Prometheus configuration pass promtool")
  void promtool() throws Exception {
    assertTrue(Files.readString(ROOT.resolve("monitoring/alerts.yml")).contains("groups:"));
    Path promtool = Path.of("/usr/bin/promtool");
    Assumptions.assumeTrue(Files.isExecutable(promtool), "SKIPPED: promtool not installed (Debian package prometheus)");
    for (List<String> args : List.of(List.of("check", "rules", "monitoring/alerts.yml"),
        List.of("check", "config", "monitoring/prometheus.yml"))) {
      List<String> command = new java.util.ArrayList<>(List.of(promtool.toString()));
      command.addAll(args);
      Process p = new ProcessBuilder(command).directory(ROOT.toFile()).redirectErrorStream(true).start();
      String out = new String(p.getInputStream().readAllBytes());
      assertEquals(0, p.waitFor(), String.join(" ", args) + ": " + out);
    }
  }

  @Test
  @DisplayName("the dashboard has a panel for each of our meters and Grafana provisioning points at it")
  void dashboard() throws IOException {
    JsonObject dashboard = new JsonObject(Files.readString(ROOT.resolve("monitoring/grafana-dashboard.json")));
    String exprs = dashboard.getJsonArray("panels").stream().map(JsonObject.class::cast)
        .filter(p -> !"row".equals(p.getString("type")))
        .flatMap(p -> p.getJsonArray("targets").stream().map(t -> ((JsonObject) t).getString("expr")))
        .reduce("", (a, b) -> a + "\n" + b);
    String readme = Files.readString(ROOT.resolve("monitoring/README.md"));
    Matcher ours = Pattern.compile("`(cmb_[a-z_]+)`").matcher(readme);
    Set<String> missing = new TreeSet<>();
    while (ours.find()) {
      String name = ours.group(1).replaceAll("_seconds$", "_seconds_bucket");
      if (!exprs.contains(name) && !exprs.contains(ours.group(1))) {
        missing.add(ours.group(1));
      }
    }
    missing.remove("cmb_tenant_pools_created_total");
    assertTrue(missing.isEmpty(), "meters without a panel: " + missing);
    String compose = Files.readString(ROOT.resolve("docker-compose.yml"));
    assertTrue(compose.contains("./monitoring/grafana-dashboard.json:/var/lib/grafana/dashboards/"));
    assertTrue(yaml("monitoring/grafana/provisioning/dashboards/dashboards.yml").toString()
        .contains("/var/lib/grafana/dashboards"));
  }

  /** Compose-style ${NAME:-default} / ${NAME:?message}: defaults, and test values for the required secrets. */
  static Map<String, String> substitute(Map<String, String> env) {
    Map<String, String> given = Map.of("JWT_SECRET", TestServer.SHARED_JWT_SECRET,
        "MASTER_KEY", TestServer.SHARED_MASTER_KEY);
    Map<String, String> out = new HashMap<>();
    env.forEach((name, value) -> {
      Matcher m = VARIABLE.matcher(value);
      StringBuilder sb = new StringBuilder();
      while (m.find()) {
        String replacement = given.getOrDefault(m.group(1), m.group(2) == null ? "" : m.group(2));
        m.appendReplacement(sb, Matcher.quoteReplacement(replacement));
      }
      m.appendTail(sb);
      out.put(name, sb.toString());
    });
    return out;
  }
}
