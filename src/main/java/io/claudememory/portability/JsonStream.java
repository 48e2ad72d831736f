package io.claudememory.portability;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.core.StreamReadConstraints;
import com.fasterxml.jackson.core.exc.StreamConstraintsException;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.io.InputStream;

/**
 * Reads big JSON files one element at a time, so memory holds one conversation, never the file: either the elements
 * of a top-level array ({@code conversations.json}) or a sequence of root values (JSON lines). Strings longer than
 * the limit, nesting deeper than {@link #MAX_DEPTH} and one element holding more than {@link #MAX_ELEMENT_CHARS}
 * characters refuse the file, as does malformed JSON.
 */
final class JsonStream implements AutoCloseable {
  static final int MAX_DEPTH = 100;
  static final long MAX_ELEMENT_CHARS = 128L * 1024 * 1024;
  private final JsonParser parser;
  private final boolean array;
  private long chars;

  private JsonStream(JsonParser parser, boolean array) {
    this.parser = parser;
    this.array = array;
  }

  /** The elements of the top-level array in {@code in}. */
  static JsonStream array(InputStream in, int maxFieldChars) throws ImportRefused, IOException {
    JsonStream stream = new JsonStream(factory(maxFieldChars).createParser(in), true);
    try {
      if (stream.parser.nextToken() != JsonToken.START_ARRAY) {
        throw new ImportRefused("The file is not a JSON array of conversations.");
      }
    } catch (JsonProcessingException e) {
      throw refusal(e);
    }
    return stream;
  }

  /** The root values of JSON lines in {@code in}. */
  static JsonStream lines(InputStream in, int maxFieldChars) throws IOException {
    return new JsonStream(factory(maxFieldChars).createParser(in), false);
  }

  private static JsonFactory factory(int maxFieldChars) {
    return JsonFactory.builder().streamReadConstraints(StreamReadConstraints.builder()
        .maxStringLength(maxFieldChars).maxNestingDepth(MAX_DEPTH).build()).build();
  }

  /** The next element (an object, an array, a string, ...), or null after the last. */
  Object next() throws ImportRefused, IOException {
    try {
      JsonToken token = parser.nextToken();
      if (token == null) {
        if (array) {
          throw new ImportRefused("The JSON file ends before its array does.");
        }
        return null;
      }
      if (array && token == JsonToken.END_ARRAY) {
        if (parser.nextToken() != null) {
          throw new ImportRefused("The JSON file has data after its array.");
        }
        return null;
      }
      chars = 0;
      return value(token);
    } catch (JsonProcessingException e) {
      throw refusal(e);
    }
  }

  private Object value(JsonToken token) throws IOException, ImportRefused {
    switch (token) {
      case START_OBJECT -> {
        JsonObject object = new JsonObject();
        for (JsonToken t = parser.nextToken(); t != JsonToken.END_OBJECT; t = parser.nextToken()) {
          String name = parser.currentName();
          count(name.length());
          object.put(name, value(parser.nextToken()));
        }
        return object;
      }
      case START_ARRAY -> {
        JsonArray list = new JsonArray();
        for (JsonToken t = parser.nextToken(); t != JsonToken.END_ARRAY; t = parser.nextToken()) {
          list.add(value(t));
        }
        return list;
      }
      case VALUE_STRING -> {
        String text = parser.getText();
        count(text.length());
        return text;
      }
      case VALUE_NUMBER_INT -> {
        return parser.getNumberValue();
      }
      case VALUE_NUMBER_FLOAT -> {
        return parser.getDoubleValue();
      }
      case VALUE_TRUE -> {
        return true;
      }
      case VALUE_FALSE -> {
        return false;
      }
      case VALUE_NULL -> {
        return null;
      }
      default -> throw new ImportRefused("The file is not valid JSON.");
    }
  }

  private void count(int n) throws ImportRefused {
    chars += n;
    if (chars > MAX_ELEMENT_CHARS) {
      throw new ImportRefused("One item of the file is larger than the limit.");
    }
  }

  private static ImportRefused refusal(JsonProcessingException e) {
    if (e instanceof StreamConstraintsException) {
      return new ImportRefused("The file has a field larger than the limit, or nesting too deep.");
    }
    var where = e.getLocation();
    return new ImportRefused("The file is not valid JSON" + (where == null ? "." : " (line " + where.getLineNr()
        + ", column " + where.getColumnNr() + ")."));
  }

  @Override
  public void close() throws IOException {
    parser.close();
  }
}
