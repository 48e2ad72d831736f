package io.claudememory.platform.http;

import static org.junit.jupiter.api.Assertions.assertEquals;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.AppenderBase;
import io.claudememory.support.TestServer;
import io.claudememory.support.Users;
import io.claudememory.support.Users.TestUser;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.slf4j.LoggerFactory;

@DisplayName("Every access log line carries the id of its own request, also when requests of one user overlap")
class RequestIdLogTest {
  @RegisterExtension
  static final TestServer server = TestServer.start(Map.of("CMB_AUTH_STATE_CACHE_SECONDS", "1"));

  /** What %rid prints for each access line, converted on the logging thread as the console appender does. */
  static final class RequestIdsSeen extends AppenderBase<ILoggingEvent> {
    final Map<String, String> ridByPath = new ConcurrentHashMap<>();
    final RequestIdConverter converter = new RequestIdConverter();

    @Override
    protected void append(ILoggingEvent event) {
      String message = event.getFormattedMessage();
      String rid = converter.convert(event);
      int q = message.indexOf("probe=");
      if (q >= 0) {
        ridByPath.put(message.substring(q + "probe=".length()).split("[ &]")[0], rid);
      }
    }
  }

  @Test
  @DisplayName("32 overlapping requests of a user whose state is being loaded each log their own request id")
  void ownIdsUnderOverlap() throws Exception {
    TestUser ann = Users.register(server.client());
    RequestIdsSeen seen = new RequestIdsSeen();
    seen.start();
    Logger access = (Logger) LoggerFactory.getLogger("access");
    access.addAppender(seen);
    HttpClient http = HttpClient.newHttpClient();
    try {
      for (int round = 0; round < 3; round++) {
        // The node trusts a user's state for 1 s: after that, the first of these requests loads it and the others
        // wait for the same load.
        Thread.sleep(1100);
        List<CompletableFuture<HttpResponse<Void>>> sent = new ArrayList<>();
        for (int i = 0; i < 32; i++) {
          String id = "r" + round + "-" + i;
          sent.add(http.sendAsync(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + server.port()
                  + "/api/v1/projects?probe=" + id)).header("Authorization", "Bearer " + ann.accessToken())
              .header("X-Request-Id", id).build(), HttpResponse.BodyHandlers.discarding()));
        }
        for (CompletableFuture<HttpResponse<Void>> reply : sent) {
          assertEquals(200, reply.get(30, TimeUnit.SECONDS).statusCode());
        }
      }
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
      while (seen.ridByPath.size() < 96 && System.nanoTime() < deadline) {
        Thread.sleep(20);
      }
      assertEquals(96, seen.ridByPath.size(), "every request logged");
      seen.ridByPath.forEach((id, rid) -> assertEquals(id, rid, "the access line of request " + id));
    } finally {
      access.detachAppender(seen);
    }
  }
}
