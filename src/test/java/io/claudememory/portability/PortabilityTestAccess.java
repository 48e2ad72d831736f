package io.claudememory.portability;

import io.claudememory.support.ApiClient;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;

/** Lets tests of other capabilities run an export or an import through the API and wait for it. */
public final class PortabilityTestAccess {
  private final PortabilityClient client;

  public PortabilityTestAccess(ApiClient api) {
    this.client = new PortabilityClient(api);
  }

  /** A native export of the whole account, finished. */
  public JsonObject export(String token) {
    return client.export(token, new JsonObject());
  }

  /** An import of {@code file} (named {@code name}), finished. */
  public JsonObject importFile(String token, String name, Buffer file) {
    return client.importFile(token, name, file, null);
  }
}
