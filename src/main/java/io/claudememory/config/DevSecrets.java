package io.claudememory.config;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import java.util.Base64;
import java.util.Properties;

/**
 * Development secrets generated once into {@code DATA_DIR/dev-secrets.properties} (mode 0600), so tokens and sealed
 * secrets survive restarts without any set-up. Production never uses this: it requires the real variables.
 */
final class DevSecrets {
  private final Path file;
  private Properties values;

  DevSecrets(Path dataDir) {
    this.file = dataDir.resolve("dev-secrets.properties");
  }

  String jwtSecret() {
    return value("jwtSecret", 48);
  }

  String masterKey() {
    return value("masterKey", 32);
  }

  private synchronized String value(String name, int bytes) {
    Properties props = load();
    String value = props.getProperty(name);
    if (value == null) {
      byte[] random = new byte[bytes];
      new SecureRandom().nextBytes(random);
      value = Base64.getEncoder().encodeToString(random);
      props.setProperty(name, value);
      save(props);
    }
    return value;
  }

  private Properties load() {
    if (values == null) {
      values = new Properties();
      if (Files.exists(file)) {
        try (var in = Files.newInputStream(file)) {
          values.load(in);
        } catch (IOException e) {
          throw new ConfigException("cannot read " + file + ": " + e.getMessage());
        }
      }
    }
    return values;
  }

  private void save(Properties props) {
    try {
      Files.createDirectories(file.getParent());
      Path tmp = Files.createTempFile(file.getParent(), "dev-secrets", ".tmp",
          PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
      try (var out = Files.newOutputStream(tmp)) {
        props.store(out, "Generated development secrets. Production sets JWT_SECRET and MASTER_KEY instead.");
      }
      Files.move(tmp, file, java.nio.file.StandardCopyOption.REPLACE_EXISTING,
          java.nio.file.StandardCopyOption.ATOMIC_MOVE);
    } catch (IOException e) {
      throw new ConfigException("DATA_DIR " + file.getParent() + " is not writable: " + e.getMessage());
    } catch (UncheckedIOException e) {
      throw new ConfigException("DATA_DIR " + file.getParent() + " is not writable: " + e.getMessage());
    }
  }
}
