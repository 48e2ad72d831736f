package io.claudememory.claude;

import io.claudememory.config.AppConfig;
import io.claudememory.platform.net.BoundedBody;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.PoolOptions;
import io.vertx.core.http.RequestOptions;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

/**
 * The Anthropic Messages API ({@code POST <base>/v1/messages}, protocols.md §1): {@code x-api-key},
 * {@code anthropic-version: 2023-06-01}, streamed SSE read incrementally by {@link AnthropicStream}. An idle
 * timeout on each request catches a stalled stream (pings count as traffic).
 */
public final class AnthropicProvider implements Provider {
  static final String VERSION = "2023-06-01";
  private final Vertx vertx;
  private final HttpClient http;
  private final String url;
  private final String apiKey;
  private final long idleTimeoutMs;
  private final long connectTimeoutMs;
  private final long maxAnswerChars;
  private final RetryPolicy retries;

  public AnthropicProvider(Vertx vertx, AppConfig.Claude config, RetryPolicy retries) {
    this.vertx = vertx;
    this.url = config.anthropicBaseUrl().replaceAll("/+$", "") + "/v1/messages";
    this.apiKey = config.anthropicApiKey();
    this.idleTimeoutMs = config.idleTimeoutMs();
    this.connectTimeoutMs = config.connectTimeoutMs();
    this.maxAnswerChars = UpstreamLimits.maxAnswerChars(config.maxTokens());
    this.retries = retries;
    // One connection per stream: each SSE answer holds its connection for its whole duration.
    this.http = vertx.createHttpClient(new HttpClientOptions().setKeepAlive(true).setTcpNoDelay(true),
        new PoolOptions().setHttp1MaxSize(Math.max(16, config.maxPerNode() + 8)).setMaxWaitQueueSize(1024));
  }

  @Override
  public String name() {
    return "anthropic";
  }

  @Override
  public Upstream stream(JsonObject request, String conversationId, StreamSink sink) {
    Buffer body = request.copy().put("stream", true).toBuffer();
    return new Retrying(vertx, retries, attemptSink -> attempt(body, attemptSink), sink).start();
  }

  private Upstream attempt(Buffer body, StreamSink sink) {
    AnthropicStream stream = new AnthropicStream(vertx, idleTimeoutMs, maxAnswerChars, sink);
    http.request(options().putHeader("accept", "text/event-stream"))
        .compose(req -> {
          stream.requestSent(req);
          return req.send(body);
        })
        .onSuccess(stream::response)
        .onFailure(stream::transportFailed);
    return stream;
  }

  @Override
  public Future<String> complete(JsonObject request) {
    JsonObject copy = request.copy().put("stream", false);
    copy.remove("task"); // ours, for n8n routing; the API rejects unknown fields
    Buffer body = copy.toBuffer();
    return http.request(options())
        .compose(req -> req.send(body))
        .compose(resp -> BoundedBody.read(resp, UpstreamLimits.MAX_BODY_BYTES).compose(buf -> resp.statusCode() == 200
            ? Future.succeededFuture(buf) : Future.failedFuture(AnthropicErrors.fromResponse(resp, buf).reason())))
        .map(buf -> textOf(buf.toJsonObject().getJsonArray("content", new JsonArray())));
  }

  static String textOf(JsonArray content) {
    StringBuilder text = new StringBuilder();
    for (int i = 0; i < content.size(); i++) {
      JsonObject block = content.getJsonObject(i);
      if ("text".equals(block.getString("type"))) {
        text.append(block.getString("text", ""));
      }
    }
    return text.toString();
  }

  private RequestOptions options() {
    return new RequestOptions().setMethod(HttpMethod.POST).setAbsoluteURI(url)
        .setIdleTimeout(idleTimeoutMs).setConnectTimeout(connectTimeoutMs)
        .putHeader("x-api-key", apiKey)
        .putHeader("anthropic-version", VERSION)
        .putHeader("content-type", "application/json");
  }

  public Future<Void> close() {
    return http.close();
  }
}
