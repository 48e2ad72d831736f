package io.claudememory.portability;

/** The whole file is refused (not an export, encrypted without passphrase, hostile): nothing was imported. */
final class ImportRefused extends Exception {
  ImportRefused(String reason) {
    super(reason, null, false, false);
  }
}
