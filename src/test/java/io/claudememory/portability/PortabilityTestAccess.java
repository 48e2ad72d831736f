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
    return export(token, new JsonObject());
  }

  /** An export as {@code body} asks ({@code POST /export/create}), finished. */
  public JsonObject export(String token, JsonObject body) {
    return client.export(token, body);
  }

  /** The file of a finished export, its size and digest headers checked. */
  public Buffer download(String token, String jobId) throws Exception {
    return client.download(token, jobId);
  }

  /** An import of {@code file} (named {@code name}), finished. */
  public JsonObject importFile(String token, String name, Buffer file) {
    return client.importFile(token, name, file, null);
  }
}
