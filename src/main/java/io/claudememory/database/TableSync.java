package io.claudememory.database;

import static io.claudememory.database.TenantSchema.quote;

import io.claudememory.database.TenantSchema.Table;
import io.vertx.core.Future;
import io.vertx.pgclient.PgException;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.Tuple;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import java.util.stream.IntStream;

/**
 * Makes one table of the target equal to the same table of the source, idempotently: both sides are walked in
 * primary-key order, a batch at a time (memory stays flat whatever the size), comparing an MD5 of each row; rows
 * missing or different in the target are upserted from the source, rows the source no longer has are deleted. Run
 * once while the tenant keeps writing and again during the short write freeze, the second pass moves only what
 * changed in between. Rows travel as JSON ({@code to_jsonb} / {@code jsonb_populate_recordset}), so every column
 * type round-trips through its own text form. Foreign keys of the target are dropped meanwhile (see
 * {@link DatabaseCopy}), so the order of rows within a table does not matter.
 */
final class TableSync {
  static final int BATCH = 500;

  private final Table table;
  private final Pool source;
  private final Pool target;
  private final String keyText;
  private final String selectKeys;
  private final String selectTargetKeys;
  private final String selectRows;
  private final String upsert;
  private final String delete;

  TableSync(Table table, Pool source, Pool target) {
    if (table.key().isEmpty()) {
      throw new IllegalArgumentException("table " + table.name() + " has no primary key");
    }
    this.table = table;
    this.source = source;
    this.target = target;
    List<String> key = table.key().stream().map(TenantSchema::quote).toList();
    String keyCols = String.join(", ", key);
    this.keyText = key.size() == 1 ? "t." + key.get(0) + "::text"
        : "json_build_array(" + key.stream().map(k -> "t." + k + "::text").collect(Collectors.joining(", "))
            + ")::text";
    String keyParts = key.stream().map(k -> "t." + k + "::text").collect(Collectors.joining(", "));
    // $1 = 1 when there is a lower bound, then the bound's key parts, then the upper bound's ($2n+2 = 1 when set).
    int n = key.size();
    String qualified = key.stream().map(k -> "t." + k).collect(Collectors.joining(", "));
    String lower = "($1 = 0 OR (" + qualified + ") > (" + params(2, n) + "))";
    String upper = "($" + (n + 2) + " = 0 OR (" + qualified + ") <= (" + params(n + 3, n) + "))";
    this.selectTargetKeys = "SELECT " + keyText + " AS k, md5(t::text) AS h, " + keyParts + " FROM "
        + table.quoted() + " t WHERE " + lower + " AND " + upper;
    this.selectKeys = selectTargetKeys + " ORDER BY " + qualified + " LIMIT " + BATCH;
    this.selectRows = "SELECT (to_jsonb(t) - $1::text[])::text FROM " + table.quoted() + " t WHERE " + keyIn(key, 2);
    String columns = table.columns().stream().map(TenantSchema::quote).collect(Collectors.joining(", "));
    List<String> updatable = table.columns().stream().filter(c -> !table.key().contains(c)).toList();
    this.upsert = "INSERT INTO " + table.quoted() + " (" + columns + ") OVERRIDING SYSTEM VALUE SELECT " + columns
        + " FROM jsonb_populate_recordset(NULL::" + table.quoted() + ", $1::text::jsonb) ON CONFLICT (" + keyCols
        + ") DO " + (updatable.isEmpty() ? "NOTHING" : "UPDATE SET " + updatable.stream()
            .map(c -> quote(c) + " = EXCLUDED." + quote(c)).collect(Collectors.joining(", ")));
    this.delete = "DELETE FROM " + table.quoted() + " t WHERE " + keyIn(key, 1);
  }

  /** The rows whose keys are in the text array parameter {@code $p}; by the index when the key is one column. */
  private String keyIn(List<String> key, int p) {
    String type = table.keyTypes().get(0);
    return key.size() == 1 && !type.endsWith("[]") ? "t." + key.get(0) + " = ANY($" + p + "::text[]::" + type + "[])"
        : keyText + " = ANY($" + p + "::text[])";
  }

  private String params(int first, int count) {
    return IntStream.range(0, count).mapToObj(i -> "$" + (first + i) + "::text::" + table.keyTypes().get(i))
        .collect(Collectors.joining(", "));
  }

  /** What one pass did; {@code conflicts} counts batches refused by another unique key, written on a second pass. */
  record Outcome(long rows, long written, long deleted, int conflicts) {}

  /**
   * One pass over the whole table. A batch can collide with a row of another unique key that a later batch deletes
   * (a row replaced under a new primary key); once the pass has deleted everything, a second one writes it.
   */
  Future<Outcome> run() {
    return batch(null, new Outcome(0, 0, 0, 0)).compose(first -> first.conflicts() == 0
        ? Future.succeededFuture(first) : batch(null, new Outcome(0, 0, 0, 0)));
  }

  private Future<Outcome> batch(List<String> after, Outcome sofar) {
    return source.preparedQuery(selectKeys).execute(bounds(after, null)).compose(sourceRows -> {
      Map<String, String> sourceHashes = new HashMap<>();
      for (Row row : sourceRows) {
        sourceHashes.put(row.getString("k"), row.getString("h"));
      }
      List<String> last = lastOf(sourceRows);
      boolean end = sourceRows.size() < BATCH;
      // The target side covers the same key range: up to the last source key, or everything left at the end.
      return target.preparedQuery(selectTargetKeys)
          .execute(bounds(after, end ? null : last)).compose(targetRows -> {
            Map<String, String> targetHashes = new HashMap<>();
            targetRows.forEach(row -> targetHashes.put(row.getString("k"), row.getString("h")));
            List<String> changed = sourceHashes.entrySet().stream()
                .filter(e -> !e.getValue().equals(targetHashes.get(e.getKey()))).map(Map.Entry::getKey).toList();
            List<String> gone = targetHashes.keySet().stream().filter(k -> !sourceHashes.containsKey(k)).toList();
            return remove(gone).compose(v -> copy(changed))
                .map(conflict -> new Outcome(sofar.rows() + sourceHashes.size(), sofar.written() + changed.size(),
                    sofar.deleted() + gone.size(), sofar.conflicts() + (conflict ? 1 : 0)));
          })
          .compose(outcome -> end ? Future.succeededFuture(outcome) : batch(last, outcome));
    });
  }

  private List<String> lastOf(Iterable<Row> rows) {
    List<String> last = null;
    for (Row row : rows) {
      last = keyParts(row);
    }
    return last;
  }

  private List<String> keyParts(Row row) {
    List<String> parts = new ArrayList<>();
    for (int i = 0; i < table.key().size(); i++) {
      parts.add(row.getString(2 + i));
    }
    return parts;
  }

  private Tuple bounds(List<String> after, List<String> upTo) {
    int n = table.key().size();
    Tuple tuple = Tuple.tuple().addInteger(after == null ? 0 : 1);
    for (int i = 0; i < n; i++) {
      tuple.addString(after == null ? null : after.get(i));
    }
    tuple.addInteger(upTo == null ? 0 : 1);
    for (int i = 0; i < n; i++) {
      tuple.addString(upTo == null ? null : upTo.get(i));
    }
    return tuple;
  }

  /** Upserts the rows; true when another unique key refused the batch (nothing of it was written). */
  private Future<Boolean> copy(List<String> keys) {
    if (keys.isEmpty()) {
      return Future.succeededFuture(false);
    }
    return source.preparedQuery(selectRows)
        .execute(Tuple.tuple().addArrayOfString(table.generated().toArray(new String[0]))
            .addArrayOfString(keys.toArray(new String[0])))
        .compose(rows -> {
          StringBuilder json = new StringBuilder("[");
          for (Row row : rows) {
            json.append(json.length() > 1 ? "," : "").append(row.getString(0));
          }
          return target.preparedQuery(upsert).execute(Tuple.of(json.append(']').toString()));
        })
        .map(done -> false)
        .recover(err -> err instanceof PgException pg && "23505".equals(pg.getSqlState())
            ? Future.succeededFuture(true) : Future.failedFuture(err));
  }

  private Future<Void> remove(List<String> keys) {
    return keys.isEmpty() ? Future.succeededFuture()
        : target.preparedQuery(delete).execute(Tuple.tuple().addArrayOfString(keys.toArray(new String[0]))).mapEmpty();
  }

  /** Rows in the table, for the verification after the final pass. */
  static Future<Long> count(Pool db, Table table) {
    return db.query("SELECT count(*) FROM " + table.quoted()).execute()
        .map(rows -> rows.iterator().next().getLong(0));
  }
}
