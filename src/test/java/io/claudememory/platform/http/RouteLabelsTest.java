package io.claudememory.platform.http;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

@DisplayName("Route labels: what vertx-web reports becomes one route template")
class RouteLabelsTest {
  @Test
  @DisplayName("mount points and the first leaf route make the template; later failure routes are ignored")
  void templates() {
    assertEquals("/api/v1/auth/register", RouteLabels.template("/api/v1/>/auth/register"));
    assertEquals("/api/v1/api-keys/:id", RouteLabels.template("/api/v1/>/api-keys/:id>/api/v1/"));
    assertEquals("/api/v1/projects/:id/members", RouteLabels.template("/api/v1/>/projects/>/:id/members"));
    assertEquals("/ws", RouteLabels.template("/ws"));
    assertEquals("/api/v1/projects/:id", RouteLabels.template("/api/v1/>/api/v1/>/projects/:id"),
        "sibling routers mounted at one point");
    assertEquals("/api/v1/*", RouteLabels.template("/api/v1/"));
    assertEquals("unmatched", RouteLabels.template(""));
  }
}
