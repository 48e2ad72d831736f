package io.claudememory.claude;

import io.claudememory.platform.net.BoundedBody;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClientRequest;
import io.vertx.core.http.HttpClientResponse;
import io.vertx.core.json.DecodeException;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeoutException;

/**
 * One attempt of a streamed Messages API call: reads the response as it arrives and turns the SSE events of
 * protocols.md §1.4 into sink calls. Content blocks are rebuilt per {@code index} (text, tool input JSON, thinking and
 * its signature, citations); unknown events, blocks and delta types are kept or ignored, never fatal (the API may add
 * them within a version). Usage is the {@code message_start} usage overlaid by each (cumulative) {@code message_delta}.
 * A stream that ends without {@code message_stop} was dropped; one that goes quiet longer than the idle timeout
 * stalled. The stream is not trusted to keep to the protocol (API10): an event that cannot be read, a block index out
 * of order, an event over {@link UpstreamLimits#MAX_EVENT_BYTES} or an answer longer than {@code maxAnswerChars}
 * ends the answer with {@code stream_error}, keeping what came before.
 */
final class AnthropicStream implements Provider.Upstream {
  private final Vertx vertx;
  private final long idleTimeoutNanos;
  private final Provider.StreamSink sink;
  private final long maxAnswerChars;
  private long answerChars;
  private long lastActivity;
  private long watchdog = -1;
  private final JsonArray blocks = new JsonArray();
  private final List<Map<String, StringBuilder>> pending = new ArrayList<>();
  private JsonObject usage = new JsonObject();
  private String model;
  private String stopReason;
  private String requestId;
  private HttpClientRequest request;
  private boolean textBegan;
  private boolean over;

  AnthropicStream(Vertx vertx, long idleTimeoutMs, Provider.StreamSink sink) {
    this(vertx, idleTimeoutMs, UpstreamLimits.maxAnswerChars(4096), sink);
  }

  AnthropicStream(Vertx vertx, long idleTimeoutMs, long maxAnswerChars, Provider.StreamSink sink) {
    this.vertx = vertx;
    this.idleTimeoutNanos = idleTimeoutMs * 1_000_000;
    this.maxAnswerChars = maxAnswerChars;
    this.sink = sink;
  }

  void requestSent(HttpClientRequest request) {
    this.request = request;
    if (over) {
      request.reset();
    }
  }

  void response(HttpClientResponse response) {
    if (over) {
      return;
    }
    requestId = response.getHeader("request-id");
    if (response.statusCode() != 200) {
      BoundedBody.read(response, UpstreamLimits.MAX_BODY_BYTES).onComplete(body -> fail(AnthropicErrors.fromResponse(
          response, body.succeeded() ? body.result() : Buffer.buffer())));
      return;
    }
    SseParser parser = new SseParser(this::event, UpstreamLimits.MAX_EVENT_BYTES);
    lastActivity = System.nanoTime();
    // The request's own idle timeout covers the wait for headers only; a body that goes quiet is caught here.
    // One cheap periodic check per stream instead of re-arming a timer on every chunk.
    watchdog = vertx.setPeriodic(Math.max(20, idleTimeoutNanos / 4_000_000), t -> {
      if (!over && System.nanoTime() - lastActivity > idleTimeoutNanos) {
        transportFailed(new TimeoutException("no data for " + idleTimeoutNanos / 1_000_000 + " ms"));
      }
    });
    response.handler(chunk -> {
      if (!over) {
        lastActivity = System.nanoTime();
        try {
          parser.feed(chunk);
        } catch (SseParser.TooLarge e) {
          fail(UpstreamFailure.of("stream_error", "Claude sent an event larger than the server accepts.", 200));
        } catch (RuntimeException e) { // a member of an unexpected type, say: the stream is not what it should be
          fail(UpstreamFailure.of("stream_error", "Claude sent an event this server cannot read.", 200));
        }
      }
    });
    response.exceptionHandler(this::transportFailed);
    response.endHandler(v -> {
      if (!over) {
        fail(UpstreamFailure.of("dropped", "The connection to Claude closed before the answer was complete.", 200));
      }
    });
  }

  void transportFailed(Throwable err) {
    if (over) {
      return;
    }
    if (err instanceof TimeoutException || err.getClass().getSimpleName().contains("Timeout")) {
      fail(UpstreamFailure.of("stalled", "Claude sent nothing for too long; the request was abandoned.", 0));
    } else {
      fail(UpstreamFailure.of("dropped", "The connection to Claude failed: " + err.getMessage(), 0));
    }
  }

  void event(String name, String data) {
    if (over) {
      return;
    }
    JsonObject json;
    try {
      json = new JsonObject(data);
    } catch (DecodeException e) {
      fail(UpstreamFailure.of("stream_error", "Claude sent an unreadable event '" + name + "'.", 200));
      return;
    }
    switch (name) {
      case "message_start" -> messageStart(json.getJsonObject("message", new JsonObject()));
      case "content_block_start" -> blockStart(json.getInteger("index", blocks.size()),
          json.getJsonObject("content_block", new JsonObject()));
      case "content_block_delta" -> blockDelta(json.getInteger("index", 0), json.getJsonObject("delta",
          new JsonObject()));
      case "content_block_stop" -> blockStop(json.getInteger("index", 0));
      case "message_delta" -> messageDelta(json);
      case "message_stop" -> {
        over = true;
        stopWatchdog();
        for (int i = 0; i < blocks.size(); i++) {
          blockStop(i); // a block the stream never stopped still gets its text
        }
        sink.finished(new Provider.Answer(stopReason == null ? "end_turn" : stopReason, usage, blocks, model,
            requestId));
      }
      case "error" -> fail(AnthropicErrors.fromEvent(json));
      default -> { } // ping, and event types added after 2023-06-01
    }
  }

  private void messageStart(JsonObject message) {
    model = message.getString("model");
    JsonObject start = message.getJsonObject("usage");
    if (start != null) {
      usage = start.copy();
    }
  }

  private void blockStart(int index, JsonObject block) {
    if (index < 0 || index > blocks.size()) {
      fail(UpstreamFailure.of("stream_error", "Claude sent content block " + index + " out of order.", 200));
      return;
    }
    while (blocks.size() <= index) {
      blocks.add(new JsonObject());
      pending.add(new HashMap<>(2));
    }
    JsonObject copy = block.copy();
    blocks.set(index, copy);
    String text = copy.getString("text");
    if ("text".equals(copy.getString("type")) && text != null && !text.isEmpty() && within(text)) {
      emit(text);
    }
  }

  /**
   * Deltas are appended to per-block builders and written into the block at its stop: concatenating onto the
   * block's string at every delta would copy the whole answer each time (quadratic in its length).
   */
  private void blockDelta(int index, JsonObject delta) {
    if (index >= blocks.size()) {
      blockStart(index, new JsonObject().put("type", "text").put("text", ""));
    }
    if (over || index < 0) {
      fail(UpstreamFailure.of("stream_error", "Claude sent content block " + index + " out of order.", 200));
      return;
    }
    switch (delta.getString("type", "")) {
      case "text_delta" -> {
        String text = delta.getString("text", "");
        if (within(text)) {
          buffer(index, "text").append(text);
          emit(text);
        }
      }
      case "input_json_delta" -> {
        String json = delta.getString("partial_json", "");
        if (within(json)) {
          buffer(index, "partial_json").append(json);
        }
      }
      case "thinking_delta" -> {
        String thinking = delta.getString("thinking", "");
        if (within(thinking)) {
          buffer(index, "thinking").append(thinking);
        }
      }
      case "signature_delta" -> blocks.getJsonObject(index).put("signature", delta.getString("signature"));
      case "citations_delta" -> {
        JsonObject block = blocks.getJsonObject(index);
        JsonArray citations = block.getJsonArray("citations");
        if (citations == null) {
          citations = new JsonArray();
          block.put("citations", citations);
        }
        citations.add(delta.getValue("citation"));
      }
      default -> { } // a delta type this version does not know: kept out, never fatal
    }
  }

  private StringBuilder buffer(int index, String field) {
    return pending.get(index).computeIfAbsent(field, f -> {
      String initial = blocks.getJsonObject(index).getString(f);
      return new StringBuilder(initial == null ? "" : initial);
    });
  }

  private void blockStop(int index) {
    if (index < 0 || index >= blocks.size()) {
      return;
    }
    JsonObject block = blocks.getJsonObject(index);
    Map<String, StringBuilder> buffers = pending.get(index);
    buffers.forEach((field, text) -> {
      if (!field.equals("partial_json")) {
        block.put(field, text.toString());
      }
    });
    StringBuilder partial = buffers.get("partial_json");
    if (partial != null) {
      try {
        block.put("input", partial.isEmpty() ? new JsonObject() : new JsonObject(partial.toString()));
      } catch (DecodeException e) {
        block.put("input_raw", partial.toString());
      }
    }
    buffers.clear();
  }

  private void messageDelta(JsonObject json) {
    JsonObject delta = json.getJsonObject("delta", new JsonObject());
    if (delta.getString("stop_reason") != null) {
      stopReason = delta.getString("stop_reason");
    }
    JsonObject cumulative = json.getJsonObject("usage");
    if (cumulative != null) {
      cumulative.forEach(e -> {
        if (e.getValue() != null) {
          usage.put(e.getKey(), e.getValue());
        }
      });
    }
  }

  /** Counts {@code text} into the answer; false (and the answer failed) once it passes {@code maxAnswerChars}. */
  private boolean within(String text) {
    answerChars += text.length();
    if (answerChars > maxAnswerChars) {
      fail(UpstreamFailure.of("stream_error", "Claude's answer grew past " + maxAnswerChars + " characters, more "
          + "than its max_tokens allow.", 200));
      return false;
    }
    return true;
  }

  private void emit(String text) {
    textBegan = true;
    sink.text(text);
  }

  private void fail(UpstreamFailure failure) {
    if (over) {
      return;
    }
    over = true;
    stopWatchdog();
    if (request != null) {
      request.reset();
    }
    sink.failed(failure.withPartial(textBegan, usage));
  }

  private void stopWatchdog() {
    if (watchdog >= 0) {
      vertx.cancelTimer(watchdog);
      watchdog = -1;
    }
  }

  @Override
  public void cancel() {
    if (!over) {
      over = true;
      stopWatchdog();
      if (request != null) {
        request.reset();
      }
    }
  }
}
