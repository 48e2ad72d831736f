package io.claudememory.claude;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

@DisplayName("Anthropic stream events: every block and delta type is rebuilt, unknown ones never break an answer")
class AnthropicStreamTest {
  static Vertx vertx;

  @BeforeAll
  static void start() {
    vertx = Vertx.vertx();
  }

  @AfterAll
  static void stop() {
    vertx.close();
  }

  /** Collects what a stream tells its sink. */
  static final class Sink implements Provider.StreamSink {
    final List<String> texts = new ArrayList<>();
    Provider.Answer answer;
    UpstreamFailure failure;

    @Override
    public void text(String text) {
      texts.add(text);
    }

    @Override
    public void finished(Provider.Answer answer) {
      this.answer = answer;
    }

    @Override
    public void failed(UpstreamFailure failure) {
      this.failure = failure;
    }
  }

  @Test
  @DisplayName("thinking, text and tool_use blocks, a new event type and a new delta type make one answer")
  void everyBlock() {
    Sink sink = new Sink();
    AnthropicStream stream = new AnthropicStream(vertx, 1000, sink);
    stream.event("message_start", "{\"type\":\"message_start\",\"message\":{\"model\":\"claude-x\",\"usage\":"
        + "{\"input_tokens\":12,\"cache_read_input_tokens\":30,\"output_tokens\":1}}}");
    stream.event("content_block_start", "{\"index\":0,\"content_block\":{\"type\":\"thinking\",\"thinking\":\"\"}}");
    stream.event("content_block_delta", "{\"index\":0,\"delta\":{\"type\":\"thinking_delta\",\"thinking\":\"Let \"}}");
    stream.event("content_block_delta", "{\"index\":0,\"delta\":{\"type\":\"thinking_delta\",\"thinking\":\"me\"}}");
    stream.event("content_block_delta",
        "{\"index\":0,\"delta\":{\"type\":\"signature_delta\",\"signature\":\"sig\"}}");
    stream.event("content_block_stop", "{\"index\":0}");
    stream.event("ping", "{\"type\":\"ping\"}");
    stream.event("content_block_start", "{\"index\":1,\"content_block\":{\"type\":\"text\",\"text\":\"\"}}");
    stream.event("content_block_delta", "{\"index\":1,\"delta\":{\"type\":\"text_delta\",\"text\":\"Hi\"}}");
    stream.event("content_block_delta",
        "{\"index\":1,\"delta\":{\"type\":\"citations_delta\",\"citation\":{\"n\":1}}}");
    stream.event("content_block_delta", "{\"index\":1,\"delta\":{\"type\":\"sparkle_delta\",\"sparkle\":true}}");
    stream.event("content_block_delta", "{\"index\":1,\"delta\":{\"type\":\"text_delta\",\"text\":\" you\"}}");
    stream.event("content_block_stop", "{\"index\":1}");
    stream.event("future_event", "{\"type\":\"future_event\"}");
    stream.event("content_block_start", "{\"index\":2,\"content_block\":{\"type\":\"tool_use\",\"id\":\"toolu_1\","
        + "\"name\":\"search\",\"input\":{}}}");
    stream.event("content_block_delta", "{\"index\":2,\"delta\":{\"type\":\"input_json_delta\","
        + "\"partial_json\":\"{\\\"q\\\":\"}}");
    stream.event("content_block_delta",
        "{\"index\":2,\"delta\":{\"type\":\"input_json_delta\",\"partial_json\":\"1}\"}}");
    stream.event("content_block_stop", "{\"index\":2}");
    stream.event("message_delta", "{\"delta\":{\"stop_reason\":\"tool_use\"},\"usage\":{\"output_tokens\":9}}");
    stream.event("message_stop", "{}");

    assertNull(sink.failure);
    assertEquals(List.of("Hi", " you"), sink.texts, "only text reaches the room");
    Provider.Answer answer = sink.answer;
    assertEquals("tool_use", answer.stopReason());
    assertEquals("claude-x", answer.model());
    assertEquals(new JsonObject().put("input_tokens", 12).put("cache_read_input_tokens", 30).put("output_tokens", 9),
        answer.usage(), "message_start usage overlaid by the cumulative message_delta usage");
    assertEquals("Let me", answer.blocks().getJsonObject(0).getString("thinking"));
    assertEquals("sig", answer.blocks().getJsonObject(0).getString("signature"));
    assertEquals("Hi you", answer.blocks().getJsonObject(1).getString("text"));
    assertEquals(1, answer.blocks().getJsonObject(1).getJsonArray("citations").size());
    assertEquals(new JsonObject().put("q", 1), answer.blocks().getJsonObject(2).getJsonObject("input"));
  }

  @Test
  @DisplayName("an error event after text is a failure that says text had begun")
  void errorAfterText() {
    Sink sink = new Sink();
    AnthropicStream stream = new AnthropicStream(vertx, 1000, sink);
    stream.event("content_block_start", "{\"index\":0,\"content_block\":{\"type\":\"text\",\"text\":\"\"}}");
    stream.event("content_block_delta", "{\"index\":0,\"delta\":{\"type\":\"text_delta\",\"text\":\"Par\"}}");
    stream.event("error", "{\"type\":\"error\",\"error\":{\"type\":\"overloaded_error\",\"message\":\"Overloaded\"}}");
    stream.event("content_block_delta", "{\"index\":0,\"delta\":{\"type\":\"text_delta\",\"text\":\"tial\"}}");
    assertEquals("overloaded", sink.failure.code());
    assertTrue(sink.failure.partial());
    assertEquals(200, sink.failure.status());
    assertEquals(List.of("Par"), sink.texts, "nothing after the failure");
  }
}
