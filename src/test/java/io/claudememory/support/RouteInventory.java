package io.claudememory.support;

import io.claudememory.support.ApiContract.Operation;
import io.vertx.ext.web.Route;
import io.vertx.ext.web.Router;
import java.util.Set;
import java.util.TreeSet;

/**
 * The routes a node really serves, read from its router: every route with a path and methods, sub-routers included,
 * as {@code METHOD /full/path} with {@code {param}} (the contract's spelling), to compare with {@link ApiContract}.
 */
public final class RouteInventory {
  /**
   * The only routes served outside the contract's base path ({@code /api/v1}), so not in it: the docs themselves.
   * Another root-level route (say, a WebSocket endpoint) is added here with the reason it cannot be in the contract.
   */
  public static final Set<Operation> OUTSIDE_CONTRACT = Set.of(
      new Operation("GET", "/api/openapi.yaml"),
      new Operation("GET", "/api/docs"),
      new Operation("GET", "/api/docs/swagger-init.js"),
      new Operation("GET", "/api/docs/assets/*"),
      new Operation("GET", "/ws")); // the WebSocket protocol is DESIGN.md section 8, not an OpenAPI operation

  private RouteInventory() {}

  /** The operations {@code server}'s router serves (a router built as each HTTP verticle builds its own). */
  public static Set<Operation> of(TestServer server) {
    Router router = server.app().routes().build(server.app().vertx());
    Set<Operation> operations = new TreeSet<>();
    collect(router, "", operations);
    return operations;
  }

  private static void collect(Router router, String prefix, Set<Operation> into) {
    for (Route route : router.getRoutes()) {
      String path = route.getPath();
      if (path == null || route.getSubRouter() == null && route.methods() == null) {
        continue;
      }
      String full = prefix + (route.isExactPath() ? path : path + "*");
      if (route.getSubRouter() != null) {
        collect(route.getSubRouter(), prefix + path.replaceAll("/$", ""), into);
      } else {
        route.methods().forEach(method -> into.add(new Operation(method.name(),
            full.replaceAll(":(\\w+)", "{$1}"))));
      }
    }
  }
}
