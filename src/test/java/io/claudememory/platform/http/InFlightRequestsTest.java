package io.claudememory.platform.http;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.claudememory.support.Awaits;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServer;
import io.vertx.ext.web.Router;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

@DisplayName("In-flight requests: a request counts until its handler ends the answer, even after its client left")
class InFlightRequestsTest {
  private Vertx vertx;
  private HttpServer server;
  private final InFlightRequests inFlight = new InFlightRequests();
  private final Promise<Void> finish = Promise.promise();
  private final Promise<Void> started = Promise.promise();

  @BeforeEach
  void start() throws Exception {
    vertx = Vertx.vertx();
    Router router = Router.router(vertx);
    router.route().handler(inFlight).handler(ctx -> {
      started.tryComplete();
      finish.future().onComplete(done -> ctx.response().end("done"));
    });
    server = vertx.createHttpServer().requestHandler(router).listen(0, "127.0.0.1").await(10, TimeUnit.SECONDS);
  }

  @AfterEach
  void stop() throws Exception {
    vertx.close().await(10, TimeUnit.SECONDS);
  }

  @Test
  @DisplayName("a handler still running after its client closed the connection keeps the drain waiting")
  void clientGone() throws Exception {
    try (Socket client = new Socket("127.0.0.1", server.actualPort())) {
      OutputStream out = client.getOutputStream();
      out.write("GET /slow HTTP/1.1\r\nHost: test\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
      out.flush();
      started.future().await(10, TimeUnit.SECONDS);
    }
    // The server stops: its connections are gone (and with them the request's end handlers have run), but the
    // handler has not ended its answer yet.
    server.shutdown().await(10, TimeUnit.SECONDS);
    assertEquals(1, inFlight.count(), "still in flight after its connection closed");
    Future<Void> drained = inFlight.drained(vertx, 30_000);

    finish.complete();
    drained.await(10, TimeUnit.SECONDS);
    assertEquals(0, inFlight.count());
  }

  @Test
  @DisplayName("a drain gives up after its limit; WebSocket upgrades are never counted")
  void limitAndUpgrades() throws Exception {
    try (Socket client = new Socket("127.0.0.1", server.actualPort())) {
      client.getOutputStream().write(("GET /socket HTTP/1.1\r\nHost: test\r\nUpgrade: websocket\r\n"
          + "Connection: Upgrade\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
      started.future().await(10, TimeUnit.SECONDS);
      assertEquals(0, inFlight.count(), "an upgrade is not a request to drain");
    }
    try (Socket client = new Socket("127.0.0.1", server.actualPort())) {
      client.getOutputStream().write("GET /slow HTTP/1.1\r\nHost: test\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
      Awaits.until(() -> inFlight.count() == 1, 10_000, "the second request is counted");
      inFlight.drained(vertx, 100).await(10, TimeUnit.SECONDS);
      assertEquals(1, inFlight.count(), "the limit ended the wait, not the request");
    }
    finish.complete();
  }
}
