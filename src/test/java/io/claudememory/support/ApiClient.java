package io.claudememory.support;

import io.vertx.core.MultiMap;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpRequest;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.ext.web.client.WebClient;
import io.vertx.ext.web.client.WebClientOptions;
import java.util.concurrent.TimeUnit;

/**
 * A plain HTTP client for tests, used from the test thread: each call waits for its answer (JUnit's thread is not an
 * event loop, so {@code await} is allowed), which keeps multi-step flows readable top to bottom.
 *
 * <p>Every reply is checked against the API contract ({@link ApiContract}): an answer the contract does not describe
 * fails the test where it was received. Only a test that deliberately sends what the contract cannot describe uses
 * {@link #withoutContractCheck()}.
 */
public final class ApiClient {
  private final WebClient web;
  private final int port;
  private final boolean contractChecked;
  private final Observer observer;

  /** Told about every exchange a client makes (the security suite collects the secrets that pass by). */
  @FunctionalInterface
  public interface Observer {
    /** {@code sent} is the request body (null without one); for an upload, the form's text fields as JSON. */
    void exchanged(HttpRequest<Buffer> request, Buffer sent, Reply reply);
  }

  public ApiClient(Vertx vertx, int port) {
    this(WebClient.create(vertx, new WebClientOptions().setDefaultHost("127.0.0.1").setDefaultPort(port)), port,
        true, null);
  }

  private ApiClient(WebClient web, int port, boolean contractChecked, Observer observer) {
    this.web = web;
    this.port = port;
    this.contractChecked = contractChecked;
    this.observer = observer;
  }

  /** The same client, its replies not checked against the contract. */
  public ApiClient withoutContractCheck() {
    return new ApiClient(web, port, false, observer);
  }

  /** The same client, reporting each exchange to {@code observer} (before the contract check). */
  public ApiClient observedBy(Observer observer) {
    return new ApiClient(web, port, contractChecked, observer);
  }

  /** An answer: status, headers, and the body as JSON when it is JSON. */
  public record Reply(int status, MultiMap headers, Buffer raw) {
    public JsonObject json() {
      return raw == null || raw.length() == 0 ? null : raw.toJsonObject();
    }

    public JsonObject data() {
      return json().getJsonObject("data");
    }

    public JsonArray list() {
      return json().getJsonArray("data");
    }

    public String header(String name) {
      return headers.get(name);
    }

    public String body() {
      return raw == null ? "" : raw.toString();
    }
  }

  public Reply get(String path, String token) {
    return send(HttpMethod.GET, path, token, null);
  }

  public Reply post(String path, String token, JsonObject body) {
    return send(HttpMethod.POST, path, token, body == null ? null : body.toBuffer());
  }

  public Reply patch(String path, String token, JsonObject body) {
    return send(HttpMethod.PATCH, path, token, body.toBuffer());
  }

  public Reply put(String path, String token, JsonObject body) {
    return send(HttpMethod.PUT, path, token, body.toBuffer());
  }

  public Reply delete(String path, String token) {
    return send(HttpMethod.DELETE, path, token, null);
  }

  public Reply send(HttpMethod method, String path, String token, Buffer body) {
    return send(request(method, path, token), body);
  }

  public HttpRequest<Buffer> request(HttpMethod method, String path, String token) {
    HttpRequest<Buffer> request = web.request(method, path);
    if (token != null) {
      request.bearerTokenAuthentication(token);
    }
    return request;
  }

  public Reply send(HttpRequest<Buffer> request, Buffer body) {
    Reply reply;
    try {
      if (body != null && !request.headers().contains("Content-Type")) {
        request.putHeader("Content-Type", "application/json");
      }
      HttpResponse<Buffer> response = (body == null ? request.send() : request.sendBuffer(body))
          .await(60, TimeUnit.SECONDS);
      reply = new Reply(response.statusCode(), response.headers(), response.body());
    } catch (Exception e) {
      throw new IllegalStateException(request.method() + " " + request.uri() + " failed: " + e.getMessage(), e);
    }
    if (observer != null) {
      observer.exchanged(request, body, reply);
    }
    if (contractChecked) {
      ApiContract.load().check(request.method(), request.uri(), reply);
    }
    return reply;
  }

  /** A multipart upload: {@code file} as the part {@code file}, and {@code passphrase} when not null. */
  public Reply upload(String path, String token, String fileName, Buffer file, String passphrase) {
    io.vertx.ext.web.multipart.MultipartForm form = io.vertx.ext.web.multipart.MultipartForm.create()
        .binaryFileUpload("file", fileName, file, "application/octet-stream");
    if (passphrase != null) {
      form.attribute("passphrase", passphrase);
    }
    HttpRequest<Buffer> request = request(HttpMethod.POST, path, token);
    Reply reply;
    try {
      HttpResponse<Buffer> response = request.sendMultipartForm(form).await(120, TimeUnit.SECONDS);
      reply = new Reply(response.statusCode(), response.headers(), response.body());
    } catch (Exception e) {
      throw new IllegalStateException("upload to " + path + " failed: " + e.getMessage(), e);
    }
    if (observer != null) {
      JsonObject fields = passphrase == null ? new JsonObject() : new JsonObject().put("passphrase", passphrase);
      observer.exchanged(request, fields.toBuffer(), reply);
    }
    if (contractChecked) {
      ApiContract.load().check(HttpMethod.POST, path, reply);
    }
    return reply;
  }

  public int port() {
    return port;
  }

  public WebClient web() {
    return web;
  }
}
