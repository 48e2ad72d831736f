package io.claudememory.claude;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.vertx.core.buffer.Buffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

@DisplayName("SSE parsing: events are read incrementally, however the bytes are split")
class SseParserTest {

  @Test
  @DisplayName("an event split at every byte, even inside a UTF-8 character, is read once and whole")
  void splitAnywhere() {
    String stream = "event: content_block_delta\r\ndata: {\"text\":\"héllo — ✓\"}\r\n\r\n: comment\n\n"
        + "event: ping\ndata: {}\n\ndata: line one\ndata: line two\n\n";
    byte[] bytes = stream.getBytes(StandardCharsets.UTF_8);
    List<String> events = new ArrayList<>();
    SseParser parser = new SseParser((name, data) -> events.add(name + "|" + data));
    for (byte b : bytes) {
      parser.feed(Buffer.buffer(new byte[] {b}));
    }
    assertEquals(List.of("content_block_delta|{\"text\":\"héllo — ✓\"}", "ping|{}", "message|line one\nline two"),
        events);
  }

  @Test
  @DisplayName("an event is dispatched only once its blank line has arrived")
  void waitsForTheBlankLine() {
    List<String> events = new ArrayList<>();
    SseParser parser = new SseParser((name, data) -> events.add(name));
    parser.feed(Buffer.buffer("event: message_stop\ndata: {}\n"));
    assertEquals(List.of(), events);
    parser.feed(Buffer.buffer("\n"));
    assertEquals(List.of("message_stop"), events);
  }

  @Test
  @DisplayName("a line without end, or an event of many lines, past the limit is refused instead of kept growing")
  void boundedLinesAndEvents() {
    SseParser line = new SseParser((name, data) -> { }, 1024);
    line.feed(Buffer.buffer("data: " + "x".repeat(1000)));
    assertThrows(SseParser.TooLarge.class, () -> line.feed(Buffer.buffer("x".repeat(100))));
    SseParser event = new SseParser((name, data) -> { }, 1024);
    assertThrows(SseParser.TooLarge.class, () -> {
      for (int i = 0; i < 20; i++) {
        event.feed(Buffer.buffer("data: " + "y".repeat(100) + "\n"));
      }
    });
  }
}
