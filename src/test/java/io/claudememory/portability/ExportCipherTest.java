package io.claudememory.portability;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.util.Arrays;
import java.util.Random;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

@DisplayName("The encrypted export container")
class ExportCipherTest {
  private static final char[] PASS = "correct horse 42".toCharArray();
  private static final int SEGMENT = ExportCipher.SEGMENT;
  private static final int SEALED = SEGMENT + 16;

  private static byte[] encrypt(byte[] plain) throws IOException {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    try (OutputStream sealed = ExportCipher.encrypt(out, PASS, 600_000)) {
      sealed.write(plain);
    }
    return out.toByteArray();
  }

  private static byte[] decrypt(byte[] sealed, char[] passphrase) throws IOException {
    try (InputStream in = ExportCipher.decrypt(new ByteArrayInputStream(sealed), passphrase)) {
      return in.readAllBytes();
    }
  }

  @Test
  @DisplayName("round-trips empty, one-byte, exactly-one-segment and multi-segment files")
  void roundTrip() throws IOException {
    for (int size : new int[] {0, 1, SEGMENT, SEGMENT + 1, 2 * SEGMENT + 7}) {
      byte[] plain = new byte[size];
      new Random(size).nextBytes(plain);
      assertArrayEquals(plain, decrypt(encrypt(plain), PASS), "size " + size);
    }
  }

  @Test
  @DisplayName("a wrong passphrase, a truncated file, reordered segments and an altered header are all refused")
  void tampering() throws IOException {
    byte[] plain = new byte[2 * SEGMENT + 100];
    new Random(7).nextBytes(plain);
    byte[] sealed = encrypt(plain);
    int header = ExportCipher.HEADER;
    assertThrows(ExportCipher.BadPassphraseException.class, () -> decrypt(sealed, "wrong".toCharArray()));
    byte[] truncated = Arrays.copyOf(sealed, header + 2 * SEALED);
    assertThrows(ExportCipher.BadPassphraseException.class, () -> decrypt(truncated, PASS),
        "dropping the final segment leaves a non-final one last");
    byte[] swapped = sealed.clone();
    System.arraycopy(sealed, header + SEALED, swapped, header, SEALED);
    System.arraycopy(sealed, header, swapped, header + SEALED, SEALED);
    assertThrows(ExportCipher.BadPassphraseException.class, () -> decrypt(swapped, PASS));
    byte[] altered = sealed.clone();
    altered[35] ^= 1;
    assertThrows(ExportCipher.BadPassphraseException.class, () -> decrypt(altered, PASS), "nonce prefix changed");
    byte[] flipped = sealed.clone();
    flipped[sealed.length - 20] ^= 1;
    assertThrows(ExportCipher.BadPassphraseException.class, () -> decrypt(flipped, PASS));
  }
}
