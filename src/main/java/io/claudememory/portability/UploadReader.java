package io.claudememory.portability;

import io.claudememory.platform.http.ApiException;
import io.vertx.core.Future;
import io.vertx.core.Handler;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpServerFileUpload;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.ext.web.RoutingContext;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Reads a multipart upload: each file part streamed to a file of its own under the uploads directory, form fields
 * kept on the request, the whole body bounded (413). Files are deleted once the answer is sent; whoever keeps one
 * moves it away first.
 *
 * <p>Why not vertx-web's BodyHandler: a body that ends inside a file part (its closing boundary never sent) leaves
 * that part unfinished, and BodyHandler waits for it forever, holding the request, its connection and an open file.
 * Here the raw body is watched for the closing delimiter; a body that ends without it is a 400.
 */
final class UploadReader implements Handler<RoutingContext> {
  /** The context key of the {@code List<Upload>} read. */
  static final String UPLOADS = "cmb.uploads";
  private static final Pattern BOUNDARY = Pattern.compile("(?i);\\s*boundary=(\"([^\"]{1,70})\"|([^;\\s]{1,70}))");
  private final String directory;
  private final long limit;

  /** A file part as stored: its part name, the client's file name, where it is and its size. */
  record Upload(String name, String fileName, String path, long size) {}

  UploadReader(String directory, long limit) {
    this.directory = directory;
    this.limit = limit;
  }

  @Override
  public void handle(RoutingContext ctx) {
    HttpServerRequest request = ctx.request();
    Matcher boundary = BOUNDARY.matcher(String.valueOf(request.getHeader("Content-Type")));
    if (!boundary.find()) {
      request.resume();
      ctx.fail(ApiException.badRequest("A multipart body needs a boundary in its Content-Type."));
      return;
    }
    String value = boundary.group(2) != null ? boundary.group(2) : boundary.group(3);
    new Reading(ctx, ("--" + value + "--").getBytes(StandardCharsets.ISO_8859_1)).start();
  }

  /** One request being read. Confined to the request's event loop. */
  private final class Reading {
    private final RoutingContext ctx;
    private final byte[] closing;
    private final List<HttpServerFileUpload> parts = new ArrayList<>();
    private final List<Future<Upload>> uploads = new ArrayList<>();
    private final List<String> files = new ArrayList<>();
    private long received;
    private int matched;
    private boolean closed;
    private boolean failed;

    Reading(RoutingContext ctx, byte[] closing) {
      this.ctx = ctx;
      this.closing = closing;
    }

    void start() {
      HttpServerRequest request = ctx.request();
      ctx.addEndHandler(done -> files.forEach(f -> ctx.vertx().fileSystem().delete(f)));
      request.setExpectMultipart(true);
      request.exceptionHandler(err -> fail(ApiException.badRequest("The multipart body is malformed.")));
      request.uploadHandler(this::upload);
      request.handler(this::chunk);
      request.endHandler(v -> end());
      ctx.vertx().fileSystem().mkdirs(directory).onComplete(made -> request.resume());
    }

    private void upload(HttpServerFileUpload upload) {
      String path = directory + "/" + UUID.randomUUID();
      files.add(path);
      parts.add(upload);
      uploads.add(upload.streamToFileSystem(path)
          .map(v -> new Upload(upload.name(), upload.filename(), path, upload.size())));
    }

    private void chunk(Buffer chunk) {
      received += chunk.length();
      if (received > limit) {
        fail(new ApiException(413, "Payload Too Large", "The upload is larger than the server accepts."));
        return;
      }
      // the closing delimiter may straddle chunks: match it byte by byte (it has no repeated prefix worth a KMP)
      for (int i = 0; i < chunk.length() && !closed; i++) {
        byte b = chunk.getByte(i);
        matched = b == closing[matched] ? matched + 1 : b == closing[0] ? 1 : 0;
        closed = matched == closing.length;
      }
    }

    private void end() {
      if (failed) {
        return;
      }
      if (!closed) {
        fail(ApiException.badRequest("The multipart body ends inside a part: its closing boundary is missing."));
        return;
      }
      Future.all(uploads).onComplete(all -> {
        if (failed) {
          return;
        }
        if (all.failed()) {
          fail(ApiException.badRequest("The uploaded file could not be stored."));
          return;
        }
        ctx.put(UPLOADS, uploads.stream().map(Future::result).toList());
        ctx.next();
      });
    }

    /** Stops every file still being written (their partial files are deleted) and answers {@code problem}. */
    private void fail(ApiException problem) {
      if (failed) {
        return;
      }
      failed = true;
      for (int i = 0; i < parts.size(); i++) {
        if (!uploads.get(i).isComplete()) {
          try {
            parts.get(i).cancelStreamToFileSystem(); // closes the pipe; the partial file is deleted
          } catch (IllegalStateException finishedMeanwhile) {
            // written already: deleted with the others once the answer is sent
          }
        }
      }
      ctx.fail(problem);
    }
  }
}
