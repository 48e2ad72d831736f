package io.claudememory.portability;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;

import io.claudememory.support.ApiClient;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import java.security.MessageDigest;
import java.util.HexFormat;

/** Export and import as a client does them: submit, follow the job at /export/jobs/:id, download. */
final class PortabilityClient {
  private final ApiClient api;

  PortabilityClient(ApiClient api) {
    this.api = api;
  }

  /** Submits an export and waits for it to finish. */
  JsonObject export(String token, JsonObject body) {
    ApiClient.Reply reply = api.post("/api/v1/export/create", token, body);
    assertEquals(202, reply.status(), reply.body());
    assertEquals("/api/v1/export/jobs/" + reply.data().getString("id"), reply.header("Location"));
    return awaitJob(token, reply.data().getString("id"), 120);
  }

  /** Downloads a finished export, checking the size and digest headers against the bytes. */
  Buffer download(String token, String jobId) throws Exception {
    ApiClient.Reply reply = api.get("/api/v1/export/download/" + jobId, token);
    assertEquals(200, reply.status(), reply.body());
    Buffer file = reply.raw();
    assertEquals(Long.toString(file.length()), reply.header("Content-Length"), "Content-Length is the file's size");
    assertEquals(Long.toString(file.length()), reply.header("X-Export-Size"));
    String sha = HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(file.getBytes()));
    assertEquals(sha, reply.header("X-Content-SHA256"), "the digest header matches the bytes");
    assertNotNull(reply.header("Digest"));
    return file;
  }

  /** Uploads a file to import and waits for the job to finish (succeeded or failed). */
  JsonObject importFile(String token, String name, Buffer file, String passphrase) {
    ApiClient.Reply reply = api.upload("/api/v1/export/import", token, name, file, passphrase);
    assertEquals(202, reply.status(), reply.body());
    return awaitJob(token, reply.data().getString("id"), 120);
  }

  JsonObject awaitJob(String token, String jobId, int seconds) {
    return io.claudememory.support.Jobs.awaitFinishedAt(api, token, "/api/v1/export/jobs/" + jobId, seconds);
  }
}
