package io.claudememory.database;

import io.vertx.core.Future;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.SqlClient;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.regex.Pattern;

/**
 * The user tables of a tenant database, read from its catalog rather than written down, so a copy moves whatever
 * the tenant migrations create: tables in foreign-key order (parents first), their columns (generated ones marked),
 * primary keys and foreign-key definitions. It is read from the copy's target right after that was migrated by this
 * server, and every name and type is checked or quoted before it is put into a statement.
 */
record TenantSchema(List<Table> tables, List<ForeignKey> foreignKeys) {
  private static final Pattern TYPE = Pattern.compile("[a-z][a-z0-9_ ]*(\\(\\d+(,\\d+)?\\))?(\\[\\])?");

  /** One table: quoted name, insertable columns, generated columns, primary key columns with their types. */
  record Table(String name, List<String> columns, List<String> generated, List<String> key, List<String> keyTypes) {
    String quoted() {
      return quote(name);
    }
  }

  /** A foreign key as {@code pg_get_constraintdef} prints it. */
  record ForeignKey(String table, String name, String definition) {}

  static final String TABLES = """
      SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p') AND NOT c.relispartition
        AND c.relname <> 'flyway_schema_history'""";
  static final String COLUMNS = """
      SELECT c.relname, a.attname, a.attgenerated <> '' AS generated
      FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE n.nspname = 'public' AND a.attnum > 0 AND NOT a.attisdropped
      ORDER BY c.relname, a.attnum""";
  static final String KEYS = """
      SELECT c.relname, a.attname, format_type(a.atttypid, a.atttypmod) AS type
      FROM pg_constraint k JOIN pg_class c ON c.oid = k.conrelid JOIN pg_namespace n ON n.oid = c.relnamespace
      JOIN LATERAL unnest(k.conkey) WITH ORDINALITY AS u(attnum, pos) ON true
      JOIN pg_attribute a ON a.attrelid = k.conrelid AND a.attnum = u.attnum
      WHERE n.nspname = 'public' AND k.contype = 'p'
      ORDER BY c.relname, u.pos""";
  static final String FOREIGN_KEYS = """
      SELECT c.relname AS table_name, r.relname AS ref_table, k.conname, pg_get_constraintdef(k.oid) AS definition
      FROM pg_constraint k JOIN pg_class c ON c.oid = k.conrelid JOIN pg_class r ON r.oid = k.confrelid
      JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE n.nspname = 'public' AND k.contype = 'f'
      ORDER BY k.conname""";

  static Future<TenantSchema> read(SqlClient db) {
    return db.query(TABLES).execute().compose(tables -> db.query(COLUMNS).execute()
        .compose(columns -> db.query(KEYS).execute()
            .compose(keys -> db.query(FOREIGN_KEYS).execute()
                .map(fks -> build(names(tables), columns, keys, fks)))));
  }

  private static List<String> names(Iterable<Row> rows) {
    List<String> names = new ArrayList<>();
    rows.forEach(row -> names.add(row.getString(0)));
    return names;
  }

  private static TenantSchema build(List<String> names, Iterable<Row> columns, Iterable<Row> keys,
      Iterable<Row> fkRows) {
    Map<String, List<String>> insertable = new HashMap<>();
    Map<String, List<String>> generated = new HashMap<>();
    for (Row row : columns) {
      (row.getBoolean("generated") ? generated : insertable)
          .computeIfAbsent(row.getString(0), t -> new ArrayList<>()).add(row.getString(1));
    }
    Map<String, List<String>> key = new HashMap<>();
    Map<String, List<String>> keyTypes = new HashMap<>();
    for (Row row : keys) {
      String type = row.getString("type");
      if (!TYPE.matcher(type).matches()) {
        throw new IllegalStateException("unexpected key type " + type);
      }
      key.computeIfAbsent(row.getString(0), t -> new ArrayList<>()).add(row.getString(1));
      keyTypes.computeIfAbsent(row.getString(0), t -> new ArrayList<>()).add(type);
    }
    List<ForeignKey> fks = new ArrayList<>();
    Map<String, Set<String>> parents = new TreeMap<>();
    names.forEach(name -> parents.put(name, new HashSet<>()));
    for (Row row : fkRows) {
      String table = row.getString("table_name");
      fks.add(new ForeignKey(table, row.getString("conname"), row.getString("definition")));
      if (!table.equals(row.getString("ref_table")) && parents.containsKey(table)) {
        parents.get(table).add(row.getString("ref_table"));
      }
    }
    List<Table> ordered = new ArrayList<>();
    for (String name : parentsFirst(parents)) {
      ordered.add(new Table(name, insertable.getOrDefault(name, List.of()), generated.getOrDefault(name, List.of()),
          key.getOrDefault(name, List.of()), keyTypes.getOrDefault(name, List.of())));
    }
    return new TenantSchema(ordered, fks);
  }

  /** Kahn's algorithm, by name among equals; tables in a cycle come last, by name. */
  private static List<String> parentsFirst(Map<String, Set<String>> parents) {
    Map<String, Set<String>> waiting = new LinkedHashMap<>();
    parents.forEach((table, refs) -> waiting.put(table, new HashSet<>(refs)));
    List<String> order = new ArrayList<>();
    boolean progress = true;
    while (!waiting.isEmpty() && progress) {
      progress = false;
      for (var it = waiting.entrySet().iterator(); it.hasNext(); ) {
        var entry = it.next();
        entry.getValue().retainAll(waiting.keySet());
        if (entry.getValue().isEmpty()) {
          order.add(entry.getKey());
          it.remove();
          progress = true;
        }
      }
    }
    order.addAll(waiting.keySet());
    return order;
  }

  static String quote(String identifier) {
    return '"' + identifier.replace("\"", "\"\"") + '"';
  }
}
