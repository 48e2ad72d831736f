package io.claudememory.claude;

import io.vertx.core.Future;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

/**
 * Something that answers a Messages API request: the Anthropic API itself or an n8n workflow. Chosen once, by
 * configuration. Retries (before the first text) happen inside the provider; what reaches the sink is final.
 */
public interface Provider {

  /** {@code anthropic} or {@code n8n}; recorded nowhere but logs and the context preview. */
  String name();

  /**
   * Starts one streamed answer to {@code request} (a Messages API body; the provider sets {@code stream}). Callbacks
   * arrive on the caller's context, in order, and stop after {@code finished} or {@code failed}, or once cancelled.
   */
  Upstream stream(JsonObject request, String conversationId, StreamSink sink);

  /** A short non-streamed answer (titles, summaries): the text of the reply. */
  Future<String> complete(JsonObject request);

  /** A running upstream request. */
  interface Upstream {
    /** Stops the upstream request (closes its connection); the sink hears nothing more. Idempotent. */
    void cancel();
  }

  /** Where one answer goes. */
  interface StreamSink {
    void text(String text);

    void finished(Answer answer);

    void failed(UpstreamFailure failure);
  }

  /**
   * A complete answer: {@code blocks} are the content blocks as Claude returned them (text, tool_use, thinking ...),
   * {@code usage} the merged usage of {@code message_start} and the last {@code message_delta}.
   */
  record Answer(String stopReason, JsonObject usage, JsonArray blocks, String model, String requestId) {}
}
