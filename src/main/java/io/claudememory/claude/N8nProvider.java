package io.claudememory.claude;

import io.claudememory.config.AppConfig;
import io.claudememory.platform.net.BoundedBody;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpClientResponse;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.RequestOptions;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

/**
 * An n8n workflow (Webhook → Claude → Respond to Webhook, protocols.md §4): one POST of
 * {@code {task, conversation_id, model, max_tokens, system, messages}} with plain-text system and message contents,
 * answered with JSON in one piece, delivered as one delta. {@link N8nAnswers} reads the shapes a Respond to Webhook
 * node produces. Failures are retried like the API's (429/5xx with {@code retry-after}).
 */
public final class N8nProvider implements Provider {
  private final Vertx vertx;
  private final HttpClient http;
  private final String url;
  private final long idleTimeoutMs;
  private final long connectTimeoutMs;
  private final RetryPolicy retries;

  public N8nProvider(Vertx vertx, AppConfig.Claude config, RetryPolicy retries) {
    this.vertx = vertx;
    this.url = config.n8nWebhookUrl();
    this.idleTimeoutMs = config.idleTimeoutMs();
    this.connectTimeoutMs = config.connectTimeoutMs();
    this.retries = retries;
    this.http = vertx.createHttpClient(new HttpClientOptions().setKeepAlive(true));
  }

  @Override
  public String name() {
    return "n8n";
  }

  @Override
  public Upstream stream(JsonObject request, String conversationId, StreamSink sink) {
    Buffer body = webhookBody(request, "answer").put("conversation_id", conversationId).toBuffer();
    return new Retrying(vertx, retries, attemptSink -> attempt(body, attemptSink), sink).start();
  }

  private Upstream attempt(Buffer body, StreamSink sink) {
    boolean[] cancelled = {false};
    post(body).onComplete(result -> {
      if (cancelled[0]) {
        return;
      }
      if (result.failed()) {
        sink.failed(result.cause() instanceof FailureCarrier carrier ? carrier.failure
            : UpstreamFailure.of(result.cause().getClass().getSimpleName().contains("Timeout") ? "stalled" : "dropped",
                "The n8n workflow did not answer: " + result.cause().getMessage(), 0));
        return;
      }
      N8nAnswers.Parsed answer = result.result();
      if (!answer.text().isEmpty()) {
        sink.text(answer.text());
      }
      sink.finished(new Answer(answer.stopReason(), answer.usage(), new JsonArray()
          .add(new JsonObject().put("type", "text").put("text", answer.text())), answer.model(), null));
    });
    return () -> cancelled[0] = true;
  }

  @Override
  public Future<String> complete(JsonObject request) {
    return post(webhookBody(request, request.getString("task", "complete")).toBuffer()).map(N8nAnswers.Parsed::text);
  }

  private Future<N8nAnswers.Parsed> post(Buffer body) {
    RequestOptions options = new RequestOptions().setMethod(HttpMethod.POST).setAbsoluteURI(url)
        .setIdleTimeout(idleTimeoutMs).setConnectTimeout(connectTimeoutMs)
        .putHeader("content-type", "application/json").putHeader("accept", "application/json");
    return http.request(options).compose(req -> req.send(body)).compose(resp -> BoundedBody.read(resp,
        UpstreamLimits.MAX_BODY_BYTES).recover(err -> Future.failedFuture(err instanceof BoundedBody.TooLarge
            ? new FailureCarrier(UpstreamFailure.of("upstream_error", "The n8n workflow's answer is larger than "
                + UpstreamLimits.MAX_BODY_BYTES + " bytes.", resp.statusCode())) : err))
        .compose(buf -> {
          if (resp.statusCode() / 100 != 2) {
            return Future.failedFuture(new FailureCarrier(failure(resp, buf)));
          }
          try {
            return Future.succeededFuture(N8nAnswers.parse(buf, resp.getHeader("content-type")));
          } catch (RuntimeException e) { // not the shape expected, or not JSON at all
            return Future.failedFuture(new FailureCarrier(UpstreamFailure.of("upstream_error",
                e instanceof IllegalArgumentException ? e.getMessage() : "The n8n workflow's answer could not be read.",
                200)));
          }
        }));
  }

  private static UpstreamFailure failure(HttpClientResponse resp, Buffer body) {
    Long retryAfter = AnthropicErrors.retryAfterMs(resp);
    try {
      Object seconds = body.toJsonObject().getValue("retry_after");
      if (retryAfter == null && seconds instanceof Number n) {
        retryAfter = (long) (n.doubleValue() * 1000);
      }
    } catch (RuntimeException ignored) {
      // not JSON: the status says enough
    }
    int status = resp.statusCode();
    String code = status == 429 ? "rate_limited" : status == 529 ? "overloaded" : "upstream_error";
    return new UpstreamFailure(code, "The n8n workflow answered " + status, status, retryAfter, null, false, null);
  }

  /** n8n's body: the Messages API request flattened to text, plus what it is for. */
  static JsonObject webhookBody(JsonObject request, String task) {
    JsonArray messages = new JsonArray();
    request.getJsonArray("messages", new JsonArray()).forEach(m -> {
      JsonObject message = (JsonObject) m;
      messages.add(new JsonObject().put("role", message.getString("role")).put("content", textOf(message
          .getValue("content"))));
    });
    return new JsonObject()
        .put("task", task)
        .put("model", request.getString("model"))
        .put("max_tokens", request.getInteger("max_tokens"))
        .put("system", textOf(request.getValue("system")))
        .put("messages", messages);
  }

  private static String textOf(Object content) {
    if (content == null) {
      return "";
    }
    if (content instanceof String s) {
      return s;
    }
    StringBuilder text = new StringBuilder();
    for (Object block : (JsonArray) content) {
      String part = ((JsonObject) block).getString("text");
      if (part != null) {
        text.append(text.length() == 0 ? "" : "\n\n").append(part);
      }
    }
    return text.toString();
  }

  /** Carries a typed failure through a future. */
  private static final class FailureCarrier extends RuntimeException {
    final UpstreamFailure failure;

    FailureCarrier(UpstreamFailure failure) {
      super(failure.reason(), null, false, false);
      this.failure = failure;
    }
  }

  public Future<Void> close() {
    return http.close();
  }
}
