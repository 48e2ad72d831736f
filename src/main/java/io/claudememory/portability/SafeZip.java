package io.claudememory.portability;

import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.zip.ZipEntry;
import java.util.zip.ZipException;
import java.util.zip.ZipFile;

/**
 * A ZIP opened defensively: refused up front when it has too many entries, a name that could escape a directory
 * (absolute, {@code ..}, backslashes, drive letters, NUL), declared sizes past the total limit or an entry inflating
 * more than the ratio limit; and every entry is read through a counter that stops at its declared size and at the
 * total limit, since declared sizes can lie. Nothing is ever extracted to disk.
 */
public final class SafeZip implements AutoCloseable {
  /** Entries smaller than this may compress very well (repetitive JSON) without being suspect. */
  private static final long RATIO_FLOOR = 1 << 20;
  private final ZipFile zip;
  private final List<ZipEntry> entries;
  private final long maxTotal;
  private long total;

  private SafeZip(ZipFile zip, List<ZipEntry> entries, long maxTotal) {
    this.zip = zip;
    this.entries = entries;
    this.maxTotal = maxTotal;
  }

  static SafeZip open(Path file, Limits limits) throws ImportRefused, IOException {
    ZipFile zip;
    try {
      zip = new ZipFile(file.toFile());
    } catch (ZipException e) {
      throw new ImportRefused("The file is not a readable ZIP archive.");
    }
    try {
      if (zip.size() > limits.maxEntries()) {
        throw new ImportRefused("The archive has more than " + limits.maxEntries() + " entries.");
      }
      List<ZipEntry> entries = new ArrayList<>();
      long declared = 0;
      for (ZipEntry entry : Collections.list(zip.entries())) {
        if (!safeName(entry.getName())) {
          throw new ImportRefused("The archive has an entry whose name could escape its folder (path traversal).");
        }
        long size = entry.getSize();
        long compressed = entry.getCompressedSize();
        declared += Math.max(0, size);
        if (declared > limits.maxUncompressed()) {
          throw new ImportRefused("The archive would inflate past the size limit (possible ZIP bomb).");
        }
        if (size > RATIO_FLOOR && compressed >= 0 && size > compressed * (long) limits.maxRatio()) {
          throw new ImportRefused("An archive entry inflates suspiciously much (possible ZIP bomb).");
        }
        entries.add(entry);
      }
      return new SafeZip(zip, entries, limits.maxUncompressed());
    } catch (ImportRefused | RuntimeException e) {
      zip.close();
      throw e;
    }
  }

  static boolean safeName(String name) {
    if (name.isEmpty() || name.startsWith("/") || name.indexOf('\\') >= 0 || name.indexOf('\0') >= 0
        || (name.length() > 1 && name.charAt(1) == ':')) {
      return false;
    }
    for (String part : name.split("/")) {
      if (part.equals("..")) {
        return false;
      }
    }
    return true;
  }

  List<ZipEntry> entries() {
    return entries;
  }

  /** The entry's bytes, failing with {@link ZipBombException} past its declared size or the total limit. */
  InputStream open(ZipEntry entry) throws IOException {
    long limit = entry.getSize() < 0 ? Long.MAX_VALUE : entry.getSize();
    return new FilterInputStream(zip.getInputStream(entry)) {
      private long read;

      @Override
      public int read() throws IOException {
        byte[] one = new byte[1];
        return read(one, 0, 1) < 0 ? -1 : one[0] & 0xff;
      }

      @Override
      public int read(byte[] b, int off, int len) throws IOException {
        int n = super.read(b, off, len);
        if (n > 0) {
          read += n;
          total += n;
          if (read > limit || total > maxTotal) {
            throw new ZipBombException();
          }
        }
        return n;
      }
    };
  }

  /** Reading inflated more than the archive declared or the limit allows. */
  static final class ZipBombException extends IOException {
    ZipBombException() {
      super("The archive inflates past its declared sizes or the size limit (possible ZIP bomb).");
    }
  }

  /** The limits of one import (configuration). */
  public record Limits(long maxUncompressed, int maxEntries, int maxRatio, int maxFieldChars) {}

  @Override
  public void close() throws IOException {
    zip.close();
  }
}
