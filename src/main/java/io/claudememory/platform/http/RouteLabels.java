package io.claudememory.platform.http;

/**
 * Turns the route label Vert.x reports into the route template. vertx-web reports every matched route with a path,
 * joined by {@code >}: {@code /api/v1/>/api-keys/:id>/api/v1/} is the sub-router mounted at {@code /api/v1/}, the
 * route {@code /api-keys/:id}, then the sub-router's failure handler. The template is the mount points down to the
 * first leaf route, {@code /api/v1/api-keys/:id}; a request that matched no leaf is {@code <mount>*}, so unknown
 * paths add no series. Cross-cutting handlers on the root router are path-less, so they add no part. Two
 * sub-routers mounted side by side at the same point (the request went through the first without a match) report
 * that mount twice in a row: it counts once.
 */
public final class RouteLabels {
  private RouteLabels() {}

  public static String template(String reported) {
    if (reported == null || reported.isEmpty()) {
      return "unmatched";
    }
    StringBuilder template = new StringBuilder();
    String previous = null;
    for (String part : reported.split(">")) {
      if (part.equals(previous)) {
        continue;
      }
      previous = part;
      if (part.endsWith("/") && part.length() > 1) {
        template.append(part, 0, part.length() - 1);
      } else {
        return template.append(part).toString();
      }
    }
    return template.append("/*").toString();
  }
}
