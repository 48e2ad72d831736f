package io.claudememory.portability;

import io.claudememory.support.ApiClient;
import io.vertx.core.json.JsonObject;

/** Lets tests of other capabilities run an export through the API and wait for it. */
public final class PortabilityTestAccess {
  private final PortabilityClient client;

  public PortabilityTestAccess(ApiClient api) {
    this.client = new PortabilityClient(api);
  }

  /** A native export of the whole account, finished. */
  public JsonObject export(String token) {
    return client.export(token, new JsonObject());
  }
}
