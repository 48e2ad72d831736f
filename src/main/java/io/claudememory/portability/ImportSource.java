package io.claudememory.portability;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.pgclient.PgException;
import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.zip.ZipEntry;

/**
 * An uploaded file, recognised: a native bundle (a ZIP with this service's {@code manifest.json}), or a claude.ai or
 * ChatGPT export (a ZIP holding {@code conversations.json} anywhere but {@code __MACOSX}, or that file alone; which
 * service is told by the first conversation: {@code mapping} is ChatGPT, {@code chat_messages} claude.ai).
 * {@link #validate} reads everything without writing; {@link #read} hands each item to a {@link Sink}.
 */
abstract class ImportSource implements AutoCloseable {
  /** Where items go; a {@code refused} item is reported and the import goes on. */
  interface Sink {
    void project(String source, JsonObject project) throws Exception;

    void nativeProject(JsonObject line) throws Exception;

    void conversation(Imported conversation) throws Exception;

    void nativeConversation(JsonObject line, ImportWriter.MessageFeed feed) throws Exception;

    void refused(String item, String reason);
  }

  /** Opens one part of the file again (each pass reads it anew). */
  interface Opener {
    InputStream open() throws IOException;
  }

  protected final SafeZip zip;
  protected final SafeZip.Limits limits;

  ImportSource(SafeZip zip, SafeZip.Limits limits) {
    this.zip = zip;
    this.limits = limits;
  }

  abstract String name();

  /** Reads the whole file, writing nothing; refuses a malformed or hostile one. Returns the number of items. */
  abstract int validate() throws ImportRefused, IOException;

  abstract void read(Sink sink) throws Exception;

  static ImportSource open(Path file, SafeZip.Limits limits) throws ImportRefused, IOException {
    byte[] head;
    try (InputStream in = Files.newInputStream(file)) {
      head = in.readNBytes(64);
    }
    if (head.length >= 4 && head[0] == 'P' && head[1] == 'K' && (head[2] == 3 || head[2] == 5)) {
      SafeZip zip = SafeZip.open(file, limits);
      try {
        return fromZip(zip, limits);
      } catch (ImportRefused | IOException | RuntimeException e) {
        zip.close();
        throw e;
      }
    }
    for (byte b : head) {
      if (b == '[') {
        return ExternalSource.detect(() -> new BufferedInputStream(Files.newInputStream(file)), List.of(), null,
            limits);
      }
      if (!Character.isWhitespace(b)) {
        break;
      }
    }
    throw new ImportRefused("The file is not a recognised export (a claude.ai or ChatGPT export, or an export of "
        + "this service).");
  }

  private static ImportSource fromZip(SafeZip zip, SafeZip.Limits limits) throws ImportRefused, IOException {
    ZipEntry manifest = entry(zip, "manifest.json");
    if (manifest != null) {
      return NativeSource.open(zip, manifest, limits);
    }
    List<ZipEntry> usable = zip.entries().stream().filter(e -> !e.isDirectory()
        && !e.getName().startsWith("__MACOSX/") && !e.getName().contains("/__MACOSX/")).toList();
    ZipEntry conversations = usable.stream().filter(e -> basename(e.getName()).equals("conversations.json"))
        .min(Comparator.comparingInt(e -> e.getName().length())).orElse(null);
    if (conversations == null) {
      throw new ImportRefused("The archive has no conversations.json: it is not a claude.ai or ChatGPT export.");
    }
    List<Opener> projects = new ArrayList<>();
    for (ZipEntry e : usable) {
      String[] parts = e.getName().split("/");
      boolean projectFile = basename(e.getName()).equals("projects.json")
          || (parts.length >= 2 && parts[parts.length - 2].equals("projects") && e.getName().endsWith(".json"));
      if (projectFile) {
        projects.add(() -> zip.open(e));
      }
    }
    return ExternalSource.detect(() -> zip.open(conversations), projects, zip, limits);
  }

  static ZipEntry entry(SafeZip zip, String name) {
    return zip.entries().stream().filter(e -> e.getName().equals(name)).findFirst().orElse(null);
  }

  private static String basename(String name) {
    return name.substring(name.lastIndexOf('/') + 1);
  }

  /** A conversation the database refused (malformed values): reported, not fatal. */
  static boolean storageRefusal(Exception e) {
    return e instanceof PgException || e instanceof IllegalArgumentException || e instanceof ClassCastException;
  }

  @Override
  public void close() throws IOException {
    if (zip != null) {
      zip.close();
    }
  }

  /** claude.ai or ChatGPT conversations, plus claude.ai projects. */
  static final class ExternalSource extends ImportSource {
    private final Opener conversations;
    private final List<Opener> projects;
    private final boolean chatgpt;

    private ExternalSource(Opener conversations, List<Opener> projects, SafeZip zip, SafeZip.Limits limits,
        boolean chatgpt) {
      super(zip, limits);
      this.conversations = conversations;
      this.projects = projects;
      this.chatgpt = chatgpt;
    }

    static ExternalSource detect(Opener conversations, List<Opener> projects, SafeZip zip, SafeZip.Limits limits)
        throws ImportRefused, IOException {
      try (JsonStream stream = JsonStream.array(conversations.open(), limits.maxFieldChars())) {
        Object first = stream.next();
        boolean chatgpt = first instanceof JsonObject o && o.containsKey("mapping");
        if (first != null && !chatgpt && !(first instanceof JsonObject o2 && (o2.containsKey("chat_messages")
            || o2.containsKey("uuid")))) {
          throw new ImportRefused("conversations.json is neither a claude.ai nor a ChatGPT export.");
        }
        return new ExternalSource(conversations, projects, zip, limits, chatgpt);
      }
    }

    @Override
    String name() {
      return chatgpt ? ChatGptFormat.SOURCE : ClaudeFormat.SOURCE;
    }

    @Override
    int validate() throws ImportRefused, IOException {
      for (Opener project : projects) {
        projectObjects(project);
      }
      int n = 0;
      try (JsonStream stream = JsonStream.array(conversations.open(), limits.maxFieldChars())) {
        while (stream.next() != null) {
          n++;
        }
      }
      return n;
    }

    /** {@code projects.json} is an array of projects, {@code projects/<uuid>.json} one project. */
    private List<Object> projectObjects(Opener opener) throws ImportRefused, IOException {
      try (JsonStream stream = JsonStream.lines(opener.open(), limits.maxFieldChars())) {
        Object value = stream.next();
        if (stream.next() != null) {
          throw new ImportRefused("A projects file holds more than one JSON value.");
        }
        return value instanceof JsonArray list ? list.getList() : value == null ? List.of() : List.of(value);
      }
    }

    @Override
    void read(Sink sink) throws Exception {
      if (!chatgpt) {
        for (Opener opener : projects) {
          for (Object item : projectObjects(opener)) {
            JsonObject project;
            try {
              project = ClaudeFormat.project(item instanceof JsonObject o ? o : new JsonObject((java.util.Map) item));
            } catch (IllegalArgumentException | ClassCastException e) {
              sink.refused("a project", "it is malformed: " + e.getMessage());
              continue;
            }
            sink.project(ClaudeFormat.SOURCE, project);
          }
        }
      }
      try (JsonStream stream = JsonStream.array(conversations.open(), limits.maxFieldChars())) {
        int index = 0;
        for (Object item = stream.next(); item != null; item = stream.next(), index++) {
          String label = "conversation #" + (index + 1);
          Imported conversation;
          try {
            if (!(item instanceof JsonObject object)) {
              throw new IllegalArgumentException("it is not an object");
            }
            label = "conversation " + (object.getValue("uuid") instanceof String u ? u
                : object.getValue("id") instanceof String i ? i : "#" + (index + 1));
            conversation = chatgpt ? ChatGptFormat.conversation(object) : ClaudeFormat.conversation(object);
          } catch (IllegalArgumentException | ClassCastException | NullPointerException e) {
            sink.refused(label, "it is malformed: " + e.getMessage());
            continue;
          }
          try {
            sink.conversation(conversation);
          } catch (Exception e) {
            if (!storageRefusal(e)) {
              throw e;
            }
            sink.refused(label, "it could not be stored (invalid values)");
          }
        }
      }
    }
  }

  /** This service's own bundle (docs/export-format.md). */
  static final class NativeSource extends ImportSource {
    private static final List<String> FILES = List.of("projects.jsonl", "conversations.jsonl", "messages.jsonl");

    private NativeSource(SafeZip zip, SafeZip.Limits limits) {
      super(zip, limits);
    }

    static NativeSource open(SafeZip zip, ZipEntry manifest, SafeZip.Limits limits) throws ImportRefused,
        IOException {
      try (JsonStream stream = JsonStream.lines(zip.open(manifest), limits.maxFieldChars())) {
        if (!(stream.next() instanceof JsonObject m) || !ExportWriter.FORMAT.equals(m.getValue("format"))) {
          throw new ImportRefused("manifest.json is not the manifest of an export of this service.");
        }
        if (!(m.getValue("version") instanceof Number v) || v.intValue() < 1 || v.intValue() > ExportWriter.VERSION) {
          throw new ImportRefused("This export's format version is not supported by this server.");
        }
      }
      for (String name : FILES) {
        if (entry(zip, name) == null) {
          throw new ImportRefused("The export bundle lacks " + name + ".");
        }
      }
      return new NativeSource(zip, limits);
    }

    @Override
    String name() {
      return "native";
    }

    private JsonStream lines(String name) throws IOException {
      return JsonStream.lines(zip.open(entry(zip, name)), limits.maxFieldChars());
    }

    @Override
    int validate() throws ImportRefused, IOException {
      check("projects.jsonl", "id");
      check("messages.jsonl", "conversationId");
      return check("conversations.jsonl", "id");
    }

    /** Every line an object with a string {@code key}, in ascending order of it (the merge relies on it). */
    private int check(String name, String key) throws ImportRefused, IOException {
      int n = 0;
      String previous = "";
      try (JsonStream stream = lines(name)) {
        for (Object item = stream.next(); item != null; item = stream.next(), n++) {
          if (!(item instanceof JsonObject o) || !(o.getValue(key) instanceof String value)) {
            throw new ImportRefused(name + " line " + (n + 1) + " is not an object with " + key + ".");
          }
          if (value.compareTo(previous) < 0) {
            throw new ImportRefused(name + " is not in export order.");
          }
          previous = value;
        }
      }
      return n;
    }

    @Override
    void read(Sink sink) throws Exception {
      try (JsonStream projects = lines("projects.jsonl")) {
        for (Object p = projects.next(); p != null; p = projects.next()) {
          try {
            sink.nativeProject((JsonObject) p);
          } catch (Exception e) {
            if (!storageRefusal(e)) {
              throw e;
            }
            sink.refused("project " + ((JsonObject) p).getString("id"), "it could not be stored (invalid values)");
          }
        }
      }
      try (JsonStream conversations = lines("conversations.jsonl"); JsonStream messages = lines("messages.jsonl")) {
        JsonObject[] pending = {(JsonObject) messages.next()};
        long orphans = 0;
        for (Object c = conversations.next(); c != null; c = conversations.next()) {
          JsonObject conversation = (JsonObject) c;
          String id = conversation.getString("id");
          while (pending[0] != null && pending[0].getString("conversationId").compareTo(id) < 0) {
            orphans++;
            pending[0] = (JsonObject) messages.next();
          }
          ImportWriter.MessageFeed feed = () -> {
            if (pending[0] != null && pending[0].getString("conversationId").equals(id)) {
              JsonObject next = pending[0];
              pending[0] = (JsonObject) messages.next();
              return next;
            }
            return null;
          };
          try {
            sink.nativeConversation(conversation, feed);
          } catch (Exception e) {
            if (!storageRefusal(e)) {
              throw e;
            }
            while (feed.next() != null) {
              // the rest of the refused conversation's messages
            }
            sink.refused("conversation " + id, "it could not be stored (invalid values)");
          }
        }
        while (pending[0] != null) {
          orphans++;
          pending[0] = (JsonObject) messages.next();
        }
        if (orphans > 0) {
          sink.refused(orphans + " messages", "their conversation is not in the bundle");
        }
      }
    }
  }
}
