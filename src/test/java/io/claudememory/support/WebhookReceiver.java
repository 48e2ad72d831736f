package io.claudememory.support;

import static org.junit.jupiter.api.Assertions.fail;

import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServer;
import io.vertx.core.json.JsonObject;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.function.BiFunction;
import java.util.function.Predicate;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * A webhook endpoint for tests, verifying Standard Webhooks signatures as a consumer would (written from the spec,
 * not from the server's code): HMAC-SHA256 keyed with the base64 part of the {@code whsec_} secret over
 * {@code id.timestamp.body}, compared in constant time, timestamp within 5 minutes. It records every request and
 * answers what {@link #answer} says (200 by default).
 */
public final class WebhookReceiver implements AutoCloseable {
  /** One request as received. */
  public record Received(String id, long timestamp, boolean validSignature, JsonObject body, long atNanos,
      int answered) {}

  private final Vertx vertx = Vertx.vertx();
  private final List<Received> received = new ArrayList<>();
  private final Map<String, Integer> seen = new ConcurrentHashMap<>();
  private final HttpServer server;
  private volatile String secret;
  /** Given the webhook-id and how many times it was received before, the status to answer. */
  private volatile BiFunction<String, Integer, Integer> answer = (id, before) -> 200;

  public WebhookReceiver() {
    server = vertx.createHttpServer().requestHandler(req -> req.body().onSuccess(body -> {
      String id = req.getHeader("webhook-id");
      long timestamp = Long.parseLong(req.getHeader("webhook-timestamp"));
      boolean valid = verify(id, timestamp, req.getHeader("webhook-signature"), body.getBytes());
      int before = seen.merge(id, 1, Integer::sum) - 1;
      int status = answer.apply(id, before);
      synchronized (received) {
        received.add(new Received(id, timestamp, valid, body.toJsonObject(), System.nanoTime(), status));
      }
      req.response().setStatusCode(status).end();
    })).listen(0, "127.0.0.1").await();
  }

  public String url() {
    return "http://127.0.0.1:" + server.actualPort() + "/hook";
  }

  public void secret(String secret) {
    this.secret = secret;
  }

  public void answer(BiFunction<String, Integer, Integer> answer) {
    this.answer = answer;
  }

  public List<Received> received() {
    synchronized (received) {
      return List.copyOf(received);
    }
  }

  public List<Received> received(Predicate<Received> which) {
    return received().stream().filter(which).toList();
  }

  /** Waits until at least {@code n} requests match; fails after {@code seconds}. */
  public List<Received> await(Predicate<Received> which, int n, int seconds) {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
    while (System.nanoTime() < deadline) {
      List<Received> matching = received(which);
      if (matching.size() >= n) {
        return matching;
      }
      try {
        Thread.sleep(20);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        break;
      }
    }
    return fail("expected " + n + " matching webhook requests within " + seconds + "s; got " + received());
  }

  private boolean verify(String id, long timestamp, String header, byte[] body) {
    if (secret == null || header == null || Math.abs(System.currentTimeMillis() / 1000 - timestamp) > 300) {
      return false;
    }
    try {
      Mac mac = Mac.getInstance("HmacSHA256");
      mac.init(new SecretKeySpec(Base64.getDecoder().decode(secret.substring("whsec_".length())), "HmacSHA256"));
      byte[] expected = mac.doFinal((id + "." + timestamp + "." + new String(body, StandardCharsets.UTF_8))
          .getBytes(StandardCharsets.UTF_8));
      for (String signature : header.split(" ")) {
        if (signature.startsWith("v1,") && MessageDigest.isEqual(expected,
            Base64.getDecoder().decode(signature.substring(3)))) {
          return true;
        }
      }
      return false;
    } catch (Exception e) {
      return false;
    }
  }

  @Override
  public void close() {
    vertx.close().await();
  }
}
