package io.claudememory.ops;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.claudememory.support.ApiClient;
import io.claudememory.support.ApiClient.Reply;
import io.claudememory.support.TestServer;
import io.claudememory.support.Users;
import io.claudememory.support.Users.TestUser;
import java.util.List;
import java.util.UUID;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

@DisplayName("Metrics: Prometheus text with Vert.x and our meters, route labels templated")
class MetricsTest {
  static final Pattern ROUTE = Pattern.compile("route=\"([^\"]*)\"");
  static final Pattern UUID_TEXT = Pattern.compile("[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}");
  @RegisterExtension
  static final TestServer server = TestServer.start();
  static final ApiClient api = server.client();

  @Test
  @DisplayName("requests on routes with ids are labelled with the template, and unknown paths add no series")
  void routeTemplates() {
    TestUser ann = Users.register(api);
    for (int i = 0; i < 3; i++) {
      api.delete("/api/v1/api-keys/" + UUID.randomUUID(), ann.accessToken());
      api.get("/api/v1/unknown-" + UUID.randomUUID(), null);
      api.get("/api/v1/admin/users/" + UUID.randomUUID(), ann.accessToken());
    }
    String text = scrape();
    List<String> routes = ROUTE.matcher(text).results().map(m -> m.group(1)).distinct().toList();
    assertTrue(routes.contains("/api/v1/api-keys/:id"), "templated route label expected among " + routes);
    assertTrue(routes.contains("/api/v1/auth/register"), routes.toString());
    for (String route : routes) {
      assertFalse(UUID_TEXT.matcher(route).find(), "no id in a route label: " + route);
      assertFalse(route.contains("unknown-"), "an unknown path is not a label: " + route);
      assertFalse(route.contains(">"), "one template per label: " + route);
    }
    assertTrue(routes.contains("/api/v1/*"), "unmatched requests share one label: " + routes);
    String requests = text.lines().filter(l -> l.startsWith("vertx_http_server_requests_total")).filter(l ->
        l.contains("code=\"404\"")).collect(Collectors.joining("\n"));
    assertTrue(!requests.isEmpty(), "404s are still counted");
  }

  @Test
  @DisplayName("the scrape has Vert.x HTTP, pool and event-bus meters, JVM meters and ours")
  void meters() {
    Users.register(api);
    server.app().vertx().eventBus().publish("metrics.test", "ping");
    String text = scrape();
    for (String name : new String[] {"vertx_http_server_requests_total",
        "vertx_http_server_response_time_seconds_bucket{",
        "vertx_http_server_active_connections", "vertx_pool_", "vertx_eventbus_", "jvm_memory_used_bytes",
        "cmb_event_loop_delay_seconds", "cmb_tenant_pools_open", "cmb_tenant_pools_failing",
        "cmb_tenant_pool_failures_total", "cmb_rate_limited_requests_total{bucket=\"auth\"",
        "cmb_rate_limit_store_errors_total"}) {
      assertTrue(text.contains(name), "metric " + name + " expected in the scrape");
    }
  }

  static String scrape() {
    Reply reply = api.get("/api/v1/health/metrics", null);
    assertEquals(200, reply.status());
    assertTrue(reply.header("Content-Type").startsWith("text/plain"));
    return reply.body();
  }
}
