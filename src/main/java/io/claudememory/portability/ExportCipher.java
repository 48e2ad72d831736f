package io.claudememory.portability;

import java.io.ByteArrayOutputStream;
import java.io.EOFException;
import java.io.FilterOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.PushbackInputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.SecureRandom;
import java.util.Arrays;
import javax.crypto.AEADBadTagException;
import javax.crypto.Cipher;
import javax.crypto.SecretKeyFactory;
import javax.crypto.spec.GCMParameterSpec;
import javax.crypto.spec.PBEKeySpec;
import javax.crypto.spec.SecretKeySpec;

/**
 * The passphrase-encrypted container of exports (docs/export-encryption.md), streamed so memory stays flat: a
 * 40-byte header, then AES-256-GCM segments of {@link #SEGMENT} plaintext bytes (the last one shorter, possibly
 * empty). The key is PBKDF2-HMAC-SHA256 of the passphrase with a random 16-byte salt. Each segment's nonce is a random
 * 7-byte prefix, the segment index (4 bytes) and a final-segment flag (1 byte), and the header is its associated
 * data, so segments cannot be reordered, dropped, truncated at a boundary or moved to another file unnoticed.
 *
 * <pre>
 * 0  8  magic "CMBXENC1"          13 16 salt
 * 8  1  KDF (1 = PBKDF2-SHA256)   29  4 segment size (plaintext bytes, big-endian)
 * 9  4  iterations (big-endian)   33  7 nonce prefix
 * </pre>
 */
public final class ExportCipher {
  public static final byte[] MAGIC = "CMBXENC1".getBytes(StandardCharsets.US_ASCII);
  public static final int SEGMENT = 1 << 20;
  static final int HEADER = 40;
  private static final int TAG = 16;
  /** Bounds on what a header may ask for: a forged file must not make the server spin or allocate at will. */
  private static final int MIN_ITERATIONS = 100_000;
  private static final int MAX_ITERATIONS = 50_000_000;
  private static final SecureRandom RANDOM = new SecureRandom();

  private ExportCipher() {}

  /** The passphrase did not open the file, or the file was altered. */
  public static final class BadPassphraseException extends IOException {
    public BadPassphraseException() {
      super("The passphrase is wrong or the file was altered.");
    }
  }

  /** Whether {@code head} (the first bytes of a file) starts like this container. */
  public static boolean isEncrypted(byte[] head) {
    return head.length >= MAGIC.length && Arrays.equals(Arrays.copyOf(head, MAGIC.length), MAGIC);
  }

  /** Encrypts everything written to the returned stream into {@code out}; closing it writes the final segment. */
  public static OutputStream encrypt(OutputStream out, char[] passphrase, int iterations) throws IOException {
    byte[] salt = new byte[16];
    byte[] prefix = new byte[7];
    RANDOM.nextBytes(salt);
    RANDOM.nextBytes(prefix);
    byte[] header = ByteBuffer.allocate(HEADER).put(MAGIC).put((byte) 1).putInt(iterations).put(salt)
        .putInt(SEGMENT).put(prefix).array();
    out.write(header);
    return new Sealer(out, key(passphrase, salt, iterations), header, prefix);
  }

  /** Decrypts {@code in}; reading fails with {@link BadPassphraseException} on a wrong passphrase or altered data. */
  public static InputStream decrypt(InputStream in, char[] passphrase) throws IOException {
    byte[] header = in.readNBytes(HEADER);
    ByteBuffer h = ByteBuffer.wrap(header);
    if (header.length < HEADER || !isEncrypted(header)) {
      throw new IOException("This is not an encrypted export.");
    }
    h.position(MAGIC.length);
    byte kdf = h.get();
    int iterations = h.getInt();
    byte[] salt = new byte[16];
    h.get(salt);
    int segment = h.getInt();
    byte[] prefix = new byte[7];
    h.get(prefix);
    if (kdf != 1 || iterations < MIN_ITERATIONS || iterations > MAX_ITERATIONS || segment < 1024
        || segment > 16 * SEGMENT) {
      throw new IOException("The encrypted export has an unsupported header.");
    }
    return new Opener(new PushbackInputStream(in, 1), key(passphrase, salt, iterations), header, prefix, segment);
  }

  static SecretKeySpec key(char[] passphrase, byte[] salt, int iterations) throws IOException {
    try {
      byte[] key = SecretKeyFactory.getInstance("PBKDF2WithHmacSHA256")
          .generateSecret(new PBEKeySpec(passphrase, salt, iterations, 256)).getEncoded();
      return new SecretKeySpec(key, "AES");
    } catch (GeneralSecurityException e) {
      throw new IOException("key derivation failed", e);
    }
  }

  static Cipher cipher(int mode, SecretKeySpec key, byte[] header, byte[] prefix, int index, boolean last)
      throws GeneralSecurityException {
    byte[] nonce = ByteBuffer.allocate(12).put(prefix).putInt(index).put((byte) (last ? 1 : 0)).array();
    Cipher cipher = Cipher.getInstance("AES/GCM/NoPadding");
    cipher.init(mode, key, new GCMParameterSpec(TAG * 8, nonce));
    cipher.updateAAD(header);
    return cipher;
  }

  /** Buffers one segment; a full segment is sealed only once more data arrives, so the last one is known. */
  private static final class Sealer extends FilterOutputStream {
    private final SecretKeySpec key;
    private final byte[] header;
    private final byte[] prefix;
    private final byte[] buffer = new byte[SEGMENT];
    private int filled;
    private int index;
    private boolean closed;

    Sealer(OutputStream out, SecretKeySpec key, byte[] header, byte[] prefix) {
      super(out);
      this.key = key;
      this.header = header;
      this.prefix = prefix;
    }

    @Override
    public void write(int b) throws IOException {
      write(new byte[] {(byte) b}, 0, 1);
    }

    @Override
    public void write(byte[] b, int off, int len) throws IOException {
      while (len > 0) {
        if (filled == SEGMENT) {
          seal(false);
        }
        int n = Math.min(len, SEGMENT - filled);
        System.arraycopy(b, off, buffer, filled, n);
        filled += n;
        off += n;
        len -= n;
      }
    }

    private void seal(boolean last) throws IOException {
      try {
        out.write(cipher(Cipher.ENCRYPT_MODE, key, header, prefix, index++, last).doFinal(buffer, 0, filled));
        filled = 0;
      } catch (GeneralSecurityException e) {
        throw new IOException("encryption failed", e);
      }
    }

    @Override
    public void close() throws IOException {
      if (!closed) {
        closed = true;
        seal(true);
        out.close();
      }
    }
  }

  /** Reads and opens one segment at a time; a segment is the last when the input ends right after it. */
  private static final class Opener extends InputStream {
    private final PushbackInputStream in;
    private final SecretKeySpec key;
    private final byte[] header;
    private final byte[] prefix;
    private final int segment;
    private byte[] plain = new byte[0];
    private int pos;
    private int index;
    private boolean done;

    Opener(PushbackInputStream in, SecretKeySpec key, byte[] header, byte[] prefix, int segment) {
      this.in = in;
      this.key = key;
      this.header = header;
      this.prefix = prefix;
      this.segment = segment;
    }

    @Override
    public int read() throws IOException {
      byte[] one = new byte[1];
      return read(one, 0, 1) < 0 ? -1 : one[0] & 0xff;
    }

    @Override
    public int read(byte[] b, int off, int len) throws IOException {
      while (pos == plain.length) {
        if (done) {
          return -1;
        }
        next();
      }
      int n = Math.min(len, plain.length - pos);
      System.arraycopy(plain, pos, b, off, n);
      pos += n;
      return n;
    }

    private void next() throws IOException {
      byte[] sealed = in.readNBytes(segment + TAG);
      boolean last = sealed.length < segment + TAG;
      if (!last) {
        int peek = in.read();
        last = peek < 0;
        if (!last) {
          in.unread(peek);
        }
      }
      if (sealed.length < TAG) {
        throw new EOFException("The encrypted export is truncated.");
      }
      try {
        plain = cipher(Cipher.DECRYPT_MODE, key, header, prefix, index++, last).doFinal(sealed);
      } catch (AEADBadTagException e) {
        throw new BadPassphraseException();
      } catch (GeneralSecurityException e) {
        throw new IOException("decryption failed", e);
      }
      pos = 0;
      done = last;
    }

    @Override
    public void close() throws IOException {
      in.close();
    }
  }

  /** For tests and tools: the whole of a small stream. */
  static byte[] readAll(InputStream in) throws IOException {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    in.transferTo(out);
    return out.toByteArray();
  }
}
