package io.claudememory.portability;

import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.Console;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;

/**
 * Decrypts a passphrase-encrypted export without the server ({@code scripts/decrypt-export}):
 * {@code java -cp claude-memory-backend.jar io.claudememory.portability.DecryptExport <in> <out.zip>}. The passphrase
 * comes from {@code EXPORT_PASSPHRASE} or is asked for on the console. The output is written next to its final name
 * and moved there only once every segment was authenticated, so a wrong passphrase or an altered file leaves nothing.
 */
public final class DecryptExport {
  private DecryptExport() {}

  public static void main(String[] args) throws IOException {
    if (args.length != 2) {
      System.err.println("usage: decrypt-export <encrypted-export> <output.zip>  (passphrase: EXPORT_PASSPHRASE or "
          + "prompt)");
      System.exit(2);
    }
    char[] passphrase = passphrase();
    Path out = Path.of(args[1]).toAbsolutePath();
    Path partial = out.resolveSibling(out.getFileName() + ".partial");
    try (InputStream in = ExportCipher.decrypt(new BufferedInputStream(Files.newInputStream(Path.of(args[0]))),
        passphrase); OutputStream target = new BufferedOutputStream(Files.newOutputStream(partial))) {
      in.transferTo(target);
    } catch (IOException e) {
      Files.deleteIfExists(partial);
      System.err.println("decrypt-export: " + e.getMessage());
      System.exit(1);
    }
    Files.move(partial, out, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    System.err.println("decrypted to " + out);
  }

  private static char[] passphrase() {
    String env = System.getenv("EXPORT_PASSPHRASE");
    if (env != null && !env.isEmpty()) {
      return env.toCharArray();
    }
    Console console = System.console();
    if (console == null) {
      System.err.println("decrypt-export: set EXPORT_PASSPHRASE or run on a terminal");
      System.exit(2);
    }
    return console.readPassword("Passphrase: ");
  }
}
